import Foundation
import Testing
@testable import LDMImageIO

@Suite struct AtomicFileTests {
    let scratch = ScratchFolder()

    @Test func failingProducerLeavesNothing() {
        let target = scratch.file("out.png")
        #expect(throws: ImageIOError.writeFailed(path: target, reason: "boom")) {
            try AtomicFile.write(to: target) { (temporary) throws(ImageIOError) in
                _ = FileManager.default.createFile(atPath: temporary, contents: Data("partial".utf8))
                throw .writeFailed(path: target, reason: "boom")
            }
        }
        #expect(scratch.contents().isEmpty)
    }

    @Test func failedWriteKeepsThePreviousFile() throws {
        let target = scratch.file("out.png")
        let old = TestImages.random(width: 3, height: 3, channels: 3, bitDepth: 8)
        try ImageFile.write(old, to: target)
        let rgba = TestImages.random(width: 3, height: 3, channels: 4, bitDepth: 8)
        // An invalid raster for PNG cannot exist, so fail through the producer instead.
        #expect(throws: ImageIOError.self) {
            try AtomicFile.write(to: target) { (temporary) throws(ImageIOError) in
                try ImageFile.write(rgba, to: temporary + ".jpg")
            }
        }
        #expect(try ImageFile.read(target) == old)
        #expect(scratch.contents() == ["out.png"])
    }

    @Test func successReplacesAndLeavesNoTemporaryFiles() throws {
        let target = scratch.file("out.tif")
        for seed in 1...3 {
            let image = TestImages.random(width: 9, height: 4, channels: 2, bitDepth: 16, seed: UInt64(seed))
            try ImageFile.write(image, to: target)
            #expect(try ImageFile.read(target) == image)
        }
        #expect(scratch.contents() == ["out.tif"])
        let attributes = try FileManager.default.attributesOfItem(atPath: target)
        #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o044 } == 0o044, "new files are world-readable like any other")
    }

    @Test func missingFolderIsAWriteError() {
        let target = scratch.file("no/such/folder/out.png")
        let image = TestImages.random(width: 2, height: 2, channels: 1, bitDepth: 8)
        #expect(throws: ImageIOError.self) { try ImageFile.write(image, to: target) }
    }
}
