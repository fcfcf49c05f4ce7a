import Foundation
import Testing
import TestSupport

/// `dlcm serve` refuses bad configuration and broken weights with one line on stderr and a
/// non-zero exit status (2 for a setting, 1 for anything else), before binding anything.
@Suite struct ServeStartupTests {
    static func refusal(_ arguments: [String], _ environment: [String: String] = [:]) throws -> (status: Int32?, lines: [String]) {
        // Port 0 (any free one) unless the case sets DLCM_PORT: a setting that wrongly passes
        // starts a server, which then fails the status check instead of clashing on 8080.
        let p = try ServeProcess(["serve"] + arguments, environment: ["DLCM_PORT": "0"].merging(environment) { $1 })
        let status = p.waitForExit(seconds: 60)
        if status == nil { p.signal(SIGKILL) }
        return (status, p.errorLines)
    }

    @Test(arguments: [
        ([String](), ["DLCM_PORT": "abc"], "DLCM_PORT=abc"),
        ([], ["DLCM_PORT": "70000"], "--port / DLCM_PORT"),
        ([], ["DLCM_MAX_BATCH": "0"], "--max-batch / DLCM_MAX_BATCH"),
        ([], ["DLCM_MAX_QUEUE": "-1"], "--max-queue / DLCM_MAX_QUEUE"),
        ([], ["DLCM_THREADS": "two"], "DLCM_THREADS=two"),
        ([], ["DLCM_REQUEST_TIMEOUT": "soon"], "DLCM_REQUEST_TIMEOUT=soon"),
        ([], ["DLCM_IDLE_TIMEOUT": "nan"], "--idle-timeout / DLCM_IDLE_TIMEOUT"),
        ([], ["DLCM_DRAIN_TIMEOUT": "-1"], "--drain-timeout / DLCM_DRAIN_TIMEOUT"),
        ([], ["DLCM_STREAM_INTERVAL_MS": "-5"], "--stream-interval-ms / DLCM_STREAM_INTERVAL_MS must be a finite number of milliseconds"),
        ([], ["DLCM_STREAM_INTERVAL_MS": "fast"], "DLCM_STREAM_INTERVAL_MS=fast"),
        (["--stream-interval-ms", "5000"], [:], "--stream-interval-ms / DLCM_STREAM_INTERVAL_MS must be at most 1000"),
        ([], ["DLCM_STREAM_INTERVAL_MAX_MS": "-1"], "--stream-interval-max-ms / DLCM_STREAM_INTERVAL_MAX_MS must be a finite number of milliseconds"),
        (["--stream-interval-max-ms", "2000"], [:], "--stream-interval-max-ms / DLCM_STREAM_INTERVAL_MAX_MS must be at most 1000"),
        (["--compute-nice", "20"], [:], "--compute-nice / DLCM_COMPUTE_NICE must be in 0...19"),
        ([], ["DLCM_COMPUTE_NICE": "-1"], "--compute-nice / DLCM_COMPUTE_NICE must be in 0...19"),
        ([], ["DLCM_LOG_LEVEL": "loud"], "DLCM_LOG_LEVEL=loud"),
        (["--log-level", "verbose"], [:], "--log-level=verbose"),
        (["--log-format", "xml"], [:], "--log-format=xml"),
        ([], ["DLCM_LOG_PROMPTS": "maybe"], "DLCM_LOG_PROMPTS=maybe"),
        (["--api-keys-file", "/nonexistent/keys.txt"], [:], "/nonexistent/keys.txt"),
        ([], ["DLCM_CORS_ORIGINS": "example.com"], "example.com"),
        (["--open-endpoints", "health"], [:], "--open-endpoints"),
        (["--api-keys", "two words"], [:], "API key"),
    ])
    func badSettingIsRefused(arguments: [String], environment: [String: String], mentions: String) throws {
        let (status, lines) = try Self.refusal(arguments, environment)
        #expect(status == 2)
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.hasPrefix("dlcm serve: error: ") == true)
        #expect(lines.first?.contains(mentions) == true, "\(lines)")
    }

    @Test func emptyKeyFileIsRefused() throws {
        let file = try temporaryFile("# keys go here\n\n")
        let (status, lines) = try Self.refusal(["--api-keys-file", file])
        #expect(status == 2)
        #expect(lines == ["dlcm serve: error: the API key file \(file) holds no key"])
        // The variable form is read the same way.
        #expect(try Self.refusal([], ["DLCM_API_KEYS_FILE": file]).lines == lines)
    }

    @Test func brokenWeightsAreRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dlcm-broken-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["config.json", "tokenizer.json"] {
            try FileManager.default.copyItem(at: fixtureDirectory.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        let weights = try Data(contentsOf: fixtureDirectory.appendingPathComponent("model.safetensors"))
        try weights.prefix(weights.count / 2).write(to: dir.appendingPathComponent("model.safetensors"))
        let (status, lines) = try Self.refusal(["--model", dir.path])
        #expect(status == 1)
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.hasPrefix("dlcm serve: error: ") == true)

        let missing = try Self.refusal(["--model", dir.appendingPathComponent("nope").path])
        #expect(missing.status == 1)
        #expect(missing.lines.count == 1 && missing.lines[0].contains("config.json"), "\(missing.lines)")
    }

    @Test func portInUseIsRefused() throws {
        let first = try ServeProcess(["serve", "--port", "0"])
        let port = try first.waitForPort()
        let (status, lines) = try Self.refusal([], ["DLCM_PORT": String(port)])
        #expect(status == 1)
        #expect(lines.count == 1 && lines[0].hasPrefix("dlcm serve: error: "), "\(lines)")
        first.signal(SIGTERM)
        #expect(first.waitForExit(seconds: 30) == 0)
    }

    /// With fewer threads than CPUs, compute and the event loop get CPUs of their own (the log
    /// says which, /proc shows it); --no-pin-threads leaves every thread on every CPU.
    @Test func computeAndLoopArePinnedApart() throws {
        #if os(Linux)
        let cpus = (try String(contentsOfFile: "/proc/self/status", encoding: .utf8)).split(separator: "\n")
            .first { $0.hasPrefix("Cpus_allowed_list:") }.map { $0.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces) } ?? ""
        let (threads, started) = try ServeProcess.observe(["serve", "--port", "0", "--threads", "1"]) { $0.threadCPUs }
        if cpus.contains("-") || cpus.contains(",") {   // two CPUs or more
            #expect(started.contains("cpus=\"compute "), "\(started)")
            // The engine thread on the first CPU alone, the loop on the others.
            let first = String(cpus.prefix { $0.isNumber })
            #expect(threads.contains(first), "\(threads)")
            #expect(threads.contains { $0 != first && $0 != cpus }, "\(threads)")
        } else {
            #expect(started.contains("cpus=shared"), "\(started)")
        }

        if cpus.contains("-") || cpus.contains(",") {
            // As many threads as CPUs: the engine thread and each pool worker on a CPU of its own,
            // the loop with the last of them; so every pinned thread has exactly one CPU.
            let count = ProcessInfo.processInfo.activeProcessorCount
            let (single, line) = try ServeProcess.observe(["serve", "--port", "0", "--threads", "\(count)"]) {
                $0.threadCPUs.filter { $0.allSatisfy(\.isNumber) }
            }
            if count == cpus.split(separator: ",").reduce(0, { n, part in
                let r = part.split(separator: "-").compactMap { Int($0) }
                return n + (r.count == 2 ? r[1] - r[0] + 1 : 1)
            }) {
                #expect(line.contains("cpus=\"compute "), "\(line)")
                #expect(Set(single).count == count, "\(single)")   // every CPU holds a compute thread
                #expect(single.count >= count + 1, "\(single)")     // and the loop is one of them
            }
        }

        let (offCPUs, offLine) = try ServeProcess.observe(["serve", "--port", "0", "--threads", "1", "--no-pin-threads"]) { $0.threadCPUs }
        #expect(offCPUs.allSatisfy { $0 == cpus }, "\(offCPUs)")
        #expect(offLine.contains("cpus=off"))
        #endif
    }

    /// The threads carry names, and the compute threads run at --compute-nice (default 5) while
    /// the event loop keeps the process's priority; 0 leaves them equal.
    @Test func computeThreadsRunBelowTheLoop() throws {
        #if os(Linux)
        let (threads, line) = try ServeProcess.observe(["serve", "--port", "0", "--threads", "2"]) { $0.threadNice }
        #expect(line.contains("compute_nice=5"), "\(line)")
        #expect(threads.filter { $0.name == "dlcm-engine" }.map(\.nice) == [5], "\(threads)")
        #expect(threads.filter { $0.name == "dlcm-compute1" }.map(\.nice) == [5], "\(threads)")
        #expect(threads.filter { $0.name == "dlcm-loop" }.map(\.nice) == [0], "\(threads)")

        let (same, _) = try ServeProcess.observe(["serve", "--port", "0", "--threads", "2"], environment: ["DLCM_COMPUTE_NICE": "0"]) { $0.threadNice }
        // (Other threads, as libdispatch's, keep whatever priority they chose.)
        let ours = same.filter { $0.name.hasPrefix("dlcm-") }
        #expect(ours.count == 3 && ours.allSatisfy { $0.nice == 0 }, "\(same)")
        #endif
    }

    /// `dlcm load` against a real server: every stream gets its requests' tokens, counted from
    /// the usage chunks; an unreachable server is a clear error, not a hang.
    @Test func loadClientCountsEveryToken() throws {
        let server = try ServeProcess(["serve", "--port", "0"])
        let port = try server.waitForPort()
        defer { server.signal(SIGTERM); _ = server.waitForExit(seconds: 30) }
        let load = try ServeProcess(["load", "--url", "http://127.0.0.1:\(port)", "--streams", "1", "3", "--requests", "4", "--max-tokens", "5"])
        #expect(load.waitForExit(seconds: 60) == 0, "\(load.standardError)")
        let lines = load.standardOutput.split(separator: "\n")
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.contains("http streams   1:") == true && lines.first?.contains("(20 tokens in") == true, "\(lines)")
        // 4 requests over 3 streams: 2 each, 30 tokens.
        #expect(lines.last?.contains("http streams   3:") == true && lines.last?.contains("(30 tokens in") == true, "\(lines)")
        // Sleeping between polls instead of blocking in poll: the same counts.
        let sleeping = try ServeProcess(["load", "--url", "http://127.0.0.1:\(port)", "--streams", "2", "--requests", "4", "--max-tokens", "5",
                                         "--poll-interval", "500"])
        #expect(sleeping.waitForExit(seconds: 60) == 0, "\(sleeping.standardError)")
        #expect(sleeping.standardOutput.contains("http streams   2:") && sleeping.standardOutput.contains("(20 tokens in"), "\(sleeping.standardOutput)")

        let refused = try ServeProcess(["load", "--url", "http://127.0.0.1:1", "--streams", "1", "--requests", "1"])
        #expect(refused.waitForExit(seconds: 30) != 0)
        #expect(refused.standardError.contains("cannot connect"), "\(refused.standardError)")
    }

    @Test func startupLinesAndAuthNotice() throws {
        let open = try ServeProcess(["serve", "--port", "0"])
        _ = try open.waitForPort()
        #expect(ServeProcess.eventually(seconds: 5) { open.standardError.contains("notice authentication is off") })
        #expect(open.errorLines.first?.contains(" info started ") == true)
        open.signal(SIGTERM)
        #expect(open.waitForExit(seconds: 30) == 0)
        #expect(open.errorLines.last?.hasSuffix(" info stopped") == true, "\(open.errorLines)")

        let file = try temporaryFile("sk-file\n")
        let keyed = try ServeProcess(["serve", "--port", "0", "--log-format", "json"], environment: ["DLCM_API_KEYS": "sk-a,sk-b", "DLCM_API_KEYS_FILE": file])
        let port = try keyed.waitForPort()
        #expect(try TestClient.get(port: port, "/v1/models", authorization: "Bearer sk-file").status == 200)
        #expect(try TestClient.get(port: port, "/v1/models", authorization: "Bearer sk-a").status == 200)
        #expect(try TestClient.get(port: port, "/v1/models").status == 401)
        keyed.signal(SIGTERM)
        #expect(keyed.waitForExit(seconds: 30) == 0)
        let started = try #require(keyed.errorLines.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(started.utf8)) as? [String: Any])
        #expect(object["msg"] as? String == "started")
        #expect(object["api_keys"] as? Int == 3)
        #expect(!keyed.standardError.contains("authentication is off"))
        #expect(!keyed.standardError.contains("sk-"))   // keys never reach the log
    }

    @Test func accessSettingsFromFlagsAndVariables() throws {
        let none = try ServeProcess(["serve", "--port", "0", "--api-keys", "k", "--open-endpoints", "none"])
        let port = try none.waitForPort()
        #expect(try TestClient.get(port: port, "/health").status == 401)
        #expect(try TestClient.get(port: port, "/health", authorization: "Bearer k").status == 200)
        none.signal(SIGTERM)
        #expect(none.waitForExit(seconds: 30) == 0)

        let env = try ServeProcess(["serve", "--port", "0"], environment: [
            "DLCM_API_KEYS": "k", "DLCM_OPEN_ENDPOINTS": "/v1/models", "DLCM_CORS_ORIGINS": "*", "DLCM_LOG_PROMPTS": "yes",
        ])
        let envPort = try env.waitForPort()
        #expect(try TestClient.get(port: envPort, "/v1/models").status == 200)
        #expect(try TestClient.get(port: envPort, "/ready").status == 401)
        let client = try TestClient(port: envPort, receiveTimeout: 20)
        try client.request("POST", "/v1/completions", body: Array(#"{"prompt":"a private prompt","max_tokens":1}"#.utf8),
                           headers: [("Origin", "https://x.example"), ("Authorization", "Bearer k"), ("X-Request-Id", "env-1")])
        let r = try client.expectResponse()
        #expect(r.status == 200)
        #expect(r.headers["Access-Control-Allow-Origin"] == "*")
        #expect(ServeProcess.eventually(seconds: 5) { env.standardError.contains("id=env-1 ") })
        #expect(env.errorLines.first { $0.contains("id=env-1 ") }?.contains(#"prompt="a private prompt""#) == true)
        env.signal(SIGTERM)
        #expect(env.waitForExit(seconds: 30) == 0)
    }

    @Test func helpDocumentsEveryOptionAndVariable() throws {
        let p = try ServeProcess(["serve", "--help"])
        #expect(p.waitForExit(seconds: 30) == 0)
        let help = p.standardOutput
        for name in ["HOST", "PORT", "MAX_BATCH", "MAX_QUEUE", "PREFILL_CHUNK", "MAX_BODY_BYTES", "MAX_TOKENS", "MAX_N",
                     "REQUEST_TIMEOUT", "KEEPALIVE", "IDLE_TIMEOUT", "HEADER_TIMEOUT", "MAX_CONNECTIONS", "MODEL_NAME",
                     "DRAIN_TIMEOUT", "API_KEYS", "API_KEYS_FILE", "OPEN_ENDPOINTS", "CORS_ORIGINS", "LOG_LEVEL",
                     "LOG_FORMAT", "LOG_PROMPTS", "MODEL", "THREADS"] {
            #expect(help.contains("DLCM_\(name)"), "DLCM_\(name)")
        }
        for flag in ["--api-keys", "--api-keys-file", "--open-endpoints", "--cors-origins", "--log-level", "--log-format", "--log-prompts", "--drain-timeout"] {
            #expect(help.contains(flag), "\(flag)")
        }
    }

    /// A log reader that stops reading (its pipe fills at 64 KiB) never holds up requests: the
    /// lines wait for the log's writer thread, then are dropped. Thousands of request lines
    /// (about 200 bytes each at info) go to a stderr nobody reads.
    @Test func aStalledLogReaderDoesNotStallTheServer() throws {
        let p = try ServeProcess(["serve", "--port", "0", "--threads", "1"], readsStandardError: false)
        let port = try p.waitForPort()
        let client = try TestClient(port: port, receiveTimeout: 5)
        for _ in 0..<2000 {
            try client.request("GET", "/v1/models", headers: [])
            #expect(try client.expectResponse().status == 200)
        }
        #expect(try TestClient.get(port: port, "/health").status == 200)
        p.signal(SIGKILL)
    }
}

extension TestClient {
    /// One GET on a fresh connection.
    static func get(port: Int, _ path: String, authorization: String? = nil) throws -> TestResponse {
        let client = try TestClient(port: port, receiveTimeout: 20)
        try client.request("GET", path, headers: authorization.map { [("Authorization", $0)] } ?? [])
        return try client.expectResponse()
    }
}
