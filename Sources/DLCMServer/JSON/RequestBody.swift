import StrictJSON
/// Typed access to a JSON request object. null counts as absent; a value of the wrong type is a
/// 400 naming the parameter. Unknown fields are ignored (OpenAI clients send extras).
struct RequestBody {
    let json: JSON
    /// Where this object sits in the request ("dlcm." for the `dlcm` extension object), so that an
    /// error names the field as the client wrote it: `dlcm.timeout`, not `timeout`.
    var path = ""

    init(_ bytes: [UInt8]) throws {
        json = try JSON.parse(bytes)
        guard case .object = json else { throw APIError.badRequest("the request body must be a JSON object") }
    }

    init(json: JSON, path: String = "") {
        self.json = json
        self.path = path
    }

    func value(_ key: String) -> JSON? {
        guard let v = json[key], v != .null else { return nil }
        return v
    }

    func int(_ key: String) throws -> Int? {
        switch value(key) {
        case nil: return nil
        case .int(let i): return i
        case .double(let d) where d == d.rounded() && abs(d) < 1e15: return Int(d)
        default: throw APIError.invalid(path + key, "must be an integer")
        }
    }

    func float(_ key: String) throws -> Float? {
        switch value(key) {
        case nil: return nil
        case .int(let i): return Float(i)
        case .double(let d): return Float(d)
        default: throw APIError.invalid(path + key, "must be a number")
        }
    }

    /// A number kept at full precision (a `Float` turns 1e-50 into 0 and 1e300 into infinity).
    func double(_ key: String) throws -> Double? {
        switch value(key) {
        case nil: return nil
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: throw APIError.invalid(path + key, "must be a number")
        }
    }

    func bool(_ key: String) throws -> Bool? {
        switch value(key) {
        case nil: return nil
        case .bool(let b): return b
        default: throw APIError.invalid(path + key, "must be true or false")
        }
    }

    func string(_ key: String) throws -> String? {
        switch value(key) {
        case nil: return nil
        case .string(let s): return s
        default: throw APIError.invalid(path + key, "must be a string")
        }
    }

    func object(_ key: String) throws -> RequestBody? {
        switch value(key) {
        case nil: return nil
        case .object: return RequestBody(json: value(key)!, path: path + key + ".")
        default: throw APIError.invalid(path + key, "must be an object")
        }
    }

    /// An array of token ids.
    func tokens(_ key: String, vocabSize: Int) throws -> [Int32]? {
        guard let v = value(key) else { return nil }
        return try Self.tokenArray(v, param: path + key, vocabSize: vocabSize)
    }

    static func tokenArray(_ v: JSON, param: String, vocabSize: Int) throws -> [Int32] {
        guard case .array(let items) = v else { throw APIError.invalid(param, "must be an array of token ids") }
        return try items.map { item in
            guard case .int(let i) = item else { throw APIError.invalid(param, "must be an array of token ids") }
            guard i >= 0, i < vocabSize else { throw APIError.invalid(param, "has token id \(i) outside the vocabulary (0..<\(vocabSize))") }
            return Int32(i)
        }
    }
}
