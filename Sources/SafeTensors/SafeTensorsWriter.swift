// Writes safetensors files (tests, tools). Data is laid out in the order tensors are added;
// the header is padded with spaces to a multiple of 8 bytes, as the reference writer does.

import StrictJSON
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct SafeTensorsWriter {
    private var entries: [(name: String, dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8])] = []
    private var names = Set<String>()
    public var metadata: [String: String] = [:]

    public init() {}

    /// Adds a tensor from raw little-endian bytes of `dtype`.
    public mutating func add(_ name: String, dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8]) throws(SafeTensorsError) {
        guard name != "__metadata__", !names.contains(name) else {
            throw .invalidTensorToWrite(name: name, reason: "name already used or reserved")
        }
        let expected = shape.reduce(dtype.byteSize, *)
        guard shape.allSatisfy({ $0 >= 0 }), expected == bytes.count else {
            throw .invalidTensorToWrite(name: name, reason: "shape \(shape) needs \(expected) bytes, got \(bytes.count)")
        }
        names.insert(name)
        entries.append((name, dtype, shape, bytes))
    }

    /// Adds a tensor from f32 values, stored as `dtype` (bf16 rounds to nearest even; I8 and U8
    /// take whole values in their range, anything else is an error).
    public mutating func add(_ name: String, shape: [Int], floats: [Float], as dtype: SafeTensorsDType = .f32) throws(SafeTensorsError) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(floats.count * dtype.byteSize)
        for v in floats {
            switch dtype {
            case .f32: withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
            case .f16: withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { bytes += $0 }
            case .bf16: withUnsafeBytes(of: bfloat16Bits(v).littleEndian) { bytes += $0 }
            case .i8, .u8:
                let byte = dtype == .i8 ? Int8(exactly: v).map { UInt8(bitPattern: $0) } : UInt8(exactly: v)
                guard let byte else { throw .invalidTensorToWrite(name: name, reason: "\(v) is not a \(dtype.rawValue) value") }
                bytes.append(byte)
            }
        }
        try add(name, dtype: dtype, shape: shape, bytes: bytes)
    }

    /// The complete file image.
    public func serialized() -> [UInt8] {
        var json = "{"
        var first = true
        func member(_ key: String, _ value: String) {
            if !first { json += "," }
            first = false
            json += jsonString(key) + ":" + value
        }
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { jsonString($0) + ":" + jsonString(metadata[$0]!) }
            member("__metadata__", "{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for e in entries {
            let shape = "[" + e.shape.map(String.init).joined(separator: ",") + "]"
            member(e.name, "{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":\(shape),\"data_offsets\":[\(offset),\(offset + e.bytes.count)]}")
            offset += e.bytes.count
        }
        json += "}"
        var header = Array(json.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var file: [UInt8] = []
        file.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file += $0 }
        file += header
        for e in entries { file += e.bytes }
        return file
    }

    /// Writes the file to `path` (replacing it).
    public func write(to path: String) throws(SafeTensorsError) {
        let bytes = serialized()
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotWrite(path: path, errno: errno) }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .cannotWrite(path: path, errno: errno)
            }
            written += n
        }
    }
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif

/// f32 -> bf16 bits, rounding to nearest even (NaN stays NaN).
func bfloat16Bits(_ v: Float) -> UInt16 {
    if v.isNaN { return 0x7FC0 }
    let bits = v.bitPattern
    let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
    return UInt16(truncatingIfNeeded: rounded >> 16)
}

/// A JSON string literal.
func jsonString(_ s: String) -> String { JSON.quoted(s) }
