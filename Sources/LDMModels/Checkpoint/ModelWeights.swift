import Foundation
import LDMTensor

/// A model's weights under canonical names, from any supported checkpoint, audited strictly.
///
/// `open` recognises the layout — a CompVis LatentDiffusion checkpoint (`model.diffusion_model.*`,
/// `first_stage_model.*`, EMA copies), a diffusers folder (`unet/` and either `vqvae/` with config.json
/// and `.safetensors` or `.bin` weights, either attention spelling, `vae/` likewise for Stable Diffusion's
/// AutoencoderKL, or `autoencoder/` with the conv autoencoder's config.json and model.safetensors), or
/// ldm-edit's own single file (canonical names,
/// configs in the metadata) — and translates it here, in one place. Then every parameter of the
/// U-Net and first stage is matched; anything missing, mis-shaped or unexpected (beyond a named
/// ignore list) fails with one report. Tensors are read on demand from the mapped files, so nothing
/// is copied until a model is built.
public struct ModelWeights: Sendable {
    public enum Layout: String, Sendable { case compVis = "CompVis LatentDiffusion", diffusers, canonical = "ldm-edit" }

    public let path: String
    public let layout: Layout
    public let unet: UNetConfig
    /// The first stage: VQ (CompVis, diffusers `vqvae/`), KL (CompVis, diffusers `vae/`) or the conv
    /// autoencoder (`autoencoder/`).
    public let firstStage: FirstStageConfig
    public let task: ModelTask
    public let schedule: NoiseScheduleConfig
    public let emaPresent: Bool
    public let emaUsed: Bool
    /// Where the weights came from, as the JSON object text a training export put in model_index.json
    /// under `ldm_edit_provenance` (`convert` keeps it in the safetensors metadata under the same key).
    public let provenance: String?
    /// The files read (one, or the unet and first-stage files of a diffusers folder).
    public let sources: [any WeightSource]
    let recipes: [String: Recipe]
    /// Stable Diffusion's CLIP text encoder (a U-Net with cross-attention only): the folder's `text_encoder/`,
    /// or the single file's `cond_stage_model.transformer.text_model.*`, audited strictly on its own; its width
    /// is the U-Net's context width.
    public internal(set) var textEncoder: CLIPTextWeights? = nil
    /// The folder's `tokenizer/` when it has one; nil: the embedded CLIP vocabulary (SD 1.x: pad `<|endoftext|>`).
    public internal(set) var tokenizerFolder: String? = nil
    /// A converted file's tokenizer files (`TokenizerSource.files`), when its source had a `tokenizer/`.
    public internal(set) var tokenizerFiles: [String: Data]? = nil
    /// The low-res noise augmentation of a noise-augmented super-resolution model (stable-diffusion-x4-upscaler);
    /// nil for every other model.
    public internal(set) var noiseAugmentation: NoiseAugmentationConfig? = nil

    /// How one canonical tensor is produced from the files.
    enum Recipe: Sendable {
        case tensor(source: Int, name: String, shape: [Int])
        case fusedQKV(source: Int, q: String, k: String, v: String, heads: Int, shape: [Int])

        /// The checkpoint key named in errors (the query's, for a fused attention projection).
        var key: String {
            switch self {
            case .tensor(_, let name, _): name
            case .fusedQKV(_, let q, _, _, _, _): q
            }
        }
    }

