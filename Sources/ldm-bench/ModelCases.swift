import LDMModels
import LDMParallel
import LDMTensor

/// Whole-model benchmark cases on the real architectures with random weights (weights do not
/// change the work). Scripts/bench_torch.py runs the same cases with diffusers.
enum ModelCases {
    static let names = ["sr-unet-64", "sr-unet-128", "inp-unet-64", "inp-unet-128", "vq-decode-64"]

    /// Deterministic small random values for every parameter of a layout.
    struct RandomWeights: WeightProvider {
        let shapes: [String: [Int]]
        func tensor(_ name: String) throws -> Tensor {
            guard let shape = shapes[name] else { throw CheckpointError.missingTensor(path: "random", key: name) }
            let t = try Tensor(shape: shape)
            var state = UInt64(truncatingIfNeeded: name.hashValue) | 1
            for i in 0..<t.count {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                t.data[i] = (Float(state >> 40) / Float(1 << 24) - 0.5) * 0.04
            }
            return t
        }
    }

    /// Returns a closure running the case once.
    static func make(_ name: String) throws -> () throws -> Void {
        let ws = Workspace()
        func unet(_ config: UNetConfig, side: Int) throws -> () throws -> Void {
            let weights = RandomWeights(shapes: Dictionary(uniqueKeysWithValues: UNetLayout.parameters(config).map { ($0.name, $0.shape) }))
            let model = try UNet(weights, config: config)
            let x = try Tensor.zeros([1, config.inChannels, side, side])
            for i in 0..<x.count { x.data[i] = Float((i * 7919) % 2001) / 1000 - 1 }
            return { _ = try model(x, timesteps: [500], workspace: ws) }
        }
        switch name {
        case "sr-unet-64": return try unet(.superResolution4x, side: 64)
        case "sr-unet-128": return try unet(.superResolution4x, side: 128)
        case "inp-unet-64": return try unet(.inpaintingBig, side: 64)
        case "inp-unet-128": return try unet(.inpaintingBig, side: 128)
        case "vq-decode-64":
            let config = AutoencoderConfig.vqF4
            let weights = RandomWeights(shapes: Dictionary(uniqueKeysWithValues: AutoencoderLayout.parameters(config).map { ($0.name, $0.shape) }))
            let model = try VQAutoencoder(weights, config: config)
            let z = try Tensor.zeros([1, 3, 64, 64])
            for i in 0..<z.count { z.data[i] = Float((i * 7919) % 2001) / 2000 - 0.5 }
            return { _ = try model.decode(z, workspace: ws) }
        default:
            throw PipelineBenchError.unknown(name)
        }
    }

    enum PipelineBenchError: Error { case unknown(String) }
}
