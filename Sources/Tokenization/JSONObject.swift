import Foundation

/// Typed access to a `JSONSerialization` object that throws a message naming the field.
struct JSONObject {
    let dict: [String: Any]
    let path: String

    init(_ any: Any?, path: String) throws {
        guard let dict = any as? [String: Any] else { throw TokenizerError.invalidJSON("\(path) is not an object") }
        self.dict = dict
        self.path = path
    }

    func has(_ key: String) -> Bool { dict[key] != nil && !(dict[key] is NSNull) }

    func object(_ key: String) throws -> JSONObject { try JSONObject(dict[key], path: "\(path).\(key)") }

    /// nil when absent or JSON null (e.g. `"normalizer": null`).
    func optionalObject(_ key: String) throws -> JSONObject? {
        has(key) ? try object(key) : nil
    }

    func string(_ key: String) throws -> String {
        guard let value = dict[key] as? String else { throw TokenizerError.invalidJSON("\(path).\(key) is not a string") }
        return value
    }

    func optionalString(_ key: String) throws -> String? {
        has(key) ? try string(key) : nil
    }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        guard has(key) else { return value }
        guard let number = dict[key] as? NSNumber else { throw TokenizerError.invalidJSON("\(path).\(key) is not a boolean") }
        return number.boolValue
    }

    func int(_ key: String) throws -> Int {
        guard let number = dict[key] as? NSNumber else { throw TokenizerError.invalidJSON("\(path).\(key) is not a number") }
        return number.intValue
    }

    func array(_ key: String) throws -> [Any] {
        guard let value = dict[key] as? [Any] else { throw TokenizerError.invalidJSON("\(path).\(key) is not an array") }
        return value
    }

    /// The `type` tag every pipeline stage carries.
    func type() throws -> String { try string("type") }
}
