/// Why a mask looks wrong, before binarisation (`InpaintingImages.warnings`). Fractions are of all
/// pixels, in [0, 1].
public enum MaskWarning: Sendable, Equatable, CustomStringConvertible {
    /// Nothing is repainted: the output equals the input.
    case empty
    /// The whole image is repainted.
    case allWhite
    /// More than half of the image is repainted (often an inverted mask).
    case mostlyWhite(fraction: Float)
    /// More than 1 % grey pixels (anti-aliased brushes); the mask is binarised at 50 %.
    case soft(fraction: Float)

    public var description: String {
        switch self {
        case .empty: "the mask is empty: nothing will be repainted"
        case .allWhite: "the mask is all white: the whole image will be repainted"
        case .mostlyWhite(let fraction): "the mask covers \(Int(fraction * 100)) % of the image (white = repaint)"
        case .soft(let fraction): "the mask is soft (\(Int(fraction * 100)) % grey pixels); it is binarised at 50 %"
        }
    }
}
