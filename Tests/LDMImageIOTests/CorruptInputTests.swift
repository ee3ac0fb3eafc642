import Testing
@testable import LDMImageIO

/// Damaged files of every format give the typed error that names the file, never a crash.
/// The damaged files are made here from valid ones, so no binary fixtures are needed.
@Suite struct CorruptInputTests {
    let scratch = ScratchFolder()

    /// A valid file of each format, big enough that half of it cuts through the pixel data.
    func valid(_ ext: String) throws -> [UInt8] {
        let image = ext == "jpg" ? TestImages.gradient(width: 96, height: 64, channels: 3)
                                 : TestImages.random(width: 96, height: 64, channels: 3, bitDepth: 8)
        let options = ImageWriteOptions(tiffCompression: .lzw)
        try ImageFile.write(image, to: scratch.file("valid.\(ext)"), options: options)
        return scratch.bytes("valid.\(ext)")
    }

    func failure(_ bytes: [UInt8], _ ext: String) -> ImageIOError? {
        let path = scratch.write(bytes, to: "bad.\(ext)")
        do {
            _ = try ImageFile.read(path)
            return nil
        } catch {
            #expect(error.description.hasPrefix(path), "message must name the file: \(error)")
            return error
        }
    }

    @Test(arguments: ["png", "jpg", "tif"])
    func truncatedIsReportedAsTruncated(_ ext: String) throws {
        let bytes = try valid(ext)
        for fraction in [0.5, 0.9] {
            let cut = Array(bytes.prefix(Int(Double(bytes.count) * fraction)))
            let error = failure(cut, ext)
            guard case .truncated = error else {
                Issue.record("\(ext) cut at \(fraction): expected .truncated, got \(String(describing: error))")
                continue
            }
        }
    }

    @Test(arguments: ["png", "jpg", "tif"])
    func cutInsideTheHeaderFails(_ ext: String) throws {
        let bytes = try valid(ext)
        for length in [9, 20, 40] {
            let error = failure(Array(bytes.prefix(length)), ext)
            switch error {
            case .truncated, .corrupt: break
            default: Issue.record("\(ext) cut at \(length) bytes: got \(String(describing: error))")
            }
        }
    }

    @Test(arguments: ["png", "jpg", "tif"])
    func garbageAfterTheSignatureIsCorrupt(_ ext: String) throws {
        let bytes = try valid(ext)
        var garbage = Array(bytes.prefix(8))
        var state: UInt32 = 12345
        for _ in 0..<4096 {
            state = state &* 1_103_515_245 &+ 12345
            garbage.append(UInt8(truncatingIfNeeded: state >> 16))
        }
        let error = failure(garbage, ext)
        switch error {
        case .corrupt, .truncated, .unsupported: break
        default: Issue.record("\(ext) garbage: got \(String(describing: error))")
        }
    }

    @Test func damagedPNGDataFailsItsChecksum() throws {
        var bytes = try valid("png")
        for i in stride(from: bytes.count / 2, to: bytes.count / 2 + 64, by: 1) { bytes[i] ^= 0x5A }
        guard case .corrupt = failure(bytes, "png") else { Issue.record("expected .corrupt"); return }
    }

    @Test func damagedJPEGMarkersAreCorrupt() throws {
        var bytes = try valid("jpg")
        for i in 4..<40 { bytes[i] = 0x00 }  // APP0 length and body: the marker stream derails
        let error = failure(bytes, "jpg")
        guard case .corrupt = error else { Issue.record("expected .corrupt, got \(String(describing: error))"); return }
    }

    @Test func damagedTIFFDirectoryIsCorrupt() throws {
        var bytes = try valid("tif")
        // Our writer produces little-endian ("II") files; empty the first directory's entry list,
        // so required fields such as ImageWidth are missing.
        #expect(bytes[0] == 0x49)
        let ifd = Int(bytes[4]) | Int(bytes[5]) << 8 | Int(bytes[6]) << 16 | Int(bytes[7]) << 24
        bytes[ifd] = 0
        bytes[ifd + 1] = 0
        let error = failure(bytes, "tif")
        guard case .corrupt = error else { Issue.record("expected .corrupt, got \(String(describing: error))"); return }
    }

    @Test func notImagesAndMissingFiles() throws {
        #expect(failure([], "png") == .notAnImage(path: scratch.file("bad.png")))
        #expect(failure(Array("hello, world\n".utf8), "png") == .notAnImage(path: scratch.file("bad.png")))
        let missing = scratch.file("missing.png")
        #expect(throws: ImageIOError.unreadable(path: missing, reason: "No such file or directory")) {
            try ImageFile.read(missing)
        }
        #expect(throws: ImageIOError.unreadable(path: scratch.path, reason: "is a folder")) {
            try ImageFile.read(scratch.path)
        }
    }

    @Test(arguments: ["png", "jpg", "tif"])
    func pixelCeilingIsChecked(_ ext: String) throws {
        _ = try valid(ext)
        let path = scratch.file("valid.\(ext)")
        #expect(throws: Never.self) { try ImageFile.read(path, options: ImageReadOptions(maxPixels: 96 * 64)) }
        do {
            _ = try ImageFile.read(path, options: ImageReadOptions(maxPixels: 96 * 64 - 1))
            Issue.record("ceiling not enforced")
        } catch {
            guard case .tooLarge(let p, let reason) = error else { Issue.record("got \(error)"); return }
            #expect(p == path && reason.contains("96x64"))
        }
    }

    /// A 100000x100000 header with a token of image data: refused from the header, before any allocation.
    @Test func decompressionBombHeaderIsRefused() {
        let png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] as [UInt8]
            + TestPNGEncoder.chunk("IHDR", TestPNGEncoder.be32(100_000) + TestPNGEncoder.be32(100_000) + [8, 2, 0, 0, 0])
            + TestPNGEncoder.chunk("IDAT", TestPNGEncoder.zlibStored([0, 0, 0, 0]))
        guard case .tooLarge = failure(png, "png") else { Issue.record("expected .tooLarge"); return }
    }
}
