/// Header fields in arrival order; lookups ignore ASCII case, as field names are case-insensitive.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public private(set) var fields: [Field]

    public init(_ fields: [(String, String)] = []) {
        self.fields = fields.map { Field(name: $0.0, value: $0.1) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    public var count: Int { fields.count }
    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    /// The first value for `name`, or nil.
    public subscript(name: String) -> String? {
        fields.first { asciiCaseInsensitiveEquals($0.name, name) }?.value
    }

    public func values(for name: String) -> [String] {
        fields.filter { asciiCaseInsensitiveEquals($0.name, name) }.map(\.value)
    }

    public func contains(_ name: String) -> Bool {
        fields.contains { asciiCaseInsensitiveEquals($0.name, name) }
    }

    public mutating func add(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    public mutating func replaceOrAdd(name: String, value: String) {
        remove(name: name)
        add(name: name, value: value)
    }

    public mutating func remove(name: String) {
        fields.removeAll { asciiCaseInsensitiveEquals($0.name, name) }
    }

    /// Whether a comma-separated header (e.g. Connection) lists `token`, ignoring case.
    public func containsToken(_ token: String, in name: String) -> Bool {
        // Read in place: this runs for every request (Connection, for keep-alive).
        for field in fields where asciiCaseInsensitiveEquals(field.name, name) {
            for part in field.value.split(separator: ",") {
                if asciiCaseInsensitiveEquals(part.trimmingOWS(), token) { return true }
            }
        }
        return false
    }
}

func asciiCaseInsensitiveEquals<A: StringProtocol, B: StringProtocol>(_ a: A, _ b: B) -> Bool {
    let x = a.utf8, y = b.utf8
    guard x.count == y.count else { return false }
    // Over the bytes in place where both have them (native strings do): header look-ups run
    // several times per request, and stepping two UTF8View iterators in step was 1% of a probe.
    let inPlace = x.withContiguousStorageIfAvailable { xs in
        y.withContiguousStorageIfAvailable { ys in
            for i in 0..<xs.count where asciiLower(xs[i]) != asciiLower(ys[i]) { return false }
            return true
        }
    }
    if let inPlace, let result = inPlace { return result }
    for (p, q) in zip(x, y) where asciiLower(p) != asciiLower(q) { return false }
    return true
}

@inline(__always)
func asciiLower(_ byte: UInt8) -> UInt8 {
    byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
}

extension StringProtocol {
    /// Strips optional whitespace (SP / HTAB) from both ends, per RFC 9110 5.6.3.
    func trimmingOWS() -> Substring {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}
