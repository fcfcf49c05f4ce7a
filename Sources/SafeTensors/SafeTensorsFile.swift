import Foundation

/// Element types the runtime reads.
public enum SafeTensorsDType: String, Sendable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16"

    public var byteSize: Int { self == .f32 ? 4 : 2 }
}

/// One tensor inside a mapped file.
public struct SafeTensor: @unchecked Sendable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Start of the tensor's bytes (inside the mapping; unaligned in general).
    public let data: UnsafeRawPointer
    public let byteCount: Int
}

/// A safetensors file mapped read-only: 8-byte little-endian header length, a JSON header naming
/// each tensor's dtype, shape and [begin, end) offsets into the data section, then the data.
/// Every field is checked before any pointer is handed out, so a corrupt or truncated file is an
/// error naming what is wrong, never a crash.
public final class SafeTensorsFile: @unchecked Sendable {
    public let url: URL
    public let metadata: [String: String]
    private let tensors: [String: SafeTensor]
    private let mapping: UnsafeMutableRawPointer
    private let mappedLength: Int

    public var tensorNames: [String] { Array(tensors.keys) }

    public func tensor(named name: String) -> SafeTensor? { tensors[name] }

    public init(url: URL) throws {
        self.url = url
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SafeTensorsError.io("cannot open \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SafeTensorsError.io("cannot stat \(url.path)") }
        let size = Int(st.st_size)
        guard size >= 8 else { throw SafeTensorsError.truncated("file is \(size) bytes, shorter than the 8-byte header length") }
        guard let map = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED else {
            throw SafeTensorsError.io("cannot map \(url.path): \(String(cString: strerror(errno)))")
        }
        do {
            (metadata, tensors) = try SafeTensorsFile.parse(UnsafeRawPointer(map), size: size)
        } catch {
            munmap(map, size)
            throw error
        }
        mapping = map
        mappedLength = size
    }

    deinit { munmap(mapping, mappedLength) }

    static func parse(_ base: UnsafeRawPointer, size: Int) throws -> ([String: String], [String: SafeTensor]) {
        let headerLength = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(size - 8) else {
            throw SafeTensorsError.truncated("header length \(headerLength) runs past the end of the \(size)-byte file")
        }
        let headerData = Data(bytes: base + 8, count: Int(headerLength))
        guard let root = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any] else {
            throw SafeTensorsError.header("header is not a JSON object")
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = size - dataStart
        var metadata = [String: String]()
        var tensors = [String: SafeTensor]()
        var ranges = [(Int, Int, String)]()
        for (name, value) in root {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw SafeTensorsError.header("__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw SafeTensorsError.header("__metadata__.\(k) is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let entry = value as? [String: Any] else { throw SafeTensorsError.tensor(name, "entry is not an object") }
            guard let dtypeName = entry["dtype"] as? String else { throw SafeTensorsError.tensor(name, "has no dtype") }
            guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
                throw SafeTensorsError.tensor(name, "has dtype \(dtypeName); only F32, F16 and BF16 are supported")
            }
            guard let shapeAny = entry["shape"] as? [Any] else { throw SafeTensorsError.tensor(name, "has no shape") }
            var shape = [Int]()
            var count = 1
            for dim in shapeAny {
                guard let n = dim as? Int, n >= 0, n <= Int(Int32.max) else { throw SafeTensorsError.tensor(name, "has an invalid dimension \(dim)") }
                shape.append(n)
                let (product, overflow) = count.multipliedReportingOverflow(by: n)
                guard !overflow else { throw SafeTensorsError.tensor(name, "has a shape too large") }
                count = product
            }
            guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
                  let begin = offsets[0] as? Int, let end = offsets[1] as? Int else {
                throw SafeTensorsError.tensor(name, "has no valid data_offsets [begin, end]")
            }
            guard begin >= 0, end >= begin, end <= dataSize else {
                throw SafeTensorsError.tensor(name, "data_offsets [\(begin), \(end)] lie outside the \(dataSize)-byte data section")
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, bytes == end - begin else {
                throw SafeTensorsError.tensor(name, "holds \(end - begin) bytes but shape \(shape) of \(dtypeName) needs \(count * dtype.byteSize)")
            }
            ranges.append((begin, end, name))
            tensors[name] = SafeTensor(name: name, dtype: dtype, shape: shape, data: base + dataStart + begin, byteCount: bytes)
        }
        ranges.sort { $0.0 < $1.0 }
        for i in ranges.indices.dropFirst() where ranges[i].0 < ranges[i - 1].1 {
            throw SafeTensorsError.tensor(ranges[i].2, "overlaps tensor '\(ranges[i - 1].2)'")
        }
        return (metadata, tensors)
    }
}

public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    case io(String)
    case truncated(String)
    case header(String)
    case tensor(String, String)

    public var description: String {
        switch self {
        case .io(let m), .truncated(let m), .header(let m): return m
        case .tensor(let name, let m): return "tensor '\(name)' \(m)"
        }
    }
}
