/// Minimal, valid ICC profiles built byte by byte, so the tests need no profile files.
///
/// Enough for libpng 1.6's checks (png_icc_check_length/header/tag_table): size field equal to the
/// length and a multiple of 4, 'acsp', rendering intent 0, D50 illuminant, class 'mntr', colour
/// space 'RGB ' or 'GRAY' (it must match the PNG colour type), PCS 'XYZ ', every tag inside the
/// profile and 4-byte aligned. Not a usable colour transform (no TRCs or colorants): nothing here
/// interprets profiles beyond their description.
enum TestICCProfiles {
    enum Version { case v2, v4 }

    /// - description: the 'desc' text; nil leaves the tag out (a 160-byte profile).
    /// - padding: extra bytes (a fixed non-zero pattern) after the tags, to make large profiles.
    static func make(colorSpace: String = "RGB ", version: Version = .v2, description: String? = "ldm-edit test profile",
                     padding: Int = 0) -> [UInt8] {
        let wtpt = Array("XYZ ".utf8) + [0, 0, 0, 0] + be32(0x0000_F6D6) + be32(0x0001_0000) + be32(0x0000_D32D)
        var tags: [(String, [UInt8])] = [("wtpt", wtpt)]
        if let description {
            tags.insert(("desc", version == .v2 ? textDescription(description) : multiLocalizedUnicode(description)), at: 0)
        }
        var data: [UInt8] = []
        var table = be32(tags.count)
        let dataStart = 128 + 4 + 12 * tags.count
        for (signature, body) in tags {
            table += Array(signature.utf8) + be32(dataStart + data.count) + be32(body.count)
            data += body
            while data.count % 4 != 0 { data.append(0) }
        }
        var padBytes = (0..<padding).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        while (128 + table.count + data.count + padBytes.count) % 4 != 0 { padBytes.append(0) }
        let size = 128 + table.count + data.count + padBytes.count

        var header = [UInt8](repeating: 0, count: 128)
        func put(_ bytes: [UInt8], at offset: Int) { header.replaceSubrange(offset..<(offset + bytes.count), with: bytes) }
        put(be32(size), at: 0)
        put(version == .v2 ? [2, 0x10, 0, 0] : [4, 0x30, 0, 0], at: 8)
        put(Array("mntr".utf8), at: 12)
        put(Array(colorSpace.utf8), at: 16)
        put(Array("XYZ ".utf8), at: 20)
        put(Array("acsp".utf8), at: 36)
        put(be32(0x0000_F6D6) + be32(0x0001_0000) + be32(0x0000_D32D), at: 68)  // D50
        return header + table + data + padBytes
    }

    /// v2 textDescriptionType: ASCII (with NUL), then empty Unicode and ScriptCode parts.
    static func textDescription(_ text: String) -> [UInt8] {
        let ascii = Array(text.utf8) + [0]
        return Array("desc".utf8) + [0, 0, 0, 0] + be32(ascii.count) + ascii + be32(0) + be32(0) + [0, 0, 0]
            + [UInt8](repeating: 0, count: 67)
    }

    /// v4 multiLocalizedUnicodeType with one en-US record in UTF-16BE.
    static func multiLocalizedUnicode(_ text: String) -> [UInt8] {
        let utf16 = text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        return Array("mluc".utf8) + [0, 0, 0, 0] + be32(1) + be32(12) + Array("enUS".utf8) + be32(utf16.count)
            + be32(28) + utf16
    }

    static func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
}
