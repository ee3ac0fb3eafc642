/// What can go wrong opening or reading a weight file. Every case names the file.
public enum CheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    /// Neither safetensors, a PyTorch zip checkpoint, nor a diffusers folder.
    case unknownFormat(path: String, hint: String)
    case malformedSafetensors(path: String, reason: String)
    case malformedZip(path: String, reason: String)
    case malformedPickle(path: String, reason: String)
    /// The checkpoint holds no dictionary of tensors where one was expected.
    case notAStateDict(path: String, found: String)
    /// A tensor's dtype cannot be turned into Float32 (integer or boolean tensors, unknown dtypes).
    case unsupportedDType(path: String, key: String, dtype: String)
    /// A tensor's bytes (offset, shape, strides) reach outside its storage.
    case tensorOutOfBounds(path: String, key: String, reason: String)
    case missingTensor(path: String, key: String)
    /// A weight holds NaN or ±Inf: the model would only ever produce NaN images.
    case nonFiniteWeights(path: String, key: String, count: Int)
    /// Narrowing to float16 (`WeightPrecision.float16`) found `count` values beyond its range (±65504).
    case halfRange(path: String, key: String, count: Int, largest: Float)
    /// The file's tensors do not fit the model: every missing, mis-shaped and unexpected key.
    case auditFailed(path: String, audit: WeightAudit)
    /// The architecture cannot be recognised or is outside what ldm-edit implements.
    case unsupportedModel(path: String, reason: String)
    /// A config field describes no model ldm-edit can build (`ConfigBounds`): the field as the file
    /// spells it (`layers_per_block` in a diffusers config.json, `unet.numResBlocks` in the
    /// `ldm_edit_config` metadata), its value, and what it must be.
    case invalidConfig(path: String, field: String, value: String, expected: String)
    /// A model for the other editing task.
    case wrongTask(path: String, found: ModelTask, expected: ModelTask)
    /// A Stable Diffusion model whose text encoder's width is not the U-Net's cross-attention context width
    /// (a text encoder from another family: SD 1.x's CLIP ViT-L/14 is 768 wide, SD 2.x's OpenCLIP ViT-H 1024).
    case textEncoderMismatch(path: String, textWidth: Int, contextDim: Int)

    public var description: String {
        switch self {
        case .unreadable(let p, let r): "\(p): cannot read: \(r)"
        case .unknownFormat(let p, let hint): "\(p): not a supported weight file (\(hint))"
        case .malformedSafetensors(let p, let r): "\(p): malformed safetensors file: \(r)"
        case .malformedZip(let p, let r): "\(p): malformed PyTorch zip checkpoint: \(r)"
        case .malformedPickle(let p, let r): "\(p): malformed or unsupported pickle in checkpoint: \(r)"
        case .notAStateDict(let p, let found): "\(p): expected a dictionary of tensors, found \(found)"
        case .unsupportedDType(let p, let k, let d): "\(p): tensor \(k) has dtype \(d), which cannot be loaded as float32"
        case .tensorOutOfBounds(let p, let k, let r): "\(p): tensor \(k) lies outside its data: \(r)"
        case .missingTensor(let p, let k): "\(p): no tensor named \(k)"
        case .nonFiniteWeights(let p, let k, let n):
            "\(p): tensor \(k) holds \(n) NaN or infinite value\(n == 1 ? "" : "s"); the checkpoint is damaged (or was saved after training diverged)"
        case .halfRange(let p, let k, let n, let largest):
            "\(p): tensor \(k) holds \(n) value\(n == 1 ? "" : "s") beyond float16's range (largest |x| = \(largest), float16 ends at 65504), "
                + "so its weights cannot be held as float16; keep them at their stored precision"
        case .auditFailed(let p, let audit): "\(p): the weights do not fit the model:\n\(audit)"
        case .unsupportedModel(let p, let r): "\(p): unsupported model: \(r)"
        case .invalidConfig(let p, let field, let value, let expected): "\(p): invalid model config: \(field) = \(value); expected \(expected)"
        case .wrongTask(let p, let found, let expected):
            "\(p): this is \(found.withArticle) model, not \(expected.rawValue)"
        case .textEncoderMismatch(let p, let text, let context):
            "\(p): the text encoder is \(text) wide but the U-Net's cross-attention reads \(context)-wide text embeddings; the text encoder belongs to another model family"
        }
    }
}
