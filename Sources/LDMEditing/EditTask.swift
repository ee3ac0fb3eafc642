import LDMModels

/// The edits ldm-edit makes. The raw values are the names recorded in provenance ("task").
public enum EditTask: String, Sendable, CaseIterable {
    /// 4x super-resolution: with a diffusion model, or classical resampling without one.
    case upscale
    /// Fill the masked part of an image (needs a model).
    case inpaint

    /// The kind of diffusion model the edit needs.
    public var modelTask: ModelTask {
        switch self {
        case .upscale: .superResolution
        case .inpaint: .inpainting
        }
    }
}
