import SafeTensors
import Testing

/// A file image from a raw header string and data bytes (header length computed).
func image(header: String, data: [UInt8] = [], lengthOverride: UInt64? = nil) -> [UInt8] {
    let h = Array(header.utf8)
    var bytes: [UInt8] = []
    withUnsafeBytes(of: (lengthOverride ?? UInt64(h.count)).littleEndian) { bytes += $0 }
    return bytes + h + data
}

func entry(_ name: String, _ dtype: String = "F32", _ shape: String = "[2]", _ offsets: String = "[0,8]") -> String {
    "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
}

let eightBytes = [UInt8](repeating: 0, count: 8)

@Suite struct CorruptFileTests {
    func expectError(_ expected: SafeTensorsError, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: expected, sourceLocation: sourceLocation) { _ = try SafeTensorsFile(bytes: bytes) }
    }

    func expectInvalidJSON(_ header: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try SafeTensorsFile(bytes: image(header: header))
            Issue.record("accepted bad JSON: \(header)", sourceLocation: sourceLocation)
        } catch {
            guard case .invalidJSON = error else {
                Issue.record("expected invalidJSON for \(header), got \(error)", sourceLocation: sourceLocation)
                return
            }
        }
    }

    @Test func tooSmallAndTruncatedHeaders() {
        expectError(.fileTooSmall(size: 0), [])
        expectError(.fileTooSmall(size: 5), [1, 0, 0, 0, 0])
        // Header length says 100 bytes, the file has 8 + 10.
        expectError(.headerPastEndOfFile(length: 100, fileSize: 18), image(header: "{\"a\":1}   ", lengthOverride: 100))
        // Header cut short: valid prefix "{" + truncated JSON.
        let full = image(header: "{" + entry("w") + "}", data: eightBytes)
        expectError(.headerPastEndOfFile(length: UInt64(full.count - 16), fileSize: 30), Array(full[0..<30]))
        // Huge length prefixes.
        expectError(.headerPastEndOfFile(length: UInt64.max, fileSize: 10), image(header: "{}", lengthOverride: UInt64.max))
        expectError(.headerPastEndOfFile(length: 1 << 40, fileSize: 10), image(header: "{}", lengthOverride: 1 << 40))
    }

    @Test func truncatedData() {
        let full = image(header: "{" + entry("w") + "}", data: eightBytes)
        expectError(.offsetsOutOfBounds(tensor: "w", begin: 0, end: 8, dataSize: 5), Array(full.dropLast(3)))
    }

    @Test func badJSON() {
        for header in [
            "", "{", "{\"a\":", "{\"a\"}", "{\"a\":1,}", "{,}", "[1,]", "{\"a\":tru}", "{\"a\":01}",
            "{\"a\":1.}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":\"x}", "{\"a\":\"\\q\"}", "{\"a\":\"\\u12\"}",
            "{\"a\":\"\\ud800\"}", "{\"a\":\"\u{01}\"}", "{'a':1}", "{\"a\":1} x", "{\"a\":1}{}",
            "{\"a\":1,\"a\":2}", String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
            "{\"a\":[1e400]}",   // no number that size: the parser refuses it, before any field check
        ] {
            expectInvalidJSON(header)
        }
        // Invalid UTF-8 inside a string.
        var bytes = image(header: "{\"ab\":1}")
        bytes[10] = 0xFF
        #expect(throws: SafeTensorsError.self) { _ = try SafeTensorsFile(bytes: bytes) }
    }

    @Test func headerNotAnObject() {
        expectError(.headerNotAnObject, image(header: "[]"))
        expectError(.headerNotAnObject, image(header: "\"x\""))
    }

    @Test func entryFieldsChecked() {
        func invalid(_ header: String, _ tensor: String = "w", data: [UInt8] = eightBytes, sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                _ = try SafeTensorsFile(bytes: image(header: header, data: data))
                Issue.record("accepted: \(header)", sourceLocation: sourceLocation)
            } catch {
                guard case let .invalidEntry(name, _) = error, name == tensor else {
                    Issue.record("expected invalidEntry(\(tensor)) for \(header), got \(error)", sourceLocation: sourceLocation)
                    return
                }
            }
        }
        invalid("{\"w\":1}")
        invalid("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}")
        invalid("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}")
        invalid("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}")
        invalid("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}")
        invalid("{" + entry("w", "F32", "\"2\"") + "}")
        invalid("{\"w\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}")
        invalid("{" + entry("w", "F32", "[-2]") + "}")
        invalid("{" + entry("w", "F32", "[2.0]") + "}")
        invalid("{" + entry("w", "F32", "[99999999999999999999999]") + "}")
        invalid("{" + entry("w", "F32", "[null]") + "}")
        invalid("{" + entry("w", "F32", "[2]", "[0]") + "}")
        invalid("{" + entry("w", "F32", "[2]", "[0,4,8]") + "}")
        invalid("{" + entry("w", "F32", "[2]", "[0,18446744073709551616]") + "}")
        invalid("{" + entry("w", "F32", "[2]", "{}") + "}")
        // Element count overflows Int.
        invalid("{" + entry("w", "F32", "[4294967296,4294967296,16]") + "}")
    }

    @Test func unsupportedDTypes() {
        for dtype in ["F64", "I64", "I16", "U16", "BOOL", "F8_E4M3", "f32", "i8", ""] {
            expectError(.unsupportedDType(tensor: "w", dtype: dtype), image(header: "{" + entry("w", dtype) + "}", data: eightBytes))
        }
    }

    @Test func offsetsAndSizes() {
        // End past the data section; begin after end.
        expectError(.offsetsOutOfBounds(tensor: "w", begin: 0, end: 16, dataSize: 8),
                    image(header: "{" + entry("w", "F32", "[4]", "[0,16]") + "}", data: eightBytes))
        expectError(.offsetsOutOfBounds(tensor: "w", begin: 8, end: 0, dataSize: 8),
                    image(header: "{" + entry("w", "F32", "[2]", "[8,0]") + "}", data: eightBytes))
        // Wrong size for shape x dtype.
        expectError(.sizeMismatch(tensor: "w", expectedBytes: 16, actualBytes: 8),
                    image(header: "{" + entry("w", "F32", "[2,2]") + "}", data: eightBytes))
        expectError(.sizeMismatch(tensor: "w", expectedBytes: 4, actualBytes: 8),
                    image(header: "{" + entry("w", "BF16", "[2]") + "}", data: eightBytes))
        // Overlap.
        let twelve = [UInt8](repeating: 0, count: 12)
        expectError(.overlappingTensors(first: "a", second: "b"),
                    image(header: "{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[2]", "[4,12]") + "}", data: twelve))
        // Hole between tensors, and bytes after the last one.
        expectError(.uncoveredData(afterTensor: "a", offset: 4, dataSize: 12),
                    image(header: "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "F32", "[1]", "[8,12]") + "}", data: twelve))
        expectError(.uncoveredData(afterTensor: "a", offset: 8, dataSize: 12),
                    image(header: "{" + entry("a") + "}", data: twelve))
        expectError(.uncoveredData(afterTensor: nil, offset: 0, dataSize: 8),
                    image(header: "{}", data: eightBytes))
    }

    @Test func metadataChecked() {
        expectError(.invalidMetadata(reason: "value of 'n' is a number, expected a string"),
                    image(header: "{\"__metadata__\":{\"n\":1}}"))
        expectError(.invalidMetadata(reason: "expected an object, found an array"),
                    image(header: "{\"__metadata__\":[]}"))
        // Valid: metadata only, no tensors, header padded with spaces.
        #expect(throws: Never.self) { _ = try SafeTensorsFile(bytes: image(header: "{\"__metadata__\":{\"a\":\"b\"}}   ")) }
    }

    @Test func missingFile() {
        #expect(throws: SafeTensorsError.cannotOpen(path: "/nonexistent/x.safetensors", errno: 2)) {
            _ = try SafeTensorsFile(path: "/nonexistent/x.safetensors")
        }
    }

    /// Random byte flips, truncations and insertions of a valid file: must parse or throw, never crash.
    @Test func mutationsNeverCrash() throws {
        var w = SafeTensorsWriter()
        w.metadata = ["k": "v"]
        try w.add("a.weight", shape: [3, 5], floats: (0..<15).map(Float.init), as: .bf16)
        try w.add("b", shape: [4], floats: [1, 2, 3, 4])
        let valid = w.serialized()
        var state: UInt64 = 0x1234_5678_9ABC_DEF1
        func next(_ n: Int) -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % UInt64(n))
        }
        var accepted = 0
        for _ in 0..<3000 {
            var bytes = valid
            for _ in 0...next(3) {
                switch next(4) {
                case 0: bytes[next(bytes.count)] = UInt8(next(256))
                case 1: bytes[next(bytes.count)] = Array("{}[],:\"0123456789-e.".utf8)[next(20)]
                case 2: bytes = Array(bytes.prefix(next(bytes.count + 1)))
                default: bytes.insert(UInt8(next(256)), at: next(bytes.count + 1))
                }
                if bytes.isEmpty { break }
            }
            if let file = try? SafeTensorsFile(bytes: bytes) {
                accepted += 1
                for name in file.names { _ = try file.floats(name) }
            }
        }
        #expect(accepted < 3000)
    }
}
