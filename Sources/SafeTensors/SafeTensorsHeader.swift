// Validation of the safetensors layout:
//   [8 bytes: header length N, little-endian u64][N bytes: JSON header][data section]
// Header: { "__metadata__": {string: string}?, name: {"dtype", "shape", "data_offsets"}, ... }
// data_offsets are [begin, end) relative to the data section; together the tensors must cover
// it exactly (sorted, no overlap, no holes), as the reference implementation requires.

import StrictJSON

/// Where one tensor lives, as described by the header.
public struct SafeTensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Byte range within the data section.
    public let dataOffsets: Range<Int>

    /// Product of the shape (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { dataOffsets.count }
}

/// The parsed, validated header.
struct SafeTensorsHeader {
    /// Headers larger than this are rejected before parsing (the reference reader uses 100 MB).
    static let maxHeaderLength = 100_000_000
    /// Nesting allowed in a header (it needs 3: an object of objects of arrays).
    static let headerMaxDepth = 32

    /// Tensors in data order.
    var tensors: [SafeTensorInfo]
    var metadata: [String: String]
    /// Offset of the data section from the start of the file.
    var dataStart: Int

    /// Validates the whole file image `file` (header and data section bounds).
    static func parse(_ file: UnsafeRawBufferPointer) throws(SafeTensorsError) -> SafeTensorsHeader {
        guard file.count >= 8 else { throw .fileTooSmall(size: file.count) }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(file[i]) << (8 * UInt64(i)) }
        guard length <= UInt64(maxHeaderLength) else {
            throw length > UInt64(file.count - 8)
                ? .headerPastEndOfFile(length: length, fileSize: file.count)
                : .headerTooLarge(length: length, limit: maxHeaderLength)
        }
        guard length <= UInt64(file.count - 8) else {
            throw .headerPastEndOfFile(length: length, fileSize: file.count)
        }
        let headerLength = Int(length)
        let dataStart = 8 + headerLength
        let dataSize = file.count - dataStart
        let json: JSON
        do {
            // Strict (duplicate keys, control bytes, invalid UTF-8 and lone surrogates are errors),
            // nested 32 deep at most: a header is an object of objects of arrays.
            json = try JSONParser.parse(UnsafeRawBufferPointer(rebasing: file[8..<dataStart]).assumingMemoryBound(to: UInt8.self),
                                        maxDepth: headerMaxDepth, skipByteOrderMark: false)
        } catch {
            throw .invalidJSON(offset: error.offset, reason: error.reason)
        }
        guard case let .object(members) = json else { throw .headerNotAnObject }

        var metadata: [String: String] = [:]
        var tensors: [SafeTensorInfo] = []
        for (name, value) in members {
            if name == "__metadata__" {
                metadata = try parseMetadata(value)
            } else {
                tensors.append(try parseEntry(name: name, value, dataSize: dataSize))
            }
        }
        try checkCoverage(&tensors, dataSize: dataSize)
        return SafeTensorsHeader(tensors: tensors, metadata: metadata, dataStart: dataStart)
    }

    private static func parseMetadata(_ value: JSON) throws(SafeTensorsError) -> [String: String] {
        guard case let .object(members) = value else {
            throw .invalidMetadata(reason: "expected an object, found \(value.kind)")
        }
        var metadata: [String: String] = [:]
        for (key, value) in members {
            guard case let .string(s) = value else {
                throw .invalidMetadata(reason: "value of '\(key)' is \(value.kind), expected a string")
            }
            metadata[key] = s
        }
        return metadata
    }

    private static func parseEntry(name: String, _ value: JSON, dataSize: Int) throws(SafeTensorsError) -> SafeTensorInfo {
        guard case let .object(fields) = value else {
            throw .invalidEntry(tensor: name, reason: "entry is \(value.kind), expected an object")
        }
        var dtypeValue: JSON?, shapeValue: JSON?, offsetsValue: JSON?
        for (key, v) in fields {
            switch key {
            case "dtype": dtypeValue = v
            case "shape": shapeValue = v
            case "data_offsets": offsetsValue = v
            default: throw .invalidEntry(tensor: name, reason: "unknown field '\(key)'")
            }
        }
        guard let dtypeValue else { throw .invalidEntry(tensor: name, reason: "missing field 'dtype'") }
        guard let shapeValue else { throw .invalidEntry(tensor: name, reason: "missing field 'shape'") }
        guard let offsetsValue else { throw .invalidEntry(tensor: name, reason: "missing field 'data_offsets'") }

        guard case let .string(dtypeName) = dtypeValue else {
            throw .invalidEntry(tensor: name, reason: "'dtype' is \(dtypeValue.kind), expected a string")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw .unsupportedDType(tensor: name, dtype: dtypeName)
        }
        let shape = try nonNegativeIntegers(shapeValue, field: "shape", tensor: name)
        let offsets = try nonNegativeIntegers(offsetsValue, field: "data_offsets", tensor: name)
        guard offsets.count == 2 else {
            throw .invalidEntry(tensor: name, reason: "'data_offsets' has \(offsets.count) elements, expected 2")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end, end <= dataSize else {
            throw .offsetsOutOfBounds(tensor: name, begin: begin, end: end, dataSize: dataSize)
        }
        var bytes = dtype.byteSize
        for dim in shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: dim)
            guard !overflow else {
                throw .invalidEntry(tensor: name, reason: "shape \(shape) is too large")
            }
            bytes = product
        }
        guard bytes == end - begin else {
            throw .sizeMismatch(tensor: name, expectedBytes: bytes, actualBytes: end - begin)
        }
        return SafeTensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }

    private static func nonNegativeIntegers(_ value: JSON, field: String, tensor: String) throws(SafeTensorsError) -> [Int] {
        guard case let .array(elements) = value else {
            throw .invalidEntry(tensor: tensor, reason: "'\(field)' is \(value.kind), expected an array of integers")
        }
        var result: [Int] = []
        for (i, element) in elements.enumerated() {
            switch element {
            case let .int(n) where n >= 0:
                result.append(n)
            case let .int(n):
                throw .invalidEntry(tensor: tensor, reason: "'\(field)'[\(i)] is negative (\(n))")
            case let .double(d):
                throw .invalidEntry(tensor: tensor, reason: "'\(field)'[\(i)] is not an integer in range: \(d)")
            default:
                throw .invalidEntry(tensor: tensor, reason: "'\(field)'[\(i)] is \(element.kind), expected an integer")
            }
        }
        return result
    }

    /// Sorts by offset and checks the tensors tile the data section exactly.
    private static func checkCoverage(_ tensors: inout [SafeTensorInfo], dataSize: Int) throws(SafeTensorsError) {
        tensors.sort {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound)
        }
        var end = 0
        var previous: SafeTensorInfo?
        for t in tensors {
            if t.dataOffsets.lowerBound < end, let previous {
                throw .overlappingTensors(first: previous.name, second: t.name)
            }
            if t.dataOffsets.lowerBound > end {
                throw .uncoveredData(afterTensor: previous?.name, offset: end, dataSize: dataSize)
            }
            end = t.dataOffsets.upperBound
            previous = t
        }
        if end != dataSize {
            throw .uncoveredData(afterTensor: previous?.name, offset: end, dataSize: dataSize)
        }
    }
}
