import LDMModels
import LDMParallel
import LDMTensor

/// Whole-model benchmark cases on the real architectures with random weights (weights do not
/// change the work). Scripts/bench/bench_torch.py runs the same cases with diffusers.
public enum ModelCases {
    /// The default set (the sizes of the performance issue's anchors); any `parse`-able name runs.
    public static let names = ["sr-unet-64", "sr-unet-128", "inp-unet-64", "inp-unet-128", "vq-decode-64"]

    /// The vector width the C kernels run at (`SIMDLevel.active`, `LDM_EDIT_SIMD`), for the report.
    public static var simd: String { SIMDLevel.active.description }

    /// Deterministic small random values for every parameter of a layout. `stored` `.f16` stands for a
    /// half-precision file (Stable Diffusion's are distributed so): the values are f16's, and the layers
    /// get them 16-bit or widened at load as `WeightPrecision.default` says (LDM_EDIT_WEIGHTS=float32).
    struct RandomWeights: WeightProvider {
        let shapes: [String: [Int]]
        var stored: DType = .f32

        func tensor(_ name: String) throws -> Tensor {
            guard let shape = shapes[name] else { throw CheckpointError.missingTensor(path: "random", key: name) }
            let t = try Tensor(shape: shape)
            var state = UInt64(truncatingIfNeeded: name.hashValue) | 1
            for i in 0..<t.count {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                t.data[i] = (Float(state >> 40) / Float(1 << 24) - 0.5) * 0.04
                if stored == .f16 { t.data[i] = Float(Float16(t.data[i])) }
            }
            return t
        }

        func weight(_ name: String) throws -> WeightTensor {
            let t = try tensor(name)
            guard WeightPrecision.default.held(stored) == .float16 else { return WeightTensor(t) }
            let bits = try HalfStorage(capacity: t.count)
            for i in 0..<t.count { bits.pointer[i] = Float16(t.data[i]).bitPattern }
            return try WeightTensor(shape: t.shape, precision: .float16, storage: bits)
        }
    }

    /// Returns a closure running the case once; `trace` (U-Nets) is called after every traced layer, for
    /// per-layer timings (`ModelBenchmark.layerTimes`).
    public static func make(_ name: String, trace: ModelTrace? = nil) throws -> () throws -> Void {
        let ws = Workspace()
        /// Batch 1, or for Stable Diffusion batch 2 (classifier-free guidance's unconditional and conditional
        /// halves) with a [2, 77, contextDim] text context (and the x4 upscaler's noise level 20 as both rows' class label).
        /// `shared` (the -step cases): a guided sampling step as the pipelines run it, one latent shared by the two
        /// contexts (`UNet.callAsFunction`; PyTorch's twin gets the latent doubled, as diffusers' pipelines make it).
        func unet(_ config: UNetConfig, side: Int, shared: Bool = false) throws -> () throws -> Void {
            let weights = RandomWeights(shapes: Dictionary(uniqueKeysWithValues: UNetLayout.parameters(config).map { ($0.name, $0.shape) }),
                                        stored: config.crossAttention == nil ? .f32 : .f16)
            let model = try UNet(weights, config: config)
            let batch = config.crossAttention == nil ? 1 : 2, images = shared ? 1 : batch
            let x = try Tensor.zeros([images, config.inChannels, side, side])
            for i in 0..<x.count { x.data[i] = Float((i * 7919) % 2001) / 1000 - 1 }
            let context = try config.crossAttention.map { cross in
                let c = try Tensor.zeros([batch, 77, cross.contextDim])
                for i in 0..<c.count { c.data[i] = Float((i * 104729) % 2001) / 1000 - 1 }
                return c
            }
            let timesteps = [Float](repeating: 500, count: images)
            let labels = config.classEmbeddings.map { _ in [Int](repeating: 20, count: images) }
            return { _ = try model(x, timesteps: timesteps, context: context, classLabels: labels, workspace: ws, trace: trace) }
        }
        guard let (kind, side) = parse(name) else { throw BenchmarkError.unknown(name) }
        switch kind {
        case "sr-unet": return try unet(.superResolution4x, side: side)
        case "inp-unet": return try unet(.inpaintingBig, side: side)
        case "sd-unet": return try unet(.sd15Inpainting, side: side)
        case "sd2-unet": return try unet(.sd2Inpainting, side: side)
        case "x4-unet": return try unet(.x4Upscaler, side: side)
        case "sd-step": return try unet(.sd15Inpainting, side: side, shared: true)
        case "sd2-step": return try unet(.sd2Inpainting, side: side, shared: true)
        case "x4-step": return try unet(.x4Upscaler, side: side, shared: true)
        default:
            let config = AutoencoderConfig.vqF4
            let weights = RandomWeights(shapes: Dictionary(uniqueKeysWithValues: AutoencoderLayout.parameters(config).map { ($0.name, $0.shape) }))
            let model = try VQAutoencoder(weights, config: config)
            let z = try Tensor.zeros([1, 3, side, side])
            for i in 0..<z.count { z.data[i] = Float((i * 7919) % 2001) / 2000 - 0.5 }
            return { _ = try model.decode(z, workspace: ws) }
        }
    }

    /// "sr-unet-64" → ("sr-unet", 64): any latent side that is a multiple of 8 (the U-Nets
    /// downsample three times), 8...512.
    public static func parse(_ name: String) -> (kind: String, side: Int)? {
        guard let dash = name.lastIndex(of: "-"), let side = Int(name[name.index(after: dash)...]),
              side % 8 == 0, (8...512).contains(side) else { return nil }
        let kind = String(name[..<dash])
        return ["sr-unet", "inp-unet", "sd-unet", "sd2-unet", "x4-unet", "sd-step", "sd2-step", "x4-step", "vq-decode"].contains(kind)
            ? (kind, side) : nil
    }

    public enum BenchmarkError: Error, CustomStringConvertible {
        case unknown(String)
        public var description: String {
            switch self {
            case .unknown(let name): "unknown benchmark case \(name): expected sr-unet-N, inp-unet-N, sd-unet-N, sd2-unet-N, x4-unet-N, sd-step-N, sd2-step-N, x4-step-N or vq-decode-N with N a multiple of 8 up to 512"
            }
        }
    }
}
