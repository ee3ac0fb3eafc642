/// What can go wrong reading or writing an image. Every case that concerns a file names it.
public enum ImageIOError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be opened or read (missing, permissions, a folder).
    case unreadable(path: String, reason: String)
    /// The file is not in any format we read (checked from its first bytes).
    case notAnImage(path: String)
    /// The data is damaged: bad headers, bad compressed data.
    case corrupt(path: String, format: ImageFormat, reason: String)
    /// The file ends before the image does.
    case truncated(path: String, format: ImageFormat, reason: String)
    /// A valid file in a variant we do not decode (CMYK JPEG, 32-bit TIFF, ...).
    case unsupported(path: String, format: ImageFormat, reason: String)
    /// The header declares more pixels than the ceiling allows (decompression-bomb guard).
    case tooLarge(path: String, reason: String)
    /// Memory for the pixels could not be allocated.
    case outOfMemory(path: String, reason: String)
    /// The output could not be written; nothing is left under its name.
    case writeFailed(path: String, reason: String)
    /// The output's extension names no format we write.
    case unknownOutputFormat(path: String)
    /// The raster cannot be stored in the chosen format (e.g. 16-bit JPEG).
    case cannotEncode(path: String, format: ImageFormat, reason: String)
    /// A raster whose geometry and sample count disagree (a programming error surfaced as a value).
    case invalidRaster(String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): cannot read file: \(reason)"
        case .notAnImage(let path): "\(path): not an image (neither PNG, JPEG nor TIFF)"
        case .corrupt(let path, let format, let reason): "\(path): corrupt \(format.name) file: \(reason)"
        case .truncated(let path, let format, let reason): "\(path): truncated \(format.name) file: \(reason)"
        case .unsupported(let path, let format, let reason): "\(path): unsupported \(format.name) variant: \(reason)"
        case .tooLarge(let path, let reason):
            "\(path): \(reason); raise the limit with --max-pixels if the image is trusted"
        case .outOfMemory(let path, let reason): "\(path): out of memory: \(reason)"
        case .writeFailed(let path, let reason): "\(path): cannot write: \(reason)"
        case .unknownOutputFormat(let path):
            "\(path): unknown output format; use a .png, .tif/.tiff or .jpg/.jpeg extension"
        case .cannotEncode(let path, let format, let reason): "\(path): cannot write as \(format.name): \(reason)"
        case .invalidRaster(let reason): "invalid raster: \(reason)"
        }
    }
}
