import Foundation
import LDMTensor

/// A CLIP text encoder's weights under canonical names (`text.…`), audited strictly: from a diffusers
/// `text_encoder/` folder (config.json + model.safetensors, keys `text_model.…`), a model folder holding one,
/// or a CompVis single file (`cond_stage_model.transformer.text_model.…`, config read off the shapes).
/// Every parameter of the layout must be there with its shape; anything else under the encoder's prefix
/// (other than the `position_ids` buffer) is unexpected; all problems are reported in one error.
///
/// Not yet part of `ModelWeights` (the U-Net + first-stage audit); the Stable Diffusion pipeline joins them.
public struct CLIPTextWeights: WeightProvider {
    public let path: String
    public let config: CLIPTextConfig
    let source: any WeightSource
    /// Canonical name → file key and canonical shape.
    let keys: [String: (key: String, shape: [Int])]
    /// How the built encoder holds its weights (`ModelWeights.precision` sets it for a model's encoder).
    public var precision: WeightPrecision = .default

    public static func open(_ path: String) throws(CheckpointError) -> CLIPTextWeights {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .unreadable(path: path, reason: "no such file") }
        guard isDirectory.boolValue else {
            let source = try WeightFile.open(path)
            let prefix = source.tensors.keys.contains { $0.hasPrefix(CLIPTextLayout.compVisPrefix) } ? CLIPTextLayout.compVisPrefix : ""
            guard let config = detect(source, prefix: prefix) else {
                throw .unsupportedModel(path: path, reason: "no CLIP text encoder (\(prefix)text_model.embeddings.token_embedding.weight) found")
            }
            return try matched(path: path, source: source, prefix: prefix, config: config)
        }
        let folder = FileManager.default.fileExists(atPath: path + "/text_encoder") ? path + "/text_encoder" : path
        let configPath = folder + "/config.json"
        let config = try diffusersConfig(try DiffusersConfig.load(configPath), path: configPath)
        let file = ["model.safetensors", "pytorch_model.bin"].map { folder + "/" + $0 }.first { FileManager.default.fileExists(atPath: $0) }
        guard let file else { throw .unreadable(path: folder, reason: "no model.safetensors or pytorch_model.bin") }
        return try matched(path: folder, source: try WeightFile.open(file), prefix: "", config: config)
    }

    /// The encoder in ldm-edit's own file (`convert`): canonical names `text.…`, the config from its metadata.
    static func canonical(_ source: any WeightSource, config: CLIPTextConfig) throws(CheckpointError) -> CLIPTextWeights {
        let config = try config.validated(path: source.path)
        var builder = ModelWeights.Builder(path: source.path, sources: [source])
        for spec in CLIPTextLayout.parameters(config) { builder.match(spec, source: 0, candidates: [spec.name]) }
        builder.finishUnexpected(source: 0) { !$0.hasPrefix(CLIPTextLayout.prefix) }
        guard builder.audit.isClean else { throw .auditFailed(path: source.path, audit: builder.audit) }
        var keys: [String: (key: String, shape: [Int])] = [:]
        for (name, recipe) in builder.recipes {
            if case .tensor(_, let key, let shape) = recipe { keys[name] = (key, shape) }
        }
        return CLIPTextWeights(path: source.path, config: config, source: source, keys: keys)
    }

    public func tensor(_ name: String) throws -> Tensor {
        let w = try weight(name, as: .float32)
        return try w.float32Tensor ?? w.float32()
    }

    /// The weight as `precision` holds it (16-bit kept as stored by default), refused when not finite.
    public func weight(_ name: String) throws -> WeightTensor { try weight(name, as: precision) }

    func weight(_ name: String, as precision: WeightPrecision) throws -> WeightTensor {
        guard let (key, shape) = keys[name] else { throw CheckpointError.missingTensor(path: path, key: name) }
        let w = try source.loadWeight(key, precision: precision).reshaped(shape)
        let bad = w.nonFiniteCount()
        guard bad == 0 else { throw CheckpointError.nonFiniteWeights(path: path, key: key, count: bad) }
        return w
    }

    /// Bytes the built encoder's weights take in memory under `precision` (1-D parameters as Float32,
    /// as the layers keep them; `ModelWeights.memoryBytes`).
    public var memoryBytes: Int {
        keys.values.reduce(0) { total, entry in
            let count = entry.shape.reduce(1, *)
            let dtype = source.tensors[entry.key]?.dtype ?? .f32
            return total + count * (entry.shape.count > 1 ? precision.held(dtype).byteSize : 4)
        }
    }

    /// transformers `CLIPTextConfig` fields; an activation other than quick_gelu or gelu is refused.
    static func diffusersConfig(_ json: [String: Any], path: String) throws(CheckpointError) -> CLIPTextConfig {
        func int(_ key: String, _ fallback: Int) throws(CheckpointError) -> Int { try DiffusersConfig.int(json, key, path: path) ?? fallback }
        let act = (json["hidden_act"] as? String) ?? "quick_gelu"
        guard let activation = CLIPTextConfig.Activation(rawValue: act) else {
            throw .invalidConfig(path: path, field: "hidden_act", value: act, expected: "quick_gelu or gelu")
        }
        let v = CLIPTextConfig.vitL14
        return try CLIPTextConfig(vocabSize: try int("vocab_size", v.vocabSize), maxPositions: try int("max_position_embeddings", v.maxPositions),
                                  width: try int("hidden_size", v.width), layers: try int("num_hidden_layers", v.layers),
                                  heads: try int("num_attention_heads", v.heads), intermediate: try int("intermediate_size", v.intermediate),
                                  activation: activation, layerNormEps: try DiffusersConfig.double(json, "layer_norm_eps", path: path) ?? 1e-5)
            .validated(path: path)
    }

    /// The config from a file's shapes: vocabulary and width from the token embedding, positions, layers
    /// (those with a layer_norm1), MLP width from fc1. Heads are not in the weights: width / 64, as CLIP
    /// ViT-L/14 (12) and OpenCLIP ViT-H/14 (16); the activation is quick-GELU (OpenAI CLIP, SD 1.x).
    static func detect(_ source: any WeightSource, prefix: String) -> CLIPTextConfig? {
        let probe = CLIPTextLayout(CLIPTextConfig(vocabSize: 1, maxPositions: 1, width: 64, layers: 64, heads: 1, intermediate: 1))
        func shape(_ spec: ParameterSpec) -> [Int]? { spec.diffusersNames.lazy.compactMap { source.tensors[prefix + $0]?.shape }.first }
        guard let token = shape(probe.tokenEmbedding.weight), token.count == 2, let position = shape(probe.positionEmbedding.weight),
              position.count == 2, let fc1 = probe.layers.first.flatMap({ shape($0.fc1.weight) }), fc1.count == 2 else { return nil }
        let layers = probe.layers.prefix { shape($0.norm1.weight) != nil }.count
        return CLIPTextConfig(vocabSize: token[0], maxPositions: position[0], width: token[1], layers: layers,
                              heads: max(1, token[1] / 64), intermediate: fc1[0])
    }

    static func matched(path: String, source: any WeightSource, prefix: String, config: CLIPTextConfig) throws(CheckpointError) -> CLIPTextWeights {
        let config = try config.validated(path: path)
        var builder = ModelWeights.Builder(path: path, sources: [source])
        for spec in CLIPTextLayout.parameters(config) { builder.match(spec, source: 0, candidates: spec.diffusersNames.map { prefix + $0 }) }
        builder.finishUnexpected(source: 0) { key in !key.hasPrefix(prefix) || CLIPTextLayout.isIgnoredBuffer(key) }
        guard builder.audit.isClean else { throw .auditFailed(path: path, audit: builder.audit) }
        var keys: [String: (key: String, shape: [Int])] = [:]
        for (name, recipe) in builder.recipes {
            if case .tensor(_, let key, let shape) = recipe { keys[name] = (key, shape) }
        }
        return CLIPTextWeights(path: path, config: config, source: source, keys: keys)
    }
}
