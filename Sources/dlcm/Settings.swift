import Foundation

/// A setting `dlcm serve` cannot start with: printed as one line on stderr, exit status 2.
struct StartupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Reads each setting from its flag, else its `DLCM_*` variable, else the default. A variable
/// that is set but does not parse, or a value out of range from either source, is an error:
/// `DLCM_PORT=abc` must stop the server, not quietly serve on 8080. An empty variable counts as
/// unset (as `docker run -e DLCM_PORT=` and unset shell variables produce).
struct Settings {
    let environment: [String: String]

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The variable's value, nil when unset or empty.
    func raw(_ name: String) -> String? {
        environment["DLCM_" + name].flatMap { $0.isEmpty ? nil : $0 }
    }

    func string(_ flag: String?, _ name: String) -> String? { flag ?? raw(name) }

    func int(_ flag: Int?, _ name: String, _ fallback: Int, least: Int, most: Int = .max) throws -> Int {
        let value = try flag ?? raw(name).map { text in
            guard let v = Int(text.trimmingCharacters(in: .whitespaces)) else { throw invalid(name, text, "an integer") }
            return v
        } ?? fallback
        guard value >= least, value <= most else {
            throw StartupError("\(Self.flagName(name)) / DLCM_\(name) must be \(most == .max ? "at least \(least)" : "in \(least)...\(most)") (got \(value))")
        }
        return value
    }

    /// Seconds (or another `unit`): finite and above 0, or at least 0 with `orZero`.
    func seconds(_ flag: Double?, _ name: String, _ fallback: Double, orZero: Bool = false, unit: String = "seconds") throws -> Double {
        let value = try flag ?? raw(name).map { text in
            guard let v = Double(text.trimmingCharacters(in: .whitespaces)) else { throw invalid(name, text, "a number of \(unit)") }
            return v
        } ?? fallback
        guard value.isFinite, orZero ? value >= 0 : value > 0 else {
            throw StartupError("\(Self.flagName(name)) / DLCM_\(name) must be a finite number of \(unit) \(orZero ? "at least 0" : "above 0") (got \(value))")
        }
        return value
    }

    /// A switch that can only be turned on by its flag (`--log-prompts`): on when given, else
    /// the variable.
    func bool(_ flag: Bool, _ name: String, _ fallback: Bool) throws -> Bool {
        try bool(flag ? true : nil, name, fallback)
    }

    /// A switch with both spellings (`--gzip` / `--no-gzip`, an optional `@Flag(inversion:)`):
    /// the flag when given, else 1/true/yes/on or 0/false/no/off from the variable.
    func bool(_ flag: Bool?, _ name: String, _ fallback: Bool) throws -> Bool {
        if let flag { return flag }
        guard let text = raw(name) else { return fallback }
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw invalid(name, text, "one of 1/true/yes/on or 0/false/no/off")
        }
    }

    /// One of a fixed set of words (log level, log format).
    func choice<T: RawRepresentable>(_ flag: String?, _ name: String, _ fallback: T, _ all: [T]) throws -> T where T.RawValue == String {
        guard let text = flag ?? raw(name) else { return fallback }
        guard let value = all.first(where: { $0.rawValue == text.lowercased() }) else {
            throw StartupError("\(flag != nil ? Self.flagName(name) : "DLCM_" + name)=\(text) is not one of \(all.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    private func invalid(_ name: String, _ text: String, _ expected: String) -> StartupError {
        StartupError("DLCM_\(name)=\(text) is not \(expected)")
    }

    /// DLCM_MAX_BATCH -> --max-batch.
    static func flagName(_ name: String) -> String {
        "--" + name.lowercased().replacingOccurrences(of: "_", with: "-")
    }
}
