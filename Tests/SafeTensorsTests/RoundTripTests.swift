import SafeTensors
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct RoundTripTests {
    static let values: [Float] = [0, 1, -2.5, 3.25, 1e-3, -65504, 0.1, 7]

    func sampleWriter() throws -> SafeTensorsWriter {
        var w = SafeTensorsWriter()
        w.metadata = ["format": "pt", "note": "quote \" and \\ and \n"]
        try w.add("model.embed.weight", shape: [2, 4], floats: Self.values, as: .f32)
        try w.add("layers.0.attn.q.weight", shape: [4, 2], floats: Self.values, as: .bf16)
        try w.add("layers.0.mlp.up.weight", shape: [8], floats: Self.values, as: .f16)
        try w.add("scalar", shape: [], floats: [42], as: .f32)
        try w.add("empty", shape: [0, 3], floats: [], as: .bf16)
        try w.add("ünïcode name ✓", shape: [1, 1], floats: [5], as: .f16)
        return w
    }

    @Test func roundTripInMemory() throws {
        let file = try SafeTensorsFile(bytes: try sampleWriter().serialized())
        try check(file)
    }

    @Test func roundTripThroughMappedFile() throws {
        let path = "/tmp/dlcm-safetensors-test-\(getpid()).safetensors"
        defer { unlink(path) }
        try sampleWriter().write(to: path)
        let file = try SafeTensorsFile(path: path)
        try check(file)
    }

    func check(_ file: SafeTensorsFile) throws {
        #expect(file.metadata == ["format": "pt", "note": "quote \" and \\ and \n"])
        #expect(Set(file.names) == ["model.embed.weight", "layers.0.attn.q.weight", "layers.0.mlp.up.weight",
                                    "scalar", "empty", "ünïcode name ✓"])
        #expect(try file.floats("model.embed.weight") == Self.values)
        // bf16 keeps 8 significant bits: these values are exact except 0.1 and 1e-3.
        let bf = try file.floats("layers.0.attn.q.weight")
        for (a, b) in zip(bf, Self.values) { #expect(abs(a - b) <= abs(b) / 128) }
        #expect(try file.info("layers.0.attn.q.weight").dtype == .bf16)
        let h = try file.floats("layers.0.mlp.up.weight")
        for (a, b) in zip(h, Self.values) { #expect(abs(a - b) <= abs(b) / 1024) }
        #expect(try file.floats("scalar") == [42])
        #expect(try file.info("scalar").shape == [])
        #expect(try file.floats("empty") == [])
        #expect(try file.floats("ünïcode name ✓") == [5])
        #expect(try file.data("model.embed.weight").count == 32)

        try file.checkShape("model.embed.weight", [2, 4])
        try file.checkShape("model.embed.weight", [2, 4], dtype: .f32)
        #expect(throws: SafeTensorsError.shapeMismatch(tensor: "model.embed.weight", expected: [4, 2], actual: [2, 4])) {
            try file.checkShape("model.embed.weight", [4, 2])
        }
        #expect(throws: SafeTensorsError.dtypeMismatch(tensor: "scalar", expected: .bf16, actual: .f32)) {
            try file.checkShape("scalar", [], dtype: .bf16)
        }
        #expect(throws: SafeTensorsError.tensorNotFound(name: "nope")) { try file.floats("nope") }

        let expected: Set<String> = ["model.embed.weight", "layers.0.attn.q.weight", "layers.0.mlp.up.weight",
                                     "scalar", "missing.a", "missing.b"]
        let (missing, unexpected) = file.compareNames(expected: expected)
        #expect(missing == ["missing.a", "missing.b"])
        #expect(unexpected == ["empty", "ünïcode name ✓"])
        #expect(throws: SafeTensorsError.namesMismatch(missing: missing, unexpected: unexpected)) {
            try file.requireNames(exactly: expected)
        }
        try file.requireNames(exactly: Set(file.names))

        var buffer = [Float](repeating: 0, count: 8)
        try buffer.withUnsafeMutableBufferPointer { try file.copyFloats("layers.0.mlp.up.weight", into: $0) }
        #expect(buffer == h)
        var small = [Float](repeating: 0, count: 3)
        #expect(throws: SafeTensorsError.bufferSizeMismatch(tensor: "scalar", expected: 1, actual: 3)) {
            try small.withUnsafeMutableBufferPointer { try file.copyFloats("scalar", into: $0) }
        }
    }

    @Test func headerIsPaddedAndDataContiguous() throws {
        let bytes = try sampleWriter().serialized()
        let length = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(length % 8 == 0)
    }

    @Test func writerRejectsBadTensors() {
        var w = SafeTensorsWriter()
        #expect(throws: SafeTensorsError.self) { try w.add("a", dtype: .f32, shape: [2], bytes: [0, 0, 0, 0]) }
        #expect(throws: Never.self) { try w.add("a", shape: [1], floats: [1]) }
        #expect(throws: SafeTensorsError.self) { try w.add("a", shape: [1], floats: [1]) }
        #expect(throws: SafeTensorsError.self) { try w.add("__metadata__", shape: [1], floats: [1]) }
    }

    @Test func bytesRoundTrip() throws {
        // The codes of quantized weights: I8 and U8, one byte an element, read back as written.
        var w = SafeTensorsWriter()
        try w.add("codes.q", dtype: .i8, shape: [2, 3], bytes: [0x00, 0x7F, 0x81, 0xFF, 0x01, 0x80])
        try w.add("nibbles.q", shape: [4], floats: [0, 15, 255, 16], as: .u8)
        try w.add("signed", shape: [3], floats: [-128, 127, -1], as: .i8)
        #expect(throws: SafeTensorsError.self) { try w.add("x", shape: [1], floats: [128], as: .i8) }
        #expect(throws: SafeTensorsError.self) { try w.add("y", shape: [1], floats: [0.5], as: .u8) }
        #expect(throws: SafeTensorsError.self) { try w.add("z", shape: [1], floats: [-1], as: .u8) }
        let file = try SafeTensorsFile(bytes: w.serialized())
        #expect(try file.info("codes.q").dtype == .i8)
        #expect(try file.floats("codes.q") == [0, 127, -127, -1, 1, -128])
        #expect(try file.info("nibbles.q").dtype == .u8)
        #expect(try file.floats("nibbles.q") == [0, 15, 255, 16])
        #expect(Array(try file.data("signed")) == [0x80, 0x7F, 0xFF])
        #expect(try file.data("codes.q").count == 6)
    }

    @Test func errorsDescribeThemselves() {
        let e = SafeTensorsError.unsupportedDType(tensor: "w", dtype: "F64")
        #expect(e.description == "tensor 'w' has dtype F64; only F32, F16, BF16, I8 and U8 are supported")
        #expect(SafeTensorsError.namesMismatch(missing: ["a"], unexpected: ["b"]).description
                == "missing tensors: a; unexpected tensors: b")
    }
}
