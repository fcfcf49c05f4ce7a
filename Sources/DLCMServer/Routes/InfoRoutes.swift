import Foundation
import HTTPServer
import StrictJSON

/// Routes that answer from the model's description or the server's state, without the engine.
extension APIServer {
    func models(_ ex: Exchange) throws {
        ex.respond(.object([("object", .string("list")), ("data", .array([modelObject]))]))
    }

    /// GET /v1/models/{model}.
    func model(_ ex: Exchange) throws {
        let id = ex.request.path.split(separator: "/").last.map(String.init)?.removingPercentEncoding ?? ""
        guard id == modelName else {
            throw APIError(status: .notFound, message: "the model '\(id)' does not exist; this server serves '\(modelName)'",
                           type: "invalid_request_error", param: "model", code: "model_not_found")
        }
        ex.respond(modelObject)
    }

    private var modelObject: JSON {
        .object([
            ("id", .string(modelName)), ("object", .string("model")), ("created", .int(created)),
            ("owned_by", .string("dlcm-server")), ("max_model_len", .int(modelConfig.maxSeqLen)),
            // Where /v1/chat/completions' template comes from: "checkpoint" or "built-in".
            ("chat_template", .string(engine.bundle.chatFormat.origin.rawValue)),
        ])
    }

    /// Liveness: the engine loop goes round at least every 100 ms when idle and once per step when
    /// busy; a loop that has not for `stallSeconds` is stuck.
    func health(_ ex: Exchange) {
        let age = engine.secondsSinceHeartbeat
        let ok = age < configuration.stallSeconds
        // Written by hand, the age in whole microseconds: every kubelet and load balancer asks
        // this every few seconds, and as a JSON tree with a Double's shortest decimal the body
        // was a fifth of the request's CPU.
        var body: [UInt8] = []
        body.reserveCapacity(112)
        body += (ok ? #"{"status":"ok","engine_loop_iterations":"# : #"{"status":"stalled","engine_loop_iterations":"#).utf8
        body += String(engine.loopIterations).utf8
        body += #","seconds_since_engine_heartbeat":"#.utf8
        let micros = UInt64((min(max(age, 0), 1e9) * 1e6).rounded())
        let fraction = String(micros % 1_000_000)
        body += String(micros / 1_000_000).utf8
        body.append(UInt8(ascii: "."))
        body += repeatElement(UInt8(ascii: "0"), count: 6 - fraction.utf8.count)
        body += fraction.utf8
        body.append(UInt8(ascii: "}"))
        ex.respond(status: ok ? .ok : .serviceUnavailable, headers: ["Content-Type": "application/json"], body: body)
    }

    /// Readiness: the model is loaded (it is, or this server would not exist) and not draining.
    func ready(_ ex: Exchange) {
        let draining = isDraining
        ex.respond(.object([("status", .string(draining ? "draining" : "ready")), ("model", .string(modelName))]),
                   status: draining ? .serviceUnavailable : .ok)
    }

    /// Checks a request's optional `model` against the one served.
    func checkModel(_ body: RequestBody) throws {
        if let m = try body.string("model"), m != modelName {
            throw APIError(status: .notFound, message: "the model '\(m)' does not exist; this server serves '\(modelName)'",
                           type: "invalid_request_error", param: "model", code: "model_not_found")
        }
    }
}
