import Foundation
import DLCMRuntime
import Kernels
import Tokenization

/// A checkpoint directory loaded: the model and its tokenizer, checked against each other.
public final class ModelBundle: @unchecked Sendable {
    public let directory: URL
    public let model: DLCMModel
    public let tokenizer: Tokenizer
    /// How /v1/chat/completions turns messages into a prompt.
    public let chatFormat: ChatFormat
    /// The vocabulary as output grammars see it, and the grammars compiled for requests.
    public let outputConstraints: OutputConstraints
    /// The checkpoint's config (context length, vocabulary, threshold, ...).
    public var config: DLCMConfig { model.config }

    /// The token every document starts with, as in training: the model's end-of-text id.
    public var bosTokenID: Int32 { config.eotTokenID }

    /// A document as the model reads it: BOS, then `tokens`. Every caller that runs the model on
    /// text or ids goes through here, so the BOS convention lives in one place.
    public func document(tokens: [Int32]) -> [Int32] { [bosTokenID] + tokens }

    /// `text` tokenized (special-token spellings read as text) and made a document.
    public func document(text: String) -> [Int32] { document(tokens: tokenizer.encode(text, parseSpecial: false)) }

    /// The directory's last path component, used as the API's model id.
    public var name: String { directory.standardizedFileURL.lastPathComponent }

    /// - Parameters:
    ///   - quantizedProducts: how products with q8_0 / q4_0 weights are computed (DLCMModel.init).
    ///   - kvCache: element type of the KV caches (DLCMModel.init).
    public init(directory: URL, threads: Int, prepack: Bool = true, quantizedProducts: QuantizedProducts = .preferred,
                kvCache: CacheElement = .standard) throws {
        self.directory = directory
        model = try DLCMModel.load(directory: directory, threads: threads, prepack: prepack, quantizedProducts: quantizedProducts,
                                   kvCache: kvCache)
        do {
            tokenizer = try Tokenizer(contentsOf: directory.appendingPathComponent("tokenizer.json"))
        } catch {
            throw ModelError.config("tokenizer.json: \(error)")
        }
        guard tokenizer.vocabSize <= model.config.vocabSize else {
            throw ModelError.config("tokenizer.json has \(tokenizer.vocabSize) tokens, the model only \(model.config.vocabSize)")
        }
        outputConstraints = OutputConstraints(tokenizer: tokenizer, vocabularySize: model.config.vocabSize,
                                              endOfText: model.config.eotTokenID)
        do {
            chatFormat = try ChatFormat.load(directory: directory, eosToken: tokenizer.token(forId: model.config.eotTokenID) ?? "")
        } catch {
            throw ModelError.config("chat template: \(error)")
        }
    }
}
