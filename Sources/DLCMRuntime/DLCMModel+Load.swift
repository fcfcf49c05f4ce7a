import Foundation
import Kernels
import SafeTensors

/// A safetensors file as the runtime's tensor source.
final class SafeTensorsSource: TensorSource, @unchecked Sendable {
    let file: SafeTensorsFile

    init(_ file: SafeTensorsFile) { self.file = file }

    var tensorNames: [String] { file.tensorNames }

    func tensor(named name: String) -> TensorView? {
        guard let t = file.tensor(named: name) else { return nil }
        let type: WeightType = switch t.dtype {
        case .f32: .f32
        case .bf16: .bf16
        case .f16: .f16
        }
        return TensorView(type: type, shape: t.shape, data: t.data)
    }
}

extension DLCMModel {
    /// Loads a checkpoint directory: config.json and model.safetensors (weights/FORMAT.md).
    public static func load(directory: URL, threads: Int = ThreadPool.coreCount) throws -> DLCMModel {
        let config = try DLCMConfig.load(from: directory.appendingPathComponent("config.json"))
        let file: SafeTensorsFile
        do {
            file = try SafeTensorsFile(url: directory.appendingPathComponent("model.safetensors"))
        } catch {
            throw ModelError.weights("model.safetensors: \(error)")
        }
        return try DLCMModel(config: config, source: SafeTensorsSource(file), threads: threads)
    }
}
