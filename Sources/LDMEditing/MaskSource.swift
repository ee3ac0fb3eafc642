import Foundation

/// Where the mask of each image of an inpainting batch comes from.
public enum MaskSource: Sendable, Equatable {
    /// One mask for every image.
    case file(String)
    /// A folder of masks, one per image: `<stem>.<ext>` or `<stem>_mask.<ext>`.
    case folder(String)
    /// The CompVis convention (`scripts/inpaint.py`): `X_mask.<ext>` beside `X.<ext>`. Files named
    /// like that are masks, not images to inpaint.
    case besideImage

    /// Extensions tried, in order.
    public static let extensions = ["png", "jpg", "jpeg", "tif", "tiff", "PNG", "JPG"]

    /// `X_mask.<ext>`: a mask by the CompVis convention.
    public static func isMaskName(_ path: String) -> Bool {
        ((path as NSString).lastPathComponent as NSString).deletingPathExtension.hasSuffix("_mask")
    }

    /// The mask for the image at `image`.
    public func mask(for image: String) throws(MaskError) -> String {
        let folder: String?
        switch self {
        case .file(let path):
            guard FileManager.default.fileExists(atPath: path) else { throw .notFound(image: image, source: self) }
            return path
        case .folder(let path): folder = path
        case .besideImage: folder = nil
        }
        let stem = ((image as NSString).lastPathComponent as NSString).deletingPathExtension
        let dir = folder ?? (image as NSString).deletingLastPathComponent
        for name in folder == nil ? [stem + "_mask"] : [stem, stem + "_mask"] {
            for ext in Self.extensions {
                let candidate = ((dir.isEmpty ? "." : dir) as NSString).appendingPathComponent(name + "." + ext)
                if FileManager.default.fileExists(atPath: candidate), candidate != image { return candidate }
            }
        }
        throw .notFound(image: image, source: self)
    }
}
