import Foundation
import LDMImageIO
import LDMPipelines
import Testing
@testable import LDMEditing

/// Mask pairing (where each image's mask is) and preparation (size check, resize, invert, dilate,
/// warnings), with errors that carry the facts.
@Suite struct MaskTests {
    @Test func aMaskOfAnotherSizeIsRefusedUnlessResizingIsAsked() throws {
        let mask = try Fixture.mask(width: 8, height: 8) { x, _ in x < 4 }
        #expect(throws: MaskError.sizeMismatch(maskWidth: 8, maskHeight: 8, imageWidth: 16, imageHeight: 12)) {
            try InpaintingRequest.standard.prepare(mask: mask, width: 16, height: 12)
        }
        let resized = try InpaintingRequest(maskResize: true).prepare(mask: mask, width: 16, height: 12)
        #expect(resized.values.count == 16 * 12 && resized.values.filter { $0 == 1 }.count == 8 * 12)
        #expect(resized.warnings.isEmpty)
    }

    @Test func invertDilateAndWarnings() throws {
        let black = try Fixture.mask(width: 6, height: 6) { _, _ in false }
        #expect(try InpaintingRequest.standard.prepare(mask: black, width: 6, height: 6).warnings == [.empty])
        let inverted = try InpaintingRequest(maskInvert: true).prepare(mask: black, width: 6, height: 6)
        #expect(inverted.warnings == [.allWhite] && inverted.values.allSatisfy { $0 == 1 })
        let dot = try Fixture.mask(width: 6, height: 6) { x, y in x == 2 && y == 2 }
        let grown = try InpaintingRequest(maskDilate: 1).prepare(mask: dot, width: 6, height: 6)
        #expect(grown.values.filter { $0 == 1 }.count == 9)
    }

    @Test func masksArePairedBesideTheImageInAFolderOrOneForAll() throws {
        let dir = try Fixture.scratch()
        for name in ["a.png", "a_mask.png", "b.png", "masks/c_mask.jpg", "masks/d.png"] {
            try FileManager.default.createDirectory(atPath: dir + "/masks", withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data())
        }
        #expect(try MaskSource.besideImage.mask(for: dir + "/a.png") == dir + "/a_mask.png")
        #expect(throws: MaskError.notFound(image: dir + "/b.png", source: .besideImage)) { try MaskSource.besideImage.mask(for: dir + "/b.png") }
        #expect(try MaskSource.folder(dir + "/masks").mask(for: "elsewhere/c.tif") == dir + "/masks/c_mask.jpg")
        #expect(try MaskSource.folder(dir + "/masks").mask(for: "d.png") == dir + "/masks/d.png")
        #expect(throws: MaskError.notFound(image: "e.png", source: .folder(dir + "/masks"))) { try MaskSource.folder(dir + "/masks").mask(for: "e.png") }
        #expect(try MaskSource.file(dir + "/b.png").mask(for: "anything.png") == dir + "/b.png")
        #expect(throws: MaskError.notFound(image: "x.png", source: .file(dir + "/none.png"))) { try MaskSource.file(dir + "/none.png").mask(for: "x.png") }
        #expect(MaskSource.isMaskName("photos/a_mask.PNG") && !MaskSource.isMaskName("photos/mask.png"))
    }
}
