import Foundation
import DLCMRuntime
import Kernels
import Tokenization

/// A checkpoint directory loaded: the model and its tokenizer, checked against each other.
public final class ModelBundle: @unchecked Sendable {
    public let directory: URL
    public let model: DLCMModel
    public let tokenizer: Tokenizer
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
    }
}
