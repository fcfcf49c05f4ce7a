import DLCMEngine
import DLCMServer
import Foundation
import HTTPServer
import TestSupport

/// The tiny-served fixture: a random DLCM (vocab 320, context 512) with a byte-level BPE.
let fixtureDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/tiny-served")

/// The fixture's tokenizer, for tests to count and compare tokens (thread-safe). Its model is
/// not used: a model belongs to one thread, so each test server loads its own.
let sharedBundle: ModelBundle = try! ModelBundle(directory: fixtureDirectory, threads: 1)

/// An engine and API server on an ephemeral port, stopped when `body` returns.
final class TestServer {
    let engine: Engine
    let api: APIServer
    var port: Int { api.port }

    init(engine configuration: EngineConfiguration = EngineConfiguration(), api apiConfiguration: APIConfiguration = APIConfiguration(),
         http: ServerConfiguration = ServerConfiguration(), directory: URL = fixtureDirectory) throws {
        engine = Engine(bundle: try ModelBundle(directory: directory, threads: 1), configuration: configuration)
        try engine.start()
        api = APIServer(engine: engine, configuration: apiConfiguration, http: http)
        try api.start()
    }

    deinit {
        api.stop()
        engine.stop()
    }

    /// One request on a fresh connection.
    func call(_ method: String, _ path: String, json: String? = nil, contentType: String? = "application/json",
              headers: [(String, String)] = []) throws -> TestResponse {
        let client = try TestClient(port: port, receiveTimeout: 20)
        try client.request(method, path, body: json.map { Array($0.utf8) }, contentType: contentType, headers: headers)
        return try client.expectResponse(isHead: method == "HEAD")
    }

    func post(_ path: String, _ json: String) throws -> TestResponse { try call("POST", path, json: json) }

    /// A completion's choices text, streamed or not.
    func completionText(_ json: String) throws -> String {
        let r = try post("/v1/completions", json)
        guard r.status == 200 else { throw TestClientError(description: "status \(r.status): \(r.text)") }
        if r.headers["Content-Type"] == "text/event-stream" {
            return r.eventObjects.compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }.joined()
        }
        return ((r.json["choices"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
    }

    /// Polls until `condition` holds or `seconds` pass.
    func waitFor(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            usleep(5_000)
        }
        return condition()
    }
}