    public var parameters: [ParameterSpec] {
        UNetLayout.parameters(unet) + firstStage.parameters
    }

    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.shape.reduce(1, *) } }

    /// Throws `wrongTask` (naming the task the model serves) unless this model serves `expected`.
    public func require(task expected: ModelTask) throws(CheckpointError) {
        guard task == expected else { throw .wrongTask(path: path, found: task, expected: expected) }
    }

    /// How the built layers hold their weights (`WeightPrecision`: 16-bit as stored by default); also
    /// the text encoder's.
    public var precision: WeightPrecision = .default {
        didSet { textEncoder?.precision = precision }
    }

    /// Bytes the built model's weights take in memory (U-Net, first stage and text encoder) under
    /// `precision`: the layers' matrices as held, 1-D parameters (biases, norm scales) as Float32,
    /// as the layers keep them (`MemoryPlanner`'s weight bytes).
    public var memoryBytes: Int {
        var bytes = textEncoder?.memoryBytes ?? 0
        for spec in parameters {
            let count = spec.shape.reduce(1, *)
            guard spec.shape.count > 1, let recipe = recipes[spec.name] else {
                bytes += 4 * count
                continue
            }
            let (source, key): (Int, String) = switch recipe {
            case .tensor(let s, let name, _): (s, name)
            case .fusedQKV(let s, let q, _, _, _, _): (s, q)
            }
            bytes += count * precision.held(sources[source].tensors[key]?.dtype ?? .f32).byteSize
        }
        return bytes
    }

    /// The tensor for a canonical name (`unet.…`, `vq.…`, `ae.…`), as Float32 in its canonical shape.
    /// Refuses weights holding NaN or ±Inf (`nonFiniteWeights`), which would silently give NaN
    /// images: the check is one pass over each tensor as it is loaded.
    public func tensor(_ name: String) throws(CheckpointError) -> Tensor {
        let w = try weight(name, as: .float32)
        if let t = w.float32Tensor { return t }
        do { return try w.float32() } catch { throw .tensorOutOfBounds(path: path, key: name, reason: "\(error)") }
    }

    /// The weight for a canonical name as `precision` holds it (16-bit files stay 16-bit by default),
    /// checked like `tensor(_:)`.
    public func weight(_ name: String) throws(CheckpointError) -> WeightTensor { try weight(name, as: precision) }

    func weight(_ name: String, as precision: WeightPrecision) throws(CheckpointError) -> WeightTensor {
        guard let recipe = recipes[name] else { throw .missingTensor(path: path, key: name) }
        let w = try stored(recipe, precision)
        let bad = w.nonFiniteCount()
        guard bad == 0 else { throw .nonFiniteWeights(path: path, key: recipe.key, count: bad) }
        return w
    }

    private func stored(_ recipe: Recipe, _ precision: WeightPrecision) throws(CheckpointError) -> WeightTensor {
        switch recipe {
        case .tensor(let source, let key, let shape):
            let t = try sources[source].loadWeight(key, precision: precision)
            do { return try t.reshaped(shape) } catch { throw .tensorOutOfBounds(path: path, key: key, reason: "\(error)") }
        case .fusedQKV(let source, let q, let k, let v, let heads, let shape):
            var parts = [try sources[source].loadWeight(q, precision: precision), try sources[source].loadWeight(k, precision: precision),
                         try sources[source].loadWeight(v, precision: precision)]
            // Legacy order (docs/ldm-spec.md §2.3): rows [h·3d, h·3d + d) = q_h, then k_h, then v_h; moved as
            // bytes, so 16-bit parts stay 16-bit (parts of mixed precisions are widened first).
            let channels = parts[0].shape[0], d = channels / heads, row = parts[0].count / channels
            let fused: WeightTensor
            do {
                let held = parts.allSatisfy { $0.precision == parts[0].precision } ? parts[0].precision : .float32
                if held == .float32 {
                    parts = try parts.map { $0.precision == .float32 ? $0 : WeightTensor(try $0.float32()) }
                    fused = WeightTensor(try Tensor(shape: shape))
                } else {
                    fused = try WeightTensor(shape: shape, precision: held, storage: try HalfStorage(capacity: shape.reduce(1, *)))
                }
            } catch { throw .tensorOutOfBounds(path: path, key: q, reason: "\(error)") }
            let size = fused.precision.byteSize, destination = UnsafeMutableRawPointer(mutating: fused.baseAddress)
            for h in 0..<heads {
                for (p, part) in parts.enumerated() {
                    (destination + (h * 3 * d + p * d) * row * size).copyMemory(from: part.baseAddress + h * d * row * size, byteCount: d * row * size)
                }
            }
            return fused
        }
    }

    // MARK: - Opening

    /// Opens the model at `path` (file or diffusers folder); `precision`: how the layers built from it hold
    /// their weights (16-bit kept as stored unless LDM_EDIT_WEIGHTS=float32).
    public static func open(_ path: String, useEMA: Bool = true, precision: WeightPrecision = .default) throws(CheckpointError) -> ModelWeights {
        let isFolder = Self.isFolder(path)
        var weights = try withNoiseAugmentation(try opened(path, useEMA: useEMA), folder: isFolder ? path : nil)
        weights.precision = precision
        return weights
    }

    private static func opened(_ path: String, useEMA: Bool) throws(CheckpointError) -> ModelWeights {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(path: path, reason: "No such file or directory")
        }
        if isDirectory.boolValue { return try withTextEncoder(try openDiffusersFolder(path), folder: path) }
        let source = try WeightFile.open(path)
        if let text = source.metadata[canonicalConfigKey] { return try withTextEncoder(try openCanonical(source, config: text), folder: nil) }
        if source.tensors.keys.contains(where: { $0.hasPrefix(CompVisKeys.unet) || $0.hasPrefix(CompVisKeys.firstStage) }) {
            return try withTextEncoder(try openCompVis(source, useEMA: useEMA), folder: nil)
        }
        throw .unsupportedModel(path: path, reason: "no model.diffusion_model.* / first_stage_model.* keys and no ldm-edit config; "
                                + "a diffusers component file needs its folder (model_index.json, unet/, vqvae/ or autoencoder/)")
    }

    /// A U-Net with cross-attention (Stable Diffusion) reads a text encoder: opened from the same folder
    /// (`text_encoder/`) or file (`cond_stage_model.transformer.*`, SD 2.x's OpenCLIP `cond_stage_model.model.*`) when there is one, and its width checked
    /// against the U-Net's context width (`textEncoderMismatch`). Without one the weights still open (inspect,
    /// convert, the U-Net alone); the pipelines refuse to run them.
    static func withTextEncoder(_ weights: ModelWeights, folder: String?) throws(CheckpointError) -> ModelWeights {
        guard let cross = weights.unet.crossAttention else { return weights }
        if let folder {
            guard isFolder(folder + "/text_encoder") else { return weights }
        } else {
            let prefixes = [CLIPTextLayout.compVisPrefix, CLIPTextLayout.openCLIPPrefix]
            guard weights.sources.contains(where: { $0.tensors.keys.contains { key in prefixes.contains { key.hasPrefix($0) } } }) else {
                return weights
            }
        }
        var result = weights
        let text = try CLIPTextWeights.open(weights.path)
        guard text.config.width == cross.contextDim else {
            throw .textEncoderMismatch(path: text.path, textWidth: text.config.width, contextDim: cross.contextDim)
        }
        result.textEncoder = text
        if let folder, isFolder(folder + "/tokenizer") { result.tokenizerFolder = folder + "/tokenizer" }
        return result
    }

    /// Metadata key under which `ldm-edit convert` stores the configs (JSON).
    public static let canonicalConfigKey = "ldm_edit_config"
    /// Key of the provenance object in model_index.json, and of its JSON text in converted files' metadata.
    public static let provenanceKey = "ldm_edit_provenance"

    /// The `ldm_edit_config` metadata: the U-Net, exactly one first stage, the schedule. Files written
    /// before the conv autoencoder existed have `autoencoder` only and still open.
    struct CanonicalConfig: Codable {
        var unet: UNetConfig
        var autoencoder: AutoencoderConfig?
        var convAutoencoder: ConvAutoencoderConfig?
        var klAutoencoder: KLAutoencoderConfig?
        var schedule: NoiseScheduleConfig?
        /// Stable Diffusion's CLIP text encoder (its tensors under `text.`); absent for the LDM families.
        var text: CLIPTextConfig?
        /// The x4 upscaler's low-res noise augmentation; absent for every other model.
        var noiseAugmentation: NoiseAugmentationConfig?

        init(unet: UNetConfig, firstStage: FirstStageConfig, schedule: NoiseScheduleConfig?, text: CLIPTextConfig? = nil) {
            self.unet = unet
            autoencoder = firstStage.vq
            convAutoencoder = firstStage.conv
            klAutoencoder = firstStage.kl
            self.schedule = schedule
            self.text = text
        }
    }

    package static func openCanonical(_ source: any WeightSource, config text: String) throws(CheckpointError) -> ModelWeights {
        let config: CanonicalConfig
        do {
            config = try JSONDecoder().decode(CanonicalConfig.self, from: Data(text.utf8))
        } catch {
            throw .unsupportedModel(path: source.path, reason: "the \(canonicalConfigKey) metadata is not a valid config: \(decodingProblem(error))")
        }
        // Validated before any layout walk: the numbers come from the file.
        let unet = try config.unet.validated(path: source.path, spelling: .canonical(component: "unet"))
        let firstStage: FirstStageConfig
        switch (config.autoencoder, config.convAutoencoder, config.klAutoencoder) {
        case (let vq?, nil, nil): firstStage = .vq(try vq.validated(path: source.path, spelling: .canonical(component: "autoencoder")))
        case (nil, let conv?, nil): firstStage = .conv(try conv.validated(path: source.path, spelling: .canonical(component: "convAutoencoder")))
        case (nil, nil, let kl?): firstStage = .kl(try kl.validated(path: source.path, spelling: .canonical(component: "klAutoencoder")))
        default:
            throw .unsupportedModel(path: source.path, reason: "the \(canonicalConfigKey) metadata must hold exactly one of autoencoder, convAutoencoder and klAutoencoder")
        }
        var builder = Builder(path: source.path, sources: [source])
        for spec in UNetLayout.parameters(unet) + firstStage.parameters {
            builder.match(spec, source: 0, candidates: [spec.name])
        }
        builder.finishUnexpected(source: 0, ignore: { config.text != nil && $0.hasPrefix(CLIPTextLayout.prefix) })
        var schedule = config.schedule
        schedule?.source = "ldm-edit config"
        var weights = try builder.build(layout: .canonical, unet: unet, firstStage: firstStage, schedule: schedule,
                                        emaPresent: false, emaUsed: false, provenance: source.metadata[provenanceKey])
        weights.noiseAugmentation = weights.isNoiseAugmented ? config.noiseAugmentation : nil
        if let text = config.text {
            let encoder = try CLIPTextWeights.canonical(source, config: text)
            if let cross = unet.crossAttention, encoder.config.width != cross.contextDim {
                throw .textEncoderMismatch(path: source.path, textWidth: encoder.config.width, contextDim: cross.contextDim)
            }
            weights.textEncoder = encoder
            weights.tokenizerFiles = try source.metadata[tokenizerKey].map { text throws(CheckpointError) in try tokenizerFiles(metadata: text, path: source.path) }
        }
        return weights
    }

    /// Where JSON decoding failed, as the field path and the decoder's words (`unet.numResBlocks:
    /// Expected to decode Int but found a string instead.`).
    static func decodingProblem(_ error: any Error) -> String {
        let context: DecodingError.Context
        switch error as? DecodingError {
        case .typeMismatch(_, let c)?, .valueNotFound(_, let c)?, .dataCorrupted(let c)?: context = c
        case .keyNotFound(let key, let c)?: return (c.codingPath + [key]).map(\.stringValue).joined(separator: ".") + ": missing"
        default: return "\(error)"
        }
        let field = context.codingPath.map(\.stringValue).joined(separator: ".")
        return (field.isEmpty ? "" : field + ": ") + context.debugDescription
    }

    static func openCompVis(_ source: any WeightSource, useEMA: Bool) throws(CheckpointError) -> ModelWeights {
        func shapes(_ prefix: String) -> [String: [Int]] {
            var out: [String: [Int]] = [:]
            for (k, info) in source.tensors where k.hasPrefix(prefix) { out[String(k.dropFirst(prefix.count))] = info.shape }
            return out
        }
        let unetShapes = shapes(CompVisKeys.unet), vqShapes = shapes(CompVisKeys.firstStage)
        // Files pruned to their EMA weights have no raw U-Net keys: detect through the flattened EMA names.
        let emaShapes = shapes(CompVisKeys.ema + "diffusion_model")
        func unetShape(_ key: String) -> [Int]? { unetShapes[key] ?? emaShapes[key.replacingOccurrences(of: ".", with: "")] }
        let detected = unetShapes.isEmpty
            ? ConfigDetection.unet(count: emaShapes.count) { emaShapes[$0.replacingOccurrences(of: ".", with: "")] }
            : ConfigDetection.unet(unetShapes)
        guard let unet = detected else {
            throw .unsupportedModel(path: source.path, reason: "the U-Net (\(max(unetShapes.count, emaShapes.count)) tensors) matches no openaimodel configuration ldm-edit implements")
        }
        guard let firstStage = ConfigDetection.firstStage(vqShapes) else {
            throw .unsupportedModel(path: source.path, reason: "the autoencoder (\(vqShapes.count) first_stage_model.* tensors) matches no VQ or KL configuration ldm-edit implements")
        }
        let emaPresent = source.tensors.keys.contains { $0.hasPrefix(CompVisKeys.ema + "diffusion_model") }
        var builder = Builder(path: source.path, sources: [source])
        var emaUsed = false
        for spec in UNetLayout.parameters(unet) {
            let key = String(spec.name.dropFirst(UNetLayout.prefix.count))
            let ema = CompVisKeys.emaName(key)
            if useEMA, emaPresent, source.tensors[ema] != nil { emaUsed = true }
            builder.match(spec, source: 0, candidates: useEMA && emaPresent ? [ema] : [CompVisKeys.unet + key])
        }
        let firstStagePrefix = AutoencoderLayout.prefix(firstStage.kl == nil ? .vq : .kl)
        for spec in firstStage.parameters {
            builder.match(spec, source: 0, candidates: [CompVisKeys.firstStage + spec.name.dropFirst(firstStagePrefix.count)])
        }
        builder.finishUnexpected(source: 0) { key in
            // The weight set not chosen (raw when EMA is used, EMA otherwise) is unused on purpose.
            CompVisKeys.ignoredOnPurpose(key) || (emaUsed ? key.hasPrefix(CompVisKeys.unet) : key.hasPrefix(CompVisKeys.ema))
        }
        var schedule: NoiseScheduleConfig?
        if source.tensors["betas"] != nil {
            let alphas = source.tensors["alphas_cumprod"] != nil ? try source.load("alphas_cumprod").values : nil
            schedule = try NoiseScheduleConfig.fromBuffers(betas: try source.load("betas").values, alphasCumprod: alphas, path: source.path)
        }
        if unet.crossAttention != nil {
            // Stable Diffusion single files are run as diffusers' `from_single_file` runs them (SD 1.5's scheduler config).
            // ε or v as diffusers infers it from the file's family (PredictionType.stableDiffusionSingleFile).
            let prediction = PredictionType.stableDiffusionSingleFile(
                inChannels: unet.inChannels, v2ContextWidth: unetShape(CompVisKeys.stableDiffusion2Probe)?.last,
                upscaleSkip: unetShape(CompVisKeys.upscalerProbe) != nil)
            schedule = .stableDiffusion(linearStart: schedule?.linearStart ?? 0.00085, linearEnd: schedule?.linearEnd ?? 0.012,
                                        timesteps: schedule?.timesteps ?? 1000, source: schedule?.source ?? "preset",
                                        prediction: prediction)
            // The x4 upscaler (the U-Net with a class embedding): its repository's scheduler, which from_single_file
            // reads, is DDIMScheduler (x4-upscaling.yaml: linear_start 0.0001, linear_end 0.02, in the buffers).
            if unet.classEmbeddings != nil { schedule?.schedulerClass = "DDIMScheduler" }
        }
        return try builder.build(layout: .compVis, unet: unet, firstStage: firstStage, schedule: schedule, emaPresent: emaPresent,
                                 emaUsed: emaUsed, provenance: nil)
    }

    /// A diffusers folder: `unet/` (UNet2DModel), the first stage in `vqvae/` (VQModel), `vae/` (AutoencoderKL,
    /// Stable Diffusion's) or `autoencoder/` (ConvAutoencoder: config.json + model.safetensors, PyTorch
    /// state_dict keys), `scheduler/`, and
    /// `model_index.json` (read for `ldm_edit_provenance` only).
    static func openDiffusersFolder(_ folder: String) throws(CheckpointError) -> ModelWeights {
        func weights(_ component: String, names: [String]) throws(CheckpointError) -> any WeightSource {
            for name in names {
                let p = "\(folder)/\(component)/\(name)"
                if FileManager.default.fileExists(atPath: p) { return try WeightFile.open(p) }
            }
            throw .unreadable(path: "\(folder)/\(component)", reason: "no " + names.joined(separator: " or "))
        }
        let diffusersNames = ["diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin"]
        let unetConfigPath = "\(folder)/unet/config.json"
        let unet = try DiffusersConfig.unet(try DiffusersConfig.load(unetConfigPath), path: unetConfigPath)
        let firstStage: FirstStageConfig, firstStageSource: any WeightSource, component: String
        let stages = ["vqvae", "autoencoder", "vae"].filter { isFolder("\(folder)/\($0)") }
        switch stages {
        case _ where stages.count > 1:
            throw .unsupportedModel(path: folder, reason: "both \(stages.map { $0 + "/" }.joined(separator: " and ")): a model has one first stage")
        case ["vae"]:
            component = "vae"
            let configPath = "\(folder)/vae/config.json"
            firstStage = .kl(try DiffusersConfig.klAutoencoder(try DiffusersConfig.load(configPath), path: configPath)
                .validated(path: configPath, spelling: .diffusers))
            firstStageSource = try weights(component, names: diffusersNames)
        case ["autoencoder"]:
            component = "autoencoder"
            let configPath = "\(folder)/autoencoder/config.json"
            firstStage = .conv(try DiffusersConfig.convAutoencoder(at: configPath))
            firstStageSource = try weights(component, names: ["model.safetensors"])
        default:
            component = "vqvae"
            let configPath = "\(folder)/vqvae/config.json"
            firstStage = .vq(try DiffusersConfig.autoencoder(try DiffusersConfig.load(configPath), path: configPath))
            firstStageSource = try weights(component, names: diffusersNames)
        }
        var builder = Builder(path: folder, sources: [try weights("unet", names: diffusersNames), firstStageSource],
                              labels: ["unet/", component + "/"])
        for spec in UNetLayout.parameters(unet) { builder.match(spec, source: 0, candidates: nil) }
        for spec in firstStage.parameters { builder.match(spec, source: 1, candidates: nil) }
        builder.finishUnexpected(source: 0) { _ in false }
        builder.finishUnexpected(source: 1) { _ in false }
        let schedulerPath = "\(folder)/scheduler/scheduler_config.json"
        let schedule = FileManager.default.fileExists(atPath: schedulerPath)
            ? try NoiseScheduleConfig.fromDiffusers(try DiffusersConfig.load(schedulerPath), path: schedulerPath) : nil
        return try builder.build(layout: .diffusers, unet: unet, firstStage: firstStage, schedule: schedule, emaPresent: false,
                                 emaUsed: false, provenance: try DiffusersConfig.provenance(inFolder: folder))
    }

    private static func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
