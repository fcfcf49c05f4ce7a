/// Everything that can go wrong reading (or writing) a safetensors file. Messages name the
/// file part or tensor concerned; a corrupt file always ends up here, never in a crash.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, errno: Int32)
    case cannotMap(path: String, errno: Int32)
    case cannotWrite(path: String, errno: Int32)
    /// Shorter than the 8-byte header length prefix.
    case fileTooSmall(size: Int)
    /// The header length prefix is beyond `limit` (a corrupt or hostile prefix).
    case headerTooLarge(length: UInt64, limit: Int)
    /// The header length prefix points past the end of the file.
    case headerPastEndOfFile(length: UInt64, fileSize: Int)
    /// The header is not well-formed JSON (byte offset within the header).
    case invalidJSON(offset: Int, reason: String)
    /// The header is JSON but not an object.
    case headerNotAnObject
    /// `__metadata__` is not an object of strings.
    case invalidMetadata(reason: String)
    /// A tensor entry lacks a field or has one of the wrong type.
    case invalidEntry(tensor: String, reason: String)
    /// A dtype other than F32, F16, BF16, I8, U8.
    case unsupportedDType(tensor: String, dtype: String)
    /// data_offsets span a different byte count than shape × dtype size.
    case sizeMismatch(tensor: String, expectedBytes: Int, actualBytes: Int)
    /// data_offsets reversed or past the end of the data section.
    case offsetsOutOfBounds(tensor: String, begin: Int, end: Int, dataSize: Int)
    /// Two tensors share bytes.
    case overlappingTensors(first: String, second: String)
    /// Bytes of the data section belong to no tensor (the format forbids holes).
    case uncoveredData(afterTensor: String?, offset: Int, dataSize: Int)
    case tensorNotFound(name: String)
    case dtypeMismatch(tensor: String, expected: SafeTensorsDType, actual: SafeTensorsDType)
    case shapeMismatch(tensor: String, expected: [Int], actual: [Int])
    case namesMismatch(missing: [String], unexpected: [String])
    /// A destination buffer of the wrong size.
    case bufferSizeMismatch(tensor: String, expected: Int, actual: Int)
    /// Writer: a name used twice, or bytes not matching the shape.
    case invalidTensorToWrite(name: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, e): return "cannot open safetensors file '\(path)' (errno \(e))"
        case let .cannotMap(path, e): return "cannot memory-map safetensors file '\(path)' (errno \(e))"
        case let .cannotWrite(path, e): return "cannot write safetensors file '\(path)' (errno \(e))"
        case let .fileTooSmall(size):
            return "safetensors file is \(size) bytes, too small for the 8-byte header length"
        case let .headerTooLarge(length, limit):
            return "safetensors header length \(length) exceeds the limit of \(limit) bytes (corrupt file?)"
        case let .headerPastEndOfFile(length, fileSize):
            return "safetensors header length \(length) runs past the end of the \(fileSize)-byte file (truncated?)"
        case let .invalidJSON(offset, reason):
            return "safetensors header is not valid JSON at byte \(offset): \(reason)"
        case .headerNotAnObject: return "safetensors header is not a JSON object"
        case let .invalidMetadata(reason): return "safetensors __metadata__ is invalid: \(reason)"
        case let .invalidEntry(tensor, reason): return "tensor '\(tensor)': \(reason)"
        case let .unsupportedDType(tensor, dtype):
            return "tensor '\(tensor)' has dtype \(dtype); only F32, F16, BF16, I8 and U8 are supported"
        case let .sizeMismatch(tensor, expected, actual):
            return "tensor '\(tensor)': shape and dtype need \(expected) bytes but data_offsets span \(actual)"
        case let .offsetsOutOfBounds(tensor, begin, end, size):
            return "tensor '\(tensor)': data_offsets [\(begin), \(end)] are not inside the \(size)-byte data section"
        case let .overlappingTensors(first, second):
            return "tensors '\(first)' and '\(second)' overlap in the data section"
        case let .uncoveredData(after, offset, size):
            let place = after.map { "after tensor '\($0)'" } ?? "at the start"
            return "data section (\(size) bytes) has bytes that belong to no tensor \(place), at offset \(offset)"
        case let .tensorNotFound(name): return "tensor '\(name)' not found"
        case let .dtypeMismatch(tensor, expected, actual):
            return "tensor '\(tensor)' has dtype \(actual.rawValue), expected \(expected.rawValue)"
        case let .shapeMismatch(tensor, expected, actual):
            return "tensor '\(tensor)' has shape \(actual), expected \(expected)"
        case let .namesMismatch(missing, unexpected):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing tensors: \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty { parts.append("unexpected tensors: \(unexpected.joined(separator: ", "))") }
            return parts.joined(separator: "; ")
        case let .bufferSizeMismatch(tensor, expected, actual):
            return "tensor '\(tensor)' has \(expected) elements but the buffer holds \(actual)"
        case let .invalidTensorToWrite(name, reason): return "cannot write tensor '\(name)': \(reason)"
        }
    }
}
