import Foundation
import Kernels
import SafeTensors

/// A safetensors file as the runtime's tensor source.
final class SafeTensorsSource: TensorSource, @unchecked Sendable {
    let file: SafeTensorsFile

    init(_ file: SafeTensorsFile) { self.file = file }

    var tensorNames: [String] { file.names }

    func tensor(named name: String) -> TensorView? {
        guard let info = try? file.info(name), let data = try? file.data(name), let base = data.baseAddress ?? (info.byteCount == 0 ? UnsafeRawPointer(bitPattern: 1) : nil) else {
            return nil
        }
        return TensorView(dtype: info.dtype, shape: info.shape, data: base)
    }
}

extension DLCMModel {
    /// Loads a checkpoint directory: config.json and model.safetensors (weights/FORMAT.md).
    public static func load(directory: URL, threads: Int = ThreadPool.coreCount, prepack: Bool = true,
                            quantizedProducts: QuantizedProducts = .preferred,
                            kvCache: CacheElement = .standard) throws -> DLCMModel {
        let config = try DLCMConfig.load(from: directory.appendingPathComponent("config.json"))
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(path: directory.appendingPathComponent("model.safetensors").path)
        } catch {
            throw ModelError.weights("model.safetensors: \(error)")
        }
        return try DLCMModel(config: config, source: SafeTensorsSource(file), threads: threads, prepack: prepack,
                              quantizedProducts: quantizedProducts, kvCache: kvCache)
    }
}
