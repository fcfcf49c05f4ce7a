import Foundation
import Locking
import Testing
import TestSupport

/// The built `dlcm` binary run as a child process, the way an operator runs it: flags, DLCM_*
/// variables (none inherited from the test's own environment), signals, exit status.
final class ServeProcess {
    /// `dlcm` sits next to the test bundle in the build folder (`swift build` / `swift test`
    /// build every product).
    static let binary: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("dlcm").path
    }()

    let process = Process()
    private let stdout = Locked<[UInt8]>([])
    private let stderr = Locked<[UInt8]>([])
    private let readers = DispatchGroup()

    /// Starts `dlcm <arguments>` (on the fixture model unless `--model` is given).
    /// - Parameter readsStandardError: false leaves its stderr pipe unread (a stalled log reader).
    init(_ arguments: [String], environment: [String: String] = [:], readsStandardError: Bool = true) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw TestClientError(description: "no dlcm binary at \(Self.binary): run `swift build` first")
        }
        process.executableURL = URL(fileURLWithPath: Self.binary)
        let withModel = arguments.contains("--model") || arguments.first != "serve" ? arguments : arguments + ["--model", fixtureDirectory.path]
        process.arguments = withModel
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DLCM_") }
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        for (pipe, buffer) in readsStandardError ? [(out, stdout), (err, stderr)] : [(out, stdout)] {
            readers.enter()
            Thread.detachNewThread { [readers] in
                while true {
                    let data = pipe.fileHandleForReading.availableData
                    if data.isEmpty { break }
                    buffer.withLock { $0 += data }
                }
                readers.leave()
            }
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    var standardOutput: String { String(decoding: stdout.withLock { $0 }, as: UTF8.self) }
    var standardError: String { String(decoding: stderr.withLock { $0 }, as: UTF8.self) }
    var errorLines: [String] { standardError.split(separator: "\n").map(String.init) }

    /// The port from the "on http://host:port" line, once the server is up.
    func waitForPort(seconds: Double = 60) throws -> Int {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if let range = standardOutput.range(of: "on http://127.0.0.1:") {
                let digits = standardOutput[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits) { return port }
            }
            if !process.isRunning { break }
            usleep(10_000)
        }
        throw TestClientError(description: "dlcm serve did not come up; stderr: \(standardError)")
    }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Each thread's allowed CPUs (Linux /proc, "0-1" style), empty elsewhere.
    var threadCPUs: [String] {
        let dir = "/proc/\(process.processIdentifier)/task"
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return tasks.compactMap { task in
            guard let status = try? String(contentsOfFile: "\(dir)/\(task)/status", encoding: .utf8) else { return nil }
            return status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
                .map { $0.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces) }
        }
    }

    /// Runs `dlcm serve` with `arguments` until its port is known, reads what `look` wants from
    /// it, then stops it with SIGTERM (which must end it with status 0). Also returns the first
    /// line on its stderr (the "started" log line).
    static func observe<T>(_ arguments: [String], environment: [String: String] = [:],
                           _ look: (ServeProcess) throws -> T) throws -> (value: T, startLine: String) {
        let p = try ServeProcess(arguments, environment: environment)
        _ = try p.waitForPort()
        let value = try look(p)
        let line = p.errorLines.first ?? ""
        p.signal(SIGTERM)
        #expect(p.waitForExit(seconds: 30) == 0)
        return (value, line)
    }

    /// Each thread's name and nice value (/proc/<pid>/task/<tid>/comm and field 19 of its stat).
    var threadNice: [(name: String, nice: Int)] {
        let dir = "/proc/\(process.processIdentifier)/task"
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return tasks.compactMap { task in
            guard let comm = try? String(contentsOfFile: "\(dir)/\(task)/comm", encoding: .utf8),
                  let stat = try? String(contentsOfFile: "\(dir)/\(task)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // Fields after "(comm)": state is field 3, so nice (19) is the 17th of them.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 16, let nice = Int(fields[16]) else { return nil }
            return (comm.trimmingCharacters(in: .whitespacesAndNewlines), nice)
        }
    }

    /// The exit status once the process ended within `seconds`, else nil. A death by signal
    /// reads as 128 + signal, as a shell reports it.
    func waitForExit(seconds: Double) -> Int32? {
        let end = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < end { usleep(10_000) }
        if process.isRunning { return nil }
        _ = readers.wait(timeout: .now() + 5)
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// Polls until `condition` holds or `seconds` pass.
    static func eventually(seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }
}
