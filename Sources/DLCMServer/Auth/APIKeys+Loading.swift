import Foundation

/// Reading keys from the configuration: a comma-separated list and/or a file with one key per
/// line (blank lines and `#` comments skipped). Both sources are merged.
extension APIKeys {
    /// Keys from `list` ("k1,k2") and the file at `file`. A file that cannot be read, or that
    /// holds no key, is an error: a deployment that meant to require keys must not start open.
    public static func load(list: String?, file: String?) throws -> APIKeys {
        var keys = parseList(list ?? "")
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigurationError("cannot read the API key file \(file): \(reason(error))")
            }
            let fromFile = parseFile(text)
            if fromFile.isEmpty { throw ConfigurationError("the API key file \(file) holds no key") }
            keys += fromFile
        }
        // The message does not quote the key: startup errors end up in logs.
        if let bad = keys.firstIndex(where: { !isValidKey($0) }) {
            throw ConfigurationError("API key \(bad + 1) is not 1...512 visible ASCII characters without spaces")
        }
        return APIKeys(keys)
    }

    static func parseList(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func parseFile(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// A key travels in a header, so it must be visible ASCII with no spaces.
    static func isValidKey(_ key: String) -> Bool {
        (1...512).contains(key.utf8.count) && key.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    private static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return ns.localizedDescription
    }
}
