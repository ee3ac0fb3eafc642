import Testing
@testable import LDMImageIO

/// `ImageMetadata.iccDescription` parses bytes from arbitrary files: it must find the 'desc' text in
/// v2 and v4 profiles and give nil, never a crash, for anything truncated or malformed.
@Suite struct ICCDescriptionTests {
    /// Deterministic generator (SplitMix64), so a failing fuzz case can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func description(_ bytes: [UInt8]) -> String? { ImageMetadata(iccProfile: bytes).iccDescription }

    @Test func readsV2AndV4Descriptions() {
        for text in ["sRGB IEC61966-2.1", "x", "Display P3 (ldm-edit)"] {
            #expect(Self.description(TestICCProfiles.make(version: .v2, description: text)) == text)
            #expect(Self.description(TestICCProfiles.make(version: .v4, description: text)) == text)
        }
        // mluc is UTF-16, so v4 descriptions need not be ASCII (surrogate pairs included).
        let unicode = "Écran calibré ✓ 日本語 🎨"
        #expect(Self.description(TestICCProfiles.make(colorSpace: "GRAY", version: .v4, description: unicode)) == unicode)
        #expect(Self.description(TestICCProfiles.make(version: .v2, padding: 5000)) == "ldm-edit test profile")
        // Trailing NULs and spaces (common in v2 profiles) are not part of the name.
        #expect(Self.description(TestICCProfiles.make(description: "Name  \0\0")) == "Name")
    }

    @Test func missingOrEmptyDescriptionIsNil() {
        #expect(ImageMetadata().iccDescription == nil)
        #expect(Self.description([]) == nil)
        #expect(Self.description(TestICCProfiles.make(description: nil)) == nil)
        #expect(Self.description(TestICCProfiles.make(description: "")) == nil)
        #expect(Self.description(TestICCProfiles.make(version: .v4, description: "")) == nil)
    }

    /// Bytes after the declared size are not part of the profile; a declared size beyond the bytes
    /// given means the profile was cut short.
    @Test func truncatedProfilesGiveNil() {
        for version in [TestICCProfiles.Version.v2, .v4] {
            let good = TestICCProfiles.make(version: version)
            for length in 0..<good.count {
                #expect(Self.description(Array(good.prefix(length))) == nil, "\(version) cut at \(length)")
            }
            #expect(Self.description(good + [1, 2, 3, 4]) == "ldm-edit test profile")
        }
    }

    @Test func malformedTagsGiveNil() {
        let good = TestICCProfiles.make(version: .v4)
        #expect(Self.description(good) != nil)
        func patched(_ offset: Int, _ value: Int) -> [UInt8] {
            var b = good
            b.replaceSubrange(offset..<(offset + 4), with: TestICCProfiles.be32(value))
            return b
        }
        let descOffset = 128 + 4 + 12 * 2  // tag data starts after two table entries; 'desc' comes first
        let cases: [(String, [UInt8])] = [
            ("no acsp", patched(36, 0x6163_7371)),
            ("size under header", patched(0, 100)),
            ("huge tag count", patched(128, 0x7FFF_FFFF)),
            ("tag offset past end", patched(132 + 4, good.count + 1)),
            ("tag size past end", patched(132 + 8, good.count)),
            ("tag offset near UInt32.max", patched(132 + 4, 0xFFFF_FFF0)),
            ("unknown type", patched(descOffset, 0x6162_6364)),
            ("no records", patched(descOffset + 8, 0)),
            ("record size too small", patched(descOffset + 12, 4)),
            ("string past tag", patched(descOffset + 24, 0xFFFF_FFFF)),
            ("string length past tag", patched(descOffset + 20, 0xFFFF_FFFE)),
        ]
        for (name, bytes) in cases { #expect(Self.description(bytes) == nil, "\(name)") }

        var v2 = TestICCProfiles.make(version: .v2)
        v2.replaceSubrange((descOffset + 8)..<(descOffset + 12), with: TestICCProfiles.be32(0x1000_0000))
        #expect(Self.description(v2) == nil, "v2 ASCII count past tag")
    }

    /// Random bytes, random bytes behind a plausible header, and valid profiles with random bytes
    /// changed (concentrated on header, tag table and tag headers): no crash, no hang.
    @Test func fuzzNeverCrashes() {
        var rng = SplitMix(state: 20_240_601)
        var found = 0
        for _ in 0..<300 {
            let length = Int.random(in: 0...400, using: &rng)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(Self.description(bytes) == nil)  // no 'acsp' at offset 36, at least not by chance here
            if length >= 132 {
                bytes.replaceSubrange(0..<4, with: TestICCProfiles.be32(length))
                bytes.replaceSubrange(36..<40, with: Array("acsp".utf8))
                bytes[128] = 0; bytes[129] = 0; bytes[130] = 0; bytes[131] = UInt8.random(in: 0...12, using: &rng)
                if Self.description(bytes) != nil { found += 1 }
            }
        }
        let originals = [TestICCProfiles.make(version: .v2), TestICCProfiles.make(version: .v4, description: "αβγ")]
        for i in 0..<600 {
            var bytes = originals[i % 2]
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let at = Int.random(in: 0..<min(bytes.count, 220), using: &rng)
                bytes[at] = UInt8.random(in: 0...255, using: &rng)
            }
            if Int.random(in: 0..<4, using: &rng) == 0 { bytes.removeLast(Int.random(in: 0..<bytes.count, using: &rng)) }
            if Self.description(bytes) != nil { found += 1 }
        }
        #expect(found > 0)  // some mutations leave the description readable: the parser ran to the end
    }
}
