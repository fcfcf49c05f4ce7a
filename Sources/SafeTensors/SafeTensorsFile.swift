// A safetensors file mapped read-only (MAP_PRIVATE) into memory: tensors are views into the
// mapping, valid while the `SafeTensorsFile` is alive. The whole layout is validated on open.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class SafeTensorsFile: @unchecked Sendable {
    /// Tensors in data order.
    public let tensors: [SafeTensorInfo]
    /// The `__metadata__` strings (empty when absent).
    public let metadata: [String: String]

    private let index: [String: Int]
    private let mapping: UnsafeRawBufferPointer
    /// munmap'ed on deinit (nil when the bytes were copied into an allocation instead).
    private let isMapped: Bool
    private let dataStart: Int

    /// Maps and validates the file at `path`.
    public convenience init(path: String) throws(SafeTensorsError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .cannotOpen(path: path, errno: errno) }
        let size = Int(info.st_size)
        guard size >= 8 else { throw .fileTooSmall(size: size) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw .cannotMap(path: path, errno: errno)
        }
        let mapping = UnsafeRawBufferPointer(start: base, count: size)
        do {
            try self.init(validating: mapping, isMapped: true)
        } catch {
            munmap(base, size)
            throw error
        }
    }

    /// Validates a file image held in memory (copied; useful for tests and fuzzing).
    public convenience init(bytes: [UInt8]) throws(SafeTensorsError) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        copy.copyBytes(from: bytes)
        let image = UnsafeRawBufferPointer(start: copy.baseAddress, count: bytes.count)
        do {
            try self.init(validating: image, isMapped: false)
        } catch {
            copy.deallocate()
            throw error
        }
    }

    private init(validating image: UnsafeRawBufferPointer, isMapped: Bool) throws(SafeTensorsError) {
        let header = try SafeTensorsHeader.parse(image)
        tensors = header.tensors
        metadata = header.metadata
        dataStart = header.dataStart
        mapping = image
        self.isMapped = isMapped
        var index: [String: Int] = [:]
        for (i, t) in tensors.enumerated() { index[t.name] = i }
        self.index = index
    }

    deinit {
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: mapping.baseAddress), mapping.count)
        } else {
            UnsafeMutableRawPointer(mutating: mapping.baseAddress)?.deallocate()
        }
    }

    /// Tensor names, in data order.
    public var names: [String] { tensors.map(\.name) }

    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// The description of tensor `name`.
    public func info(_ name: String) throws(SafeTensorsError) -> SafeTensorInfo {
        guard let i = index[name] else { throw .tensorNotFound(name: name) }
        return tensors[i]
    }

    /// Start of tensor `name`'s bytes (any alignment; valid while this file is alive).
    public func data(_ name: String) throws(SafeTensorsError) -> UnsafeRawBufferPointer {
        let t = try info(name)
        return UnsafeRawBufferPointer(rebasing: mapping[(dataStart + t.dataOffsets.lowerBound)..<(dataStart + t.dataOffsets.upperBound)])
    }

    /// Tensor `name`, checking its shape (and dtype, when given).
    @discardableResult
    public func checkShape(_ name: String, _ expected: [Int], dtype: SafeTensorsDType? = nil) throws(SafeTensorsError) -> SafeTensorInfo {
        let t = try info(name)
        guard t.shape == expected else { throw .shapeMismatch(tensor: name, expected: expected, actual: t.shape) }
        if let dtype, dtype != t.dtype { throw .dtypeMismatch(tensor: name, expected: dtype, actual: t.dtype) }
        return t
    }

    /// Names expected but absent, and present but not expected (each sorted).
    public func compareNames(expected: Set<String>) -> (missing: [String], unexpected: [String]) {
        let present = Set(index.keys)
        return (expected.subtracting(present).sorted(), present.subtracting(expected).sorted())
    }

    /// Throws `.namesMismatch` naming every missing and unexpected tensor unless the file holds
    /// exactly `expected`.
    public func requireNames(exactly expected: Set<String>) throws(SafeTensorsError) {
        let (missing, unexpected) = compareNames(expected: expected)
        if !missing.isEmpty || !unexpected.isEmpty { throw .namesMismatch(missing: missing, unexpected: unexpected) }
    }

    /// Tensor `name` decoded to f32.
    public func floats(_ name: String) throws(SafeTensorsError) -> [Float] {
        let t = try info(name)
        return try [Float](unsafeUninitializedCapacity: t.elementCount) { buffer, count throws(SafeTensorsError) in
            try copyFloats(name, into: buffer)
            count = t.elementCount
        }
    }

    /// Decodes tensor `name` to f32 into `destination`, which must hold exactly its element count.
    public func copyFloats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws(SafeTensorsError) {
        let t = try info(name)
        guard destination.count == t.elementCount else {
            throw .bufferSizeMismatch(tensor: name, expected: t.elementCount, actual: destination.count)
        }
        decodeToFloat(try data(name), dtype: t.dtype, into: destination)
    }
}

/// Decodes `source` (elements of `dtype`, little-endian, any alignment) into `destination`.
func decodeToFloat(_ source: UnsafeRawBufferPointer, dtype: SafeTensorsDType, into destination: UnsafeMutableBufferPointer<Float>) {
    guard let out = destination.baseAddress, let src = source.baseAddress else { return }
    let n = destination.count
    switch dtype {
    case .f32:
        UnsafeMutableRawPointer(out).copyMemory(from: src, byteCount: n * 4)
    case .bf16:
        for i in 0..<n {
            let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            out[i] = Float(bitPattern: UInt32(bits) << 16)
        }
    case .f16:
        for i in 0..<n {
            let bits = UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            out[i] = Float(Float16(bitPattern: bits))
        }
    case .i8:
        for i in 0..<n { out[i] = Float(src.load(fromByteOffset: i, as: Int8.self)) }
    case .u8:
        for i in 0..<n { out[i] = Float(src.load(fromByteOffset: i, as: UInt8.self)) }
    }
}
