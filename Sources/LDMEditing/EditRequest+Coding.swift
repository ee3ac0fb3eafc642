import Foundation
import LDMImageIO
import LDMModels
import LDMPipelines

/// The request's JSON form: one flat object whose fields are provenance's settings fields (so
/// outputs keep the fields `ldm-edit info` has always shown):
///
///     {"eta":0,"model":"sr/","model_sha256":"9c1e…","options":{"bit_depth":"16"},"sampler":"ddim",
///      "seed":42,"seed_given":true,"steps":50,"task":"upscale","tiling":"unet 192/64, vq 128/32"}
///
/// One encoder, three views of what it writes:
/// - request: everything, the model as its path (what a server receives);
/// - provenance: the model as its file or folder name only;
/// - resume key: no model name and no random seed — only what decides the pixels.
///
/// Decoding accepts all three and fills what a client may leave out (sampler ddim, 50 steps, η 0,
/// standard tiles, a random seed, auto strategy); unknown values and options are errors.
extension EditRequest: Codable {
    enum View {
        case request, provenance, resumeKey
    }

    enum CodingKeys: String, CodingKey {
        case task, method, model, sampler, steps, eta, seed, tiling, options, prompt, guidance
        case negativePrompt = "negative_prompt", noiseLevel = "noise_level"
        case modelSHA256 = "model_sha256", seedGiven = "seed_given"
        case guideModel = "guide_model", guideModelSHA256 = "guide_model_sha256", guideWeight = "guide_weight"
    }

    /// The names `options` writes, by what they belong to: every output, a model, inpainting.
    static let outputOptions: Set<String> = ["bit_depth", "jpeg_quality"]
    static let modelOptions: Set<String> = ["weights", "weights_precision"]
    static let inpaintingOptions: Set<String> = ["mask_invert", "mask_dilate", "mask_resize", "strategy", "crop_margin", "resize_limit",
                                                   "hole_limit", "coarse_guidance", "candidates", "preview_steps",
                                                   "blend_candidates"]

    public func encode(to encoder: any Encoder) throws { try encode(to: encoder, view: .request) }

