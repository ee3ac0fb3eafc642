import LDMPipelines

/// Autoguidance (`Autoguidance`, `ModelGuide`): the weaker model of the same task that guides the request's model,
/// and the weight w of p_guide + w·(p_model − p_guide). It loads with the model's EMA and precision choices.
public struct GuideRequest: Sendable, Equatable {
    public let model: ModelReference
    /// 1 is the model alone; above 1 pushes away from the guide.
    public let weight: Float

    /// Measured on the bundled inpainting model with its step-30,000 partial as the guide (docs/quality.md,
    /// "Autoguidance"): 1.5 gains detail at no hole PSNR; 2 and more trade PSNR for it.
    public static let defaultWeight: Float = 1.5
    /// Far beyond any useful weight (the paper's best are 1.5–3); a bound so a typo is not an image of noise.
    public static let maximumWeight: Float = 10

    public init(model: ModelReference, weight: Float = defaultWeight) throws(RequestError) {
        guard weight.isFinite, weight >= 0, weight <= Self.maximumWeight else { throw .guideWeight(weight) }
        self.model = model
        self.weight = weight
    }
}
