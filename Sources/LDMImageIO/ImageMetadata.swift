/// What travels with the pixels: the colour profile and ldm-edit's provenance text.
///
/// Where each format keeps them (see ldm_codecs.h): PNG iCCP and an iTXt chunk with keyword
/// "ldm-edit"; TIFF ICCProfile and ImageDescription; JPEG APP2 "ICC_PROFILE" markers and the first
/// comment (COM) marker. Nothing else of a file's metadata is kept.
public struct ImageMetadata: Sendable, Equatable {
    /// The embedded ICC profile, byte for byte. An empty array is not embedded on write.
    public var iccProfile: [UInt8]?
    /// The provenance text (PNG iTXt "ldm-edit", TIFF ImageDescription, JPEG comment).
    /// It travels as a C string, so it ends at its first NUL character.
    public var text: String?

    public init(iccProfile: [UInt8]? = nil, text: String? = nil) {
        self.iccProfile = iccProfile
        self.text = text
    }

    /// The profile's description ('desc' tag: ICC v2 textDescriptionType or v4
    /// multiLocalizedUnicodeType, first record), if readable. Every offset and length read from
    /// the profile is bounds-checked, so damaged or hostile bytes give nil, never a crash.
    public var iccDescription: String? {
        guard let iccProfile else { return nil }
        return ICCProfileReader(iccProfile)?.description
    }
}

/// Just enough of the ICC.1 format (ICC.1:2001-04 for v2, ICC.1:2022 for v4) to find one tag.
struct ICCProfileReader {
    private let bytes: [UInt8]
    /// Bytes that belong to the profile: the header's size field, when the array holds that many.
    private let end: Int

    /// nil unless the header is plausible: 'acsp' signature, and a declared size of at least the
    /// 128-byte header plus the tag count that fits in the bytes given (so a truncated profile is nil).
    init?(_ bytes: [UInt8]) {
        let whole = ICCProfileReader(bytes: bytes, end: bytes.count)
        guard let size = whole.u32(0), size >= 132, size <= bytes.count, whole.u32(36) == 0x6163_7370 /* 'acsp' */
        else { return nil }
        self.init(bytes: bytes, end: size)
    }

    private init(bytes: [UInt8], end: Int) {
        self.bytes = bytes
        self.end = end
    }

    /// Big-endian UInt32 at `offset`, or nil when any of its bytes lies outside the profile.
    func u32(_ offset: Int) -> Int? {
        guard offset >= 0, offset <= end - 4 else { return nil }
        return Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
    }

    private func u16(_ offset: Int) -> Int? {
        guard offset >= 0, offset <= end - 2 else { return nil }
        return Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
    }

    /// (offset, size) of the first tag with this signature, checked to lie inside the profile.
    func tag(_ signature: UInt32) -> (offset: Int, size: Int)? {
        guard let count = u32(128) else { return nil }
        // Each entry is 12 bytes; a count larger than the profile can hold is garbage.
        guard count <= (end - 132) / 12 else { return nil }
        for i in 0..<count {
            let entry = 132 + i * 12
            guard let sig = u32(entry), let offset = u32(entry + 4), let size = u32(entry + 8) else { return nil }
            guard sig == Int(signature) else { continue }
            guard offset <= end, size <= end - offset else { return nil }
            return (offset, size)
        }
        return nil
    }

    /// The 'desc' tag's text, trailing NULs and spaces removed; nil when missing, unreadable or empty.
    var description: String? {
        guard let (offset, size) = tag(0x6465_7363) /* 'desc' */, size >= 12, let type = u32(offset) else { return nil }
        let text: String?
        switch type {
        case 0x6465_7363: text = textDescription(at: offset, size: size)  // v2 'desc'
        case 0x6D6C_7563: text = localizedUnicode(at: offset, size: size)  // v4 'mluc'
        case 0x7465_7874: text = ascii(from: offset + 8, count: size - 8)  // 'text', some v2 writers
        default: text = nil
        }
        guard var trimmed = text else { return nil }
        while let last = trimmed.unicodeScalars.last, last == "\0" || last == " " { trimmed.unicodeScalars.removeLast() }
        return trimmed.isEmpty ? nil : trimmed
    }

    /// textDescriptionType: 'desc', 4 reserved, UInt32 ASCII count (with its NUL), the ASCII bytes
    /// (then Unicode and ScriptCode variants, which the ASCII one always accompanies).
    private func textDescription(at offset: Int, size: Int) -> String? {
        guard let count = u32(offset + 8), count <= size - 12 else { return nil }
        return ascii(from: offset + 12, count: count)
    }

    /// multiLocalizedUnicodeType: 'mluc', 4 reserved, record count, record size (12), then records
    /// of language, country, byte length, offset from the tag start; strings are UTF-16BE.
    private func localizedUnicode(at offset: Int, size: Int) -> String? {
        guard let records = u32(offset + 8), records >= 1, let recordSize = u32(offset + 12), recordSize >= 12,
              size >= 16 + recordSize,
              let length = u32(offset + 16 + 4), let start = u32(offset + 16 + 8),
              start <= size, length <= size - start
        else { return nil }
        var units: [UInt16] = []
        units.reserveCapacity(length / 2)
        for i in 0..<(length / 2) {
            guard let unit = u16(offset + start + 2 * i) else { return nil }
            units.append(UInt16(unit))
        }
        return String(decoding: units, as: UTF16.self)
    }

    /// Bytes up to `count` or the first NUL, as text. Not always clean 7-bit ASCII in the wild:
    /// decoded as UTF-8 with invalid bytes replaced.
    private func ascii(from offset: Int, count: Int) -> String? {
        guard count >= 0, offset >= 0, offset <= end, count <= end - offset else { return nil }
        return String(decoding: bytes[offset..<(offset + count)].prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// What `ImageFile.readHeader` finds without decoding pixels.
public struct ImageHeader: Sendable, Equatable {
    public let format: ImageFormat
    public let width: Int
    public let height: Int
    /// 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA — as `ImageFile.read` would return.
    public let channels: Int
    /// 8 or 16, as `ImageFile.read` would return.
    public let bitDepth: Int
    public let metadata: ImageMetadata
}
