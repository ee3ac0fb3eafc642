import Foundation
import LDMTensor

/// A CLIP text encoder's weights under canonical names (`text.…`), audited strictly: from a diffusers
/// `text_encoder/` folder (config.json + model.safetensors, keys `text_model.…`), a model folder holding one,
/// a CompVis single file (`cond_stage_model.transformer.text_model.…`, config read off the shapes), or an SD 2.x
/// CompVis file's OpenCLIP text tower (`cond_stage_model.model.…`, `CLIPTextLayout+OpenCLIP`).
/// Every parameter of the layout must be there with its shape; anything else under the encoder's prefix
/// (other than the `position_ids` buffer) is unexpected; all problems are reported in one error.
///
/// Not yet part of `ModelWeights` (the U-Net + first-stage audit); the Stable Diffusion pipeline joins them.
public struct CLIPTextWeights: WeightProvider {
    public let path: String
    public let config: CLIPTextConfig
    let source: any WeightSource
    /// Where a canonical parameter is read: the file key, the canonical shape and, for one of q, k, v in an
    /// OpenCLIP fused `in_proj`, the rows.
    struct Entry: Sendable {
        let key: String
        let shape: [Int]
        var rows: Range<Int>? = nil
    }

    /// Canonical name → where it is read.
    let keys: [String: Entry]
    /// How the built encoder holds its weights (`ModelWeights.precision` sets it for a model's encoder).
    public var precision: WeightPrecision = .default

    public static func open(_ path: String) throws(CheckpointError) -> CLIPTextWeights {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .unreadable(path: path, reason: "no such file") }
        guard isDirectory.boolValue else {
            let source = try WeightFile.open(path)
            if source.tensors.keys.contains(where: { $0.hasPrefix(CLIPTextLayout.openCLIPPrefix) }) {
                guard let config = detectOpenCLIP(source) else {
                    throw .unsupportedModel(path: path, reason: "no OpenCLIP text tower (\(CLIPTextLayout.openCLIPPrefix)token_embedding.weight, "
                                            + "positional_embedding, transformer.resblocks.0.…) found")
                }
                return try matchedOpenCLIP(path: path, source: source, config: config)
            }
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
        var keys: [String: Entry] = [:]
        for (name, recipe) in builder.recipes {
            if case .tensor(_, let key, let shape) = recipe { keys[name] = Entry(key: key, shape: shape) }
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
        guard let entry = keys[name] else { throw CheckpointError.missingTensor(path: path, key: name) }
        var w = try source.loadWeight(entry.key, precision: precision)
        if let rows = entry.rows { w = try w.rows(rows) }
        w = try w.reshaped(entry.shape)
        let key = entry.key
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

    /// The config of an OpenCLIP text tower from its shapes: vocabulary and width from token_embedding, positions
    /// from positional_embedding, the MLP from the first c_fc, layers = resblocks − 1 (SD 2 reads the penultimate),
    /// heads width / 64 (ViT-H/14: 16; not in the weights), exact GELU (open_clip's `nn.GELU`).
    static func detectOpenCLIP(_ source: any WeightSource) -> CLIPTextConfig? {
        let probe = CLIPTextLayout(CLIPTextConfig(vocabSize: 1, maxPositions: 1, width: 64, layers: 64, heads: 1, intermediate: 1))
        let names = probe.openCLIPSources
        func shape(_ spec: ParameterSpec) -> [Int]? { names[spec.name].flatMap { source.tensors[CLIPTextLayout.openCLIPPrefix + $0.key]?.shape } }
        guard let token = shape(probe.tokenEmbedding.weight), token.count == 2, let position = shape(probe.positionEmbedding.weight),
              position.count == 2, let fc1 = probe.layers.first.flatMap({ shape($0.fc1.weight) }), fc1.count == 2 else { return nil }
        let blocks = probe.layers.prefix { shape($0.norm1.weight) != nil }.count
        return CLIPTextConfig(vocabSize: token[0], maxPositions: position[0], width: token[1], layers: blocks - 1,
                              heads: max(1, token[1] / 64), intermediate: fc1[0], activation: .gelu)
    }

    /// An OpenCLIP text tower audited as strictly as the others: every parameter of the `config.layers`-layer layout
    /// (q, k, v as rows of the fused in_proj, whose stored shape is checked once), nothing else under the prefix but
    /// the keys SD 2 does not read (`CLIPTextLayout.isUnusedOpenCLIP`).
    static func matchedOpenCLIP(path: String, source: any WeightSource, config: CLIPTextConfig) throws(CheckpointError) -> CLIPTextWeights {
        let config = try config.validated(path: path)
        let layout = CLIPTextLayout(config), prefix = CLIPTextLayout.openCLIPPrefix, names = layout.openCLIPSources
        var audit = WeightAudit(), consumed = Set<String>(), keys: [String: Entry] = [:]
        for spec in layout.parameters {
            guard let name = names[spec.name] else { continue }
            let key = prefix + name.key
            let seen = consumed.contains(key)
            guard let info = source.tensors[key] else {
                if !audit.missing.contains(where: { $0.name == key }) { audit.missing.append((key, name.storedShape)) }
                continue
            }
            consumed.insert(key)
            guard ModelWeights.Builder.compatible(info.shape, name.storedShape) else {
                if !seen { audit.mismatched.append(.init(name: key, expected: name.storedShape, actual: info.shape)) }
                continue
            }
            keys[spec.name] = Entry(key: key, shape: spec.shape, rows: name.rows)
        }
        for key in source.tensors.keys.sorted() where key.hasPrefix(prefix) && !consumed.contains(key)
            && !CLIPTextLayout.isUnusedOpenCLIP(String(key.dropFirst(prefix.count)), layers: config.layers) {
            audit.unexpected.append(key)
        }
        guard audit.isClean else { throw .auditFailed(path: path, audit: audit) }
        return CLIPTextWeights(path: path, config: config, source: source, keys: keys)
    }

    static func matched(path: String, source: any WeightSource, prefix: String, config: CLIPTextConfig) throws(CheckpointError) -> CLIPTextWeights {
        let config = try config.validated(path: path)
        var builder = ModelWeights.Builder(path: path, sources: [source])
        for spec in CLIPTextLayout.parameters(config) { builder.match(spec, source: 0, candidates: spec.diffusersNames.map { prefix + $0 }) }
        builder.finishUnexpected(source: 0) { key in !key.hasPrefix(prefix) || CLIPTextLayout.isIgnoredBuffer(key) }
        guard builder.audit.isClean else { throw .auditFailed(path: path, audit: builder.audit) }
        var keys: [String: Entry] = [:]
        for (name, recipe) in builder.recipes {
            if case .tensor(_, let key, let shape) = recipe { keys[name] = Entry(key: key, shape: shape) }
        }
        return CLIPTextWeights(path: path, config: config, source: source, keys: keys)
    }
}
