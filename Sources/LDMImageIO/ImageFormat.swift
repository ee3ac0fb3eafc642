/// The file formats ldm-edit reads and writes.
public enum ImageFormat: String, Sendable, CaseIterable, Equatable {
    case png, jpeg, tiff

    /// Display name used in messages.
    public var name: String { rawValue.uppercased() }

    /// Usual file extension for outputs.
    public var preferredExtension: String {
        switch self {
        case .png: "png"
        case .jpeg: "jpg"
        case .tiff: "tif"
        }
    }

    /// Whether the format can store an alpha channel / 16-bit samples.
    public var supportsAlpha: Bool { self != .jpeg }
    public var supports16Bit: Bool { self != .jpeg }

    /// The format an output path asks for, from its extension (case-insensitive).
    public init?(pathExtension: String) {
        switch pathExtension.lowercased() {
        case "png": self = .png
        case "jpg", "jpeg", "jpe", "jfif": self = .jpeg
        case "tif", "tiff": self = .tiff
        default: return nil
        }
    }

    /// The format a file's leading bytes announce, whatever its name says.
    public init?(signature bytes: some Collection<UInt8>) {
        let b = Array(bytes.prefix(8))
        if b.count >= 8, b == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] {
            self = .png
        } else if b.count >= 3, b[0] == 0xFF, b[1] == 0xD8, b[2] == 0xFF {
            self = .jpeg
        } else if b.count >= 4, (b[0] == 0x49 && b[1] == 0x49 && (b[2] == 0x2A || b[2] == 0x2B) && b[3] == 0)
                    || (b[0] == 0x4D && b[1] == 0x4D && b[2] == 0 && (b[3] == 0x2A || b[3] == 0x2B)) {
            self = .tiff  // classic TIFF (42) or BigTIFF (43), either byte order
        } else {
            return nil
        }
    }
}