    func encode(to encoder: any Encoder, view: View) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(task.rawValue, forKey: .task)
        try c.encodeIfPresent(method?.rawValue, forKey: .method)
        if let model {
            switch view {
            case .request: try c.encode(model.path, forKey: .model)
            case .provenance: try c.encode(model.name, forKey: .model)
            case .resumeKey: break  // the bytes (model_sha256) identify it, not where it lives
            }
            try c.encode(model.sha256, forKey: .modelSHA256)
        }
        if let sampling {
            try c.encode(sampling.sampler.rawValue, forKey: .sampler)
            try c.encode(sampling.steps, forKey: .steps)
            if sampling.sampler == .ddim { try c.encode(sampling.eta, forKey: .eta) }
            // A random seed is "any seed" for resuming: an output made with any seed will do.
            if view != .resumeKey || sampling.seedGiven { try c.encode(sampling.seed, forKey: .seed) }
            if view != .resumeKey { try c.encode(sampling.seedGiven, forKey: .seedGiven) }
        }
        try c.encodeIfPresent(tiling?.description, forKey: .tiling)
        try c.encode(options, forKey: .options)
        if let prompt {
            try c.encode(prompt.prompt, forKey: .prompt)
            try c.encodeIfPresent(prompt.negativePrompt, forKey: .negativePrompt)
            try c.encode(prompt.guidance, forKey: .guidance)
        }
        try c.encodeIfPresent(noiseLevel, forKey: .noiseLevel)
        if let guide {
            switch view {
            case .request: try c.encode(guide.model.path, forKey: .guideModel)
            case .provenance: try c.encode(guide.model.name, forKey: .guideModel)
            case .resumeKey: break
            }
            try c.encode(guide.model.sha256, forKey: .guideModelSHA256)
            try c.encode(guide.weight, forKey: .guideWeight)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func parse<T>(_ key: CodingKeys, _ make: (String) throws -> T?) throws -> T? {
            guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
            guard let value = try make(text) else { throw RequestError.unreadable(field: key.stringValue, value: text) }
            return value
        }
        let taskName = try c.decode(String.self, forKey: .task)
        guard let task = EditTask(rawValue: taskName) else { throw RequestError.unreadable(field: "task", value: taskName) }
        let diffusion = c.contains(.model) || c.contains(.modelSHA256)
        let options = try c.decodeIfPresent([String: String].self, forKey: .options) ?? [:]
        for name in options.keys.sorted() {
            guard Self.outputOptions.contains(name) || Self.modelOptions.contains(name) || Self.inpaintingOptions.contains(name) else {
                throw RequestError.unreadable(field: "options", value: name)
            }
            guard Self.outputOptions.contains(name) || (diffusion && (Self.modelOptions.contains(name) || task == .inpaint)) else {
                throw RequestError.inconsistent(task: task, reason: "option \(name) does not apply")
            }
        }
        func option<T>(_ name: String, _ make: (String) -> T?) throws -> T? {
            guard let text = options[name] else { return nil }
            guard let value = make(text) else { throw RequestError.unreadable(field: "options.\(name)", value: text) }
            return value
        }
        let output = try OutputRequest(bitDepth: try option("bit_depth") { Int($0) }, jpegQuality: try option("jpeg_quality") { Int($0) })
        guard diffusion else {
            if let key = [CodingKeys.sampler, .steps, .eta, .seed, .tiling, .prompt, .negativePrompt, .guidance, .noiseLevel, .guideModel,
                          .guideModelSHA256, .guideWeight].first(where: c.contains) {
                throw RequestError.inconsistent(task: task, reason: "\(key.stringValue) needs a model")
            }
            self.init(task: task, model: nil, method: try parse(.method, ResamplingFilter.init(rawValue:)) ?? .lanczos, sampling: nil, tiling: nil,
                      inpainting: nil, output: output)
            try validate()
            return
        }
        guard !c.contains(.method) else { throw RequestError.inconsistent(task: task, reason: "a classical method cannot be combined with a model") }
        // The resume-key view has no model name: its SHA-256 is the identity.
        let model = ModelReference(path: try c.decodeIfPresent(String.self, forKey: .model) ?? "",
                                   sha256: try c.decodeIfPresent(String.self, forKey: .modelSHA256) ?? "",
                                   useEMA: try option("weights") { ["raw": false, "ema": true][$0] } ?? true,
                                   halfWeights: try option("weights_precision") { ["float16": true][$0] } ?? false)
        let seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
        let sampling = try SamplingRequest(
            sampler: try parse(.sampler, SamplerKind.init(rawValue:)) ?? .ddim,
            steps: try c.decodeIfPresent(Int.self, forKey: .steps) ?? SamplingRequest.defaultSteps,
            eta: try c.decodeIfPresent(Float.self, forKey: .eta) ?? 0, seed: seed ?? SamplingRequest.randomSeed(),
            seedGiven: try c.decodeIfPresent(Bool.self, forKey: .seedGiven) ?? (seed != nil))
        let tiling = try parse(.tiling, TilingRequest.init(parsing:)) ?? .standard
        let prompt = try c.decodeIfPresent(String.self, forKey: .prompt).map { text throws -> PromptRequest in
            try PromptRequest(prompt: text, negativePrompt: try c.decodeIfPresent(String.self, forKey: .negativePrompt),
                              guidance: try c.decodeIfPresent(Float.self, forKey: .guidance) ?? PromptRequest.defaultGuidance)
        }
        if prompt == nil, let key = [CodingKeys.negativePrompt, .guidance].first(where: c.contains) {
            throw RequestError.inconsistent(task: task, reason: "\(key.stringValue) needs a prompt")
        }
        if task == .inpaint {
            let inpainting = try InpaintingRequest(
                maskInvert: try option("mask_invert") { ["true": true, "false": false][$0] } ?? false,
                maskDilate: try option("mask_dilate") { Int($0) } ?? 0,
                maskResize: try option("mask_resize") { $0 == "nearest" ? true : nil } ?? false,
                strategy: try option("strategy", InpaintingStrategy.init(rawValue:)) ?? .auto,
                cropMargin: try option("crop_margin") { Int($0) } ?? InpaintingRequest.defaultCropMargin,
                resizeLimit: try option("resize_limit") { Int($0) } ?? InpaintingRequest.defaultResizeLimit,
                holeLimit: try option("hole_limit") { Int($0) }, coarseGuidance: try option("coarse_guidance") { Double($0) },
                candidates: try option("candidates") { Int($0) } ?? 1, previewSteps: try option("preview_steps") { Int($0) },
                blendCandidates: try option("blend_candidates") { ["true": true, "false": false][$0] } ?? false)
            if c.contains(.noiseLevel) { throw RequestError.inconsistent(task: task, reason: "noise_level belongs to upscaling only") }
            self = .inpaint(model: model, sampling: sampling, tiling: tiling, inpainting: inpainting, output: output, prompt: prompt)
        } else {
            self = .upscale(model: model, sampling: sampling, tiling: tiling, output: output, prompt: prompt,
                            noiseLevel: try c.decodeIfPresent(Int.self, forKey: .noiseLevel))
        }
        if c.contains(.guideModel) || c.contains(.guideModelSHA256) {
            let reference = ModelReference(path: try c.decodeIfPresent(String.self, forKey: .guideModel) ?? "",
                                           sha256: try c.decodeIfPresent(String.self, forKey: .guideModelSHA256) ?? "",
                                           useEMA: model.useEMA, halfWeights: model.halfWeights)
            guide = try GuideRequest(model: reference, weight: try c.decodeIfPresent(Float.self, forKey: .guideWeight) ?? GuideRequest.defaultWeight)
        } else if c.contains(.guideWeight) {
            throw RequestError.inconsistent(task: task, reason: "guide_weight needs a guide_model")
        }
        try validate()
    }

    /// JSON with sorted keys and unescaped slashes: the same request always gives the same bytes.
    static func canonicalEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The canonical encoding of the whole request (the request view).
    public func canonicalEncoding() throws -> Data { try Self.canonicalEncoder().encode(self) }

    /// The resume key of the output this request makes from an input (and mask) with these
    /// SHA-256s: the SHA-256 of the canonical encoding of the resume-key view with the input hashes
    /// (format "ldm-edit-resume-v2"). Names, paths, tool version and dates stay out of it.
    public func resumeKey(inputSHA256: String, maskSHA256: String?) throws -> String {
        var hash = SHA256()
        hash.update(Array(try Self.canonicalEncoder().encode(KeyMaterial(settings: self, inputSHA256: inputSHA256, maskSHA256: maskSHA256))))
        return hash.finish()
    }

    private struct KeyMaterial: Encodable {
        let settings: EditRequest
        let inputSHA256: String
        let maskSHA256: String?

        enum CodingKeys: String, CodingKey {
            case format, settings
            case inputSHA256 = "input_sha256", maskSHA256 = "mask_sha256"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode("ldm-edit-resume-v2", forKey: .format)
            try settings.encode(to: c.superEncoder(forKey: .settings), view: .resumeKey)
            try c.encode(inputSHA256, forKey: .inputSHA256)
            try c.encodeIfPresent(maskSHA256, forKey: .maskSHA256)
        }
    }
}
