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
        var body: [UInt8] = []
        let status = healthAnswer(into: &body)
        ex.respond(status: status, headers: ["Content-Type": "application/json"], body: body)
    }

    /// Readiness: the model is loaded (it is, or this server would not exist) and not draining.
    func ready(_ ex: Exchange) {
        var body: [UInt8] = []
        let status = readyAnswer(into: &body)
        ex.respond(status: status, headers: ["Content-Type": "application/json"], body: body)
    }

    /// /health's body (appended) and status. Written by hand, the heartbeat's age in whole
    /// microseconds: every kubelet and load balancer asks this every few seconds, and as a JSON
    /// tree with a Double's shortest decimal the body was a fifth of the request's CPU.
    func healthAnswer(into body: inout [UInt8]) -> HTTPStatus {
        let age = engine.secondsSinceHeartbeat
        let ok = age < configuration.stallSeconds
        body += ok ? Self.healthOK : Self.healthStalled
        appendDecimal(engine.loopIterations, to: &body)
        body += Self.healthAge
        let micros = UInt64((min(max(age, 0), 1e9) * 1e6).rounded())
        appendDecimal(micros / 1_000_000, to: &body)
        body.append(UInt8(ascii: "."))
        appendDecimal(micros % 1_000_000, digits: 6, to: &body)
        body.append(UInt8(ascii: "}"))
        return ok ? .ok : .serviceUnavailable
    }

    private static let healthOK = Array(#"{"status":"ok","engine_loop_iterations":"#.utf8)
    private static let healthStalled = Array(#"{"status":"stalled","engine_loop_iterations":"#.utf8)
    private static let healthAge = Array(#","seconds_since_engine_heartbeat":"#.utf8)

    /// /ready's body (appended) and status.
    func readyAnswer(into body: inout [UInt8]) -> HTTPStatus {
        let draining = isDraining
        JSON.object([("status", .string(draining ? "draining" : "ready")), ("model", .string(modelName))]).write(to: &body)
        return draining ? .serviceUnavailable : .ok
    }

    /// Checks a request's optional `model` against the one served.
    func checkModel(_ body: RequestBody) throws {
        if let m = try body.string("model"), m != modelName {
            throw APIError(status: .notFound, message: "the model '\(m)' does not exist; this server serves '\(modelName)'",
                           type: "invalid_request_error", param: "model", code: "model_not_found")
        }
    }
}

/// `value` in decimal, zero-padded to at least `digits` digits, appended without a String.
func appendDecimal(_ value: UInt64, digits: Int = 1, to bytes: inout [UInt8]) {
    var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes: room for 20 digits
    withUnsafeMutableBytes(of: &scratch) { buffer in
        var v = value, n = 0
        repeat {
            buffer[23 - n] = UInt8(ascii: "0") + UInt8(v % 10)
            v /= 10
            n += 1
        } while v > 0 || n < digits
        bytes.append(contentsOf: buffer[(24 - n)...])
    }
}
