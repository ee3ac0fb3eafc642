import Foundation

/// Why an image has no usable mask.
public enum MaskError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No mask for the image at `image` where `source` says to look.
    case notFound(image: String, source: MaskSource)
    /// The mask's size differs from the image's and resizing was not asked for.
    case sizeMismatch(maskWidth: Int, maskHeight: Int, imageWidth: Int, imageHeight: Int)

    public var description: String {
        switch self {
        case .notFound(let image, let source):
            let stem = ((image as NSString).lastPathComponent as NSString).deletingPathExtension
            return switch source {
            case .file(let path): "\(image): the mask \(path) does not exist"
            case .folder(let folder): "\(image): no mask found (looked for \(folder)/\(stem).png or \(stem)_mask.png)"
            case .besideImage: "\(image): no mask found (looked for \(stem)_mask.png beside it)"
            }
        case .sizeMismatch(let mw, let mh, let iw, let ih):
            return "the mask is \(mw)x\(mh), the image \(iw)x\(ih)"
        }
    }
}
