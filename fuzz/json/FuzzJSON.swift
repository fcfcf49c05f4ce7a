@testable import DLCMServer
import DLCMEngine
import DLCMRuntime
import Foundation
import StrictJSON

/// libFuzzer target for request-body decoding: `RequestBody` (JSONParser) and
/// `CompletionRequest` and `ChatRequest` (every field's type and range checks, chat messages through
/// the chat template) against the tiny-served fixture.
/// Besides "no crash, no sanitizer report" it checks that
/// - JSONParser accepts nothing Foundation's JSONDecoder refuses, and reads what both accept the
///   same way (differential: Foundation is the reference; it is laxer, so not the other way);
/// - anything parsed writes back out as JSON that parses to the same value;
/// - a refused body is an `APIError` with a 4xx status (anything else would be a 500);
/// - an accepted completion request is within the limits the checks promise.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let ours = try? JSONParser.parse(bytes)
    // One direction only: Foundation is more lenient than RFC 8259 (it takes `{"a":1,}`, and
    // resolves duplicate keys), and JSONParser refuses those on purpose. Foundation is asked only
    // about what JSONParser accepted: its recursive decoder overflowed the (ASan-sized) stack on
    // 513 nested `[`, which JSONParser refuses at its depth limit.
    if let ours {
        let reference = try? JSONDecoder().decode(JSON.self, from: Data(bytes))
        guard let reference else { fatalError("JSONParser accepted what Foundation refuses: \(ours.text)") }
        guard sameValue(ours, reference) else { fatalError("JSONParser and Foundation disagree:\n \(ours.text)\n \(reference.text)") }
    }
    let body: RequestBody
    do {
        body = try RequestBody(bytes)
    } catch let error as APIError {
        guard error.status == .badRequest else { fatalError("parse refused with \(error.status.code)") }
        return 0
    } catch {
        fatalError("parse threw a non-API error: \(error)")
    }
    let reparsed: JSON
    do {
        reparsed = try JSON.parse(body.json.bytes)
    } catch {
        fatalError("written JSON does not parse: \(body.json.text)")
    }
    guard sameValue(body.json, reparsed) else { fatalError("round trip changed the value: \(body.json.text)") }

    do {
        let request = try CompletionRequest(body, server: Fixture.server)
        let limits = Fixture.server.configuration, config = Fixture.server.modelConfig
        let fields = request.fields
        guard !request.prompts.isEmpty, fields.n >= 1, fields.n * request.prompts.count <= limits.maxChoices else {
            fatalError("accepted n=\(fields.n) with \(request.prompts.count) prompts")
        }
        for prompt in request.prompts where prompt.tokens.count + 1 + fields.generation.maxTokens > config.maxSeqLen {
            fatalError("accepted a prompt that cannot fit the context")
        }
        check(fields, config: config)
    } catch let error as APIError {
        guard (400..<500).contains(error.status.code) else { fatalError("refused with \(error.status.code): \(error.message)") }
    } catch {
        fatalError("CompletionRequest threw a non-API error: \(error)")
    }
    // The same body as a chat request: messages through the chat template.
    do {
        let request = try ChatRequest(body, server: Fixture.server)
        let config = Fixture.server.modelConfig
        guard !request.messages.isEmpty, request.fields.n <= Fixture.server.configuration.maxChoices,
              request.promptTokens.count + 1 + request.fields.generation.maxTokens <= config.maxSeqLen else {
            fatalError("accepted a chat request that cannot run")
        }
        check(request.fields, config: config)
    } catch let error as APIError {
        guard (400..<500).contains(error.status.code) else { fatalError("chat refused with \(error.status.code): \(error.message)") }
    } catch {
        fatalError("ChatRequest threw a non-API error: \(error)")
    }
    return 0
}

/// What both endpoints accept must hold: valid sampling, a non-negative token limit, a positive timeout.
func check(_ fields: GenerationFields, config: DLCMConfig) {
    guard fields.generation.maxTokens >= 0, (try? fields.generation.sampling.validate(vocabSize: config.vocabSize)) != nil else {
        fatalError("accepted invalid generation parameters")
    }
    if let t = fields.timeout, !(t > 0) { fatalError("accepted timeout \(t)") }
}

/// Equality up to how a number is spelled (1.0 may read back as the integer 1) and object key
/// order (Foundation's decoder lists an object's keys in hash order, not document order).
func sameValue(_ a: JSON, _ b: JSON) -> Bool {
    switch (a, b) {
    case let (.int(x), .double(y)), let (.double(y), .int(x)): return Double(x) == y
    case let (.double(x), .double(y)): return x == y || (x.isNaN && y.isNaN) || (!x.isFinite && b == .null)
    case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy(sameValue)
    case let (.object(x), .object(y)):
        return x.count == y.count && x.allSatisfy { key, value in b[key].map { sameValue(value, $0) } ?? false }
    default: return a == b
    }
}

/// An API server over the fixture's model, never started: only its configuration, model config
/// and tokenizer are used. The fixture is found from the working directory or DLCM_FUZZ_MODEL.
enum Fixture {
    nonisolated(unsafe) static let server: APIServer = {
        let path = ProcessInfo.processInfo.environment["DLCM_FUZZ_MODEL"] ?? "Tests/DLCMServerTests/Resources/tiny-served"
        do {
            let bundle = try ModelBundle(directory: URL(fileURLWithPath: path), threads: 1)
            return APIServer(engine: Engine(bundle: bundle))
        } catch {
            fatalError("cannot load the fixture model at \(path) (run from the repository root): \(error)")
        }
    }()
}
