/// How to pick the next token from logits. Defaults sample from the model's distribution.
public struct SamplingParameters: Sendable, Equatable {
    /// 0 = greedy (argmax).
    public var temperature: Float = 1
    /// Keep the k most likely tokens (0 = all).
    public var topK: Int = 0
    /// Keep the smallest set of most likely tokens whose probability reaches top_p.
    public var topP: Float = 1
    /// Drop tokens whose probability is below min_p times the top token's.
    public var minP: Float = 0
    /// HF-style: positive logits of tokens already in the prompt or output are divided by it,
    /// negative ones multiplied.
    public var repetitionPenalty: Float = 1
    /// OpenAI-style, over generated tokens: subtract once if the token appeared.
    public var presencePenalty: Float = 0
    /// OpenAI-style, over generated tokens: subtract times the token's count.
    public var frequencyPenalty: Float = 0
    /// Added to the logits of these token ids first.
    public var logitBias: [Int32: Float] = [:]
    /// Same seed, same parameters, same prompt: same output.
    public var seed: UInt64?

    public init() {}

    /// Throws naming the first parameter out of range (the API maps it to a 400).
    public func validate(vocabSize: Int) throws {
        func bad(_ field: String, _ why: String) -> ModelError { .invalidParameter(name: field, reason: why) }
        guard temperature.isFinite, temperature >= 0, temperature <= 100 else { throw bad("temperature", "must be between 0 and 100") }
        guard topK >= 0 else { throw bad("top_k", "must be 0 (disabled) or positive") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw bad("top_p", "must be in (0, 1]") }
        guard minP.isFinite, minP >= 0, minP <= 1 else { throw bad("min_p", "must be in [0, 1]") }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0, repetitionPenalty <= 10 else { throw bad("repetition_penalty", "must be in (0, 10]") }
        guard presencePenalty.isFinite, abs(presencePenalty) <= 2 else { throw bad("presence_penalty", "must be between -2 and 2") }
        guard frequencyPenalty.isFinite, abs(frequencyPenalty) <= 2 else { throw bad("frequency_penalty", "must be between -2 and 2") }
        for (token, bias) in logitBias {
            guard token >= 0, Int(token) < vocabSize else { throw bad("logit_bias", "has token id \(token) outside the vocabulary") }
            guard bias.isFinite, abs(bias) <= 100 else { throw bad("logit_bias", "values must be between -100 and 100") }
        }
    }
}
