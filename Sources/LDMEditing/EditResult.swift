import LDMImageIO

/// What one edit produced.
public struct EditResult: Sendable {
    /// The edited image, in the input's bit depth and channel layout (the output request's bit
    /// depth is applied when writing).
    public var image: RasterImage
    /// What ran: the tile plan after the memory ceiling, the inpainting strategy and its windows;
    /// nil for classical upscaling.
    public var plan: String?
    /// The planner's estimate of the peak memory (the largest over the edit's model runs).
    public var estimatedPeakBytes: Int?
    /// Every warning, in the order `EditCallbacks.warning` received them.
    public var warnings: [EditWarning] = []
}
