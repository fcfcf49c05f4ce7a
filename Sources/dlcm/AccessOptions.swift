import ArgumentParser
import DLCMServer
import Logging

/// Who may call the server: API keys, the paths open without one, and browser origins (CORS).
struct AccessOptions: ParsableArguments {
    @Option(name: .long, help: "Comma-separated API keys clients send as 'Authorization: Bearer <key>' (env DLCM_API_KEYS). No keys = no authentication.")
    var apiKeys: String?
    @Option(name: .long, help: "File with one API key per line, # comments; merged with --api-keys. An empty or unreadable file stops startup (env DLCM_API_KEYS_FILE).")
    var apiKeysFile: String?
    @Option(name: .long, help: "Comma-separated paths answered without a key (default /health,/ready,/metrics; env DLCM_OPEN_ENDPOINTS; \"\" with the flag = none).")
    var openEndpoints: String?
    @Option(name: .long, help: "Browser origins allowed by CORS: '*' or a comma-separated list like https://app.example.com (default none = CORS off; env DLCM_CORS_ORIGINS).")
    var corsOrigins: String?
}

/// What the log says and how.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical (default info; env DLCM_LOG_LEVEL).")
    var logLevel: String?
    @Option(name: .long, help: "text or json: one line per record on stderr (default text; env DLCM_LOG_FORMAT).")
    var logFormat: String?
    @Flag(name: .long, help: "Put prompt texts in request log lines (default off; env DLCM_LOG_PROMPTS=1).")
    var logPrompts = false
}

extension AccessOptions {
    /// Keys, open paths and CORS into `api`; a bad value is a `StartupError`.
    func apply(to api: inout APIConfiguration, settings: Settings) throws {
        do {
            api.apiKeys = try APIKeys.load(list: settings.string(apiKeys, "API_KEYS"), file: settings.string(apiKeysFile, "API_KEYS_FILE"))
            api.cors = try CORSPolicy(settings.string(corsOrigins, "CORS_ORIGINS"))
        } catch let error as ConfigurationError {
            throw StartupError(error.description)
        }
        if let text = openEndpoints ?? settings.raw("OPEN_ENDPOINTS") {
            let paths = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && $0 != "none" }
            if let bad = paths.first(where: { !$0.hasPrefix("/") }) {
                throw StartupError("--open-endpoints / DLCM_OPEN_ENDPOINTS: '\(bad)' is not a path (like /health)")
            }
            api.openEndpoints = Set(paths)
        }
    }
}

extension LoggingOptions {
    /// Routes every swift-log logger in the process to one line per record on stderr.
    func bootstrap(settings: Settings) throws -> (level: Logger.Level, format: LineLogHandler.Format, prompts: Bool) {
        let level = try settings.choice(logLevel, "LOG_LEVEL", Logger.Level.info, Logger.Level.allCases)
        let format = try settings.choice(logFormat, "LOG_FORMAT", LineLogHandler.Format.text, LineLogHandler.Format.allCases)
        let prompts = try settings.bool(logPrompts, "LOG_PROMPTS", false)
        LoggingSystem.bootstrap { _ in LineLogHandler(format: format, level: level) }
        return (level, format, prompts)
    }
}
