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

    /// Leftovers of killed runs: removed for dead processes of this host and when older than a day;
    /// kept for live processes and for other hosts' recent files (they may still be writing).
    @Test func staleTemporariesOfDeadProcessesAreRemoved() throws {
        let host = String(AtomicFile.ownerTag.split(separator: "-")[0])
        // A pid that is certainly dead: a child that has exited and been reaped.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = child.processIdentifier
        let prefix = AtomicFile.temporaryPrefix(for: "out.png")
        let names = ["\(prefix)\(host)-\(dead)-AAAAAA.tmp", "\(prefix)\(host)-\(getppid())-BBBBBB.tmp",
                     "\(prefix)otherhost-\(dead)-CCCCCC.tmp", "\(prefix)otherhost-123-DDDDDD.tmp", ".other.png.ldm-edit-x-1-EEEEEE.tmp"]
        for name in names { _ = scratch.write([1, 2, 3], to: name) }
        // The last other-host file is two days old.
        var times = [timespec(tv_sec: time(nil) - 2 * 86400, tv_nsec: 0), timespec(tv_sec: time(nil) - 2 * 86400, tv_nsec: 0)]
        utimensat(AT_FDCWD, scratch.file(names[3]), &times, 0)
        #expect(AtomicFile.removeStaleTemporaries(for: scratch.file("out.png")) == 2)
        #expect(scratch.contents() == [names[4], names[1], names[2]].sorted())
        // A write of out.png does the same cleaning on its way.
        _ = scratch.write([1], to: names[0])
        try ImageFile.write(TestImages.random(width: 2, height: 2, channels: 1, bitDepth: 8), to: scratch.file("out.png"))
        #expect(!scratch.contents().contains(names[0]))
    }
}
