import Foundation
import LDMImageIO
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// docs/robustness.md, row by row: each bad input through the built binary → the message, the
/// exit status, what was written (never anything partial) and whether the rest of the batch ran.
@Suite struct RobustnessTests {
    let scratch = Scratch()
    static func parity(_ kind: String) -> String { CLI.sample("Tests/LDMModelsTests/Fixtures/parity/" + kind) }

    /// A patterned image, or pseudo-random noise (which PNG cannot compress).
    func image(_ name: String, width: Int = 12, height: Int = 10, channels: Int = 3, depth: Int = 8, noise: Bool = false) throws -> String {
        let count = width * height * channels
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        let samples: RasterImage.Samples = depth == 8
            ? .uint8((0..<count).map { i in
                guard noise else { return UInt8(truncatingIfNeeded: i * 37 + 11) }
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 56)
            })
            : .uint16((0..<count).map { UInt16(truncatingIfNeeded: $0 * 9973 + 5) })
        let path = scratch.file(name)
        try ImageFile.write(try RasterImage(width: width, height: height, channels: channels, samples: samples), to: path)
        return path
    }

    func bytes(_ name: String, _ data: Data) -> String {
        let path = scratch.file(name)
        FileManager.default.createFile(atPath: path, contents: data)
        return path
    }

    func contents(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }

    /// A PNG with the given header size and one tiny (wrong) IDAT: enough for the header check.
    static func pngHeader(width: UInt32, height: UInt32) -> Data {
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            var crc: UInt32 = 0xffff_ffff
            for byte in typed {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xedb8_8320 : crc >> 1 }
            }
            return be(UInt32(body.count)) + typed + be(~crc)
        }
        let ihdr = be(width) + be(height) + [8, 2, 0, 0, 0]
        return Data([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] + chunk("IHDR", ihdr) + chunk("IDAT", [0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
                    + chunk("IEND", []))
    }

    // MARK: Images

    /// Truncated and corrupt PNG/TIFF/JPEG, zero-size and huge headers, an empty file, a folder
    /// without images and a missing file, in one batch with two good images (8-bit RGB and 16-bit
    /// gray+alpha): each bad one fails alone with its own message, the good ones are written.
    @Test func badImagesFailAloneAndTheBatchGoesOn() throws {
        var inputs = [try image("good.png"), try image("good16.png", channels: 2, depth: 16)]
        for format in ["png", "tif", "jpg"] {
            let whole = try Data(contentsOf: URL(fileURLWithPath: try image("whole.\(format)", width: 64, height: 48)))
            inputs.append(bytes("cut.\(format)", whole.prefix(whole.count * 6 / 10)))
            var damaged = whole
            for i in stride(from: whole.count / 3, to: whole.count * 2 / 3, by: 7) { damaged[i] = 0xff }
            inputs.append(bytes("damaged.\(format)", damaged))
            try FileManager.default.removeItem(atPath: scratch.file("whole.\(format)"))
        }
        inputs.append(bytes("zero.png", Self.pngHeader(width: 0, height: 16)))
        inputs.append(bytes("huge.png", Self.pngHeader(width: 100_000, height: 100_000)))
        inputs.append(bytes("empty.png", Data()))
        try FileManager.default.createDirectory(atPath: scratch.file("folder.png"), withIntermediateDirectories: true)
        inputs.append(scratch.file("folder.png"))
        inputs.append(scratch.file("missing.png"))
        let out = scratch.file("out")
        let r = try CLI.run(["upscale", "--method", "bicubic"] + inputs + ["-o", out + "/"])
        print(r.stderr)
        #expect(r.status == 1)
        #expect(contents(out) == ["good.png", "good16.png"], "only the good images, nothing partial or temporary: \(contents(out))")
        for expected in [
            "cut.png: truncated PNG file", "cut.tif: truncated TIFF file", "cut.jpg: truncated JPEG file",
            "damaged.png: corrupt PNG file", "damaged.tif: ", "damaged.jpg: ",
            "zero.png: corrupt PNG file: Invalid IHDR data",
            "huge.png: image is 100000x100000 (10000000000 pixels), above the limit of 268435456 pixels; raise the limit with --max-pixels if the image is trusted",
            "empty.png: not an image (neither PNG, JPEG nor TIFF)",
            "folder.png: folder has no PNG, JPEG or TIFF files",
            "missing.png: no such file or folder",
        ] {
            #expect(r.stderr.contains("error: ") && r.stderr.contains(expected), "\(expected)")
        }
        #expect(r.stderr.contains("2 done, 0 skipped, 11 failed"))
        #expect(try ImageFile.read(out + "/good16.png").bitDepth == 16)
    }

    // MARK: Masks

    /// An all-white mask repaints everything (exit 0); a gray 16-bit mask and an RGBA mask are read
    /// like an 8-bit gray one (the mask is thresholded at one half).
    @Test func allWhiteAndVariantMasks() throws {
        let input = try image("in.png", width: 16, height: 16)
        let white = scratch.file("white.png")
        try ImageFile.write(try RasterImage(width: 16, height: 16, channels: 1, samples: .uint8(Array(repeating: 255, count: 256))), to: white)
        let r = try CLI.run(["inpaint", input, "--mask", white, "--model", Self.parity("inp"), "--steps", "2", "--seed", "3", "-o", scratch.file("w.png")])
        #expect(r.status == 0, "\(r.stderr)")
        let reference = try ImageFile.read(scratch.file("w.png"))
        var half = [UInt16](repeating: 0, count: 256), rgba = [UInt8](repeating: 0, count: 1024)
        for i in 0..<256 where i % 16 >= 8 { half[i] = 65535; for c in 0..<4 { rgba[4 * i + c] = 255 } }
        let gray16 = scratch.file("g16.png"), color = scratch.file("rgba.png"), gray8 = scratch.file("g8.png")
        try ImageFile.write(try RasterImage(width: 16, height: 16, channels: 1, samples: .uint16(half)), to: gray16)
        try ImageFile.write(try RasterImage(width: 16, height: 16, channels: 4, samples: .uint8(rgba)), to: color)
        try ImageFile.write(try RasterImage(width: 16, height: 16, channels: 1, samples: .uint8(half.map { UInt8($0 >> 8) })), to: gray8)
        var results: [RasterImage] = []
        for (name, mask) in [("a", gray8), ("b", gray16), ("c", color)] {
            let run = try CLI.run(["inpaint", input, "--mask", mask, "--model", Self.parity("inp"), "--steps", "2", "--seed", "3", "-o", scratch.file("\(name).png")])
            #expect(run.status == 0, "\(run.stderr)")
            results.append(try ImageFile.read(scratch.file("\(name).png")))
        }
        #expect(results[0].samples == results[1].samples && results[0].samples == results[2].samples)
        #expect(results[0].samples != reference.samples)
    }

    // MARK: Output folders and full disks

    /// A missing output folder is created; an output path under a file, or in a folder we may not
    /// write, fails that image alone with the OS's reason; nothing is left behind.
    @Test func unwritableOutputs() throws {
        let input = try image("in.png")
        let created = try CLI.run(["upscale", input, "--method", "bicubic", "-o", scratch.file("new/deeper/")])
        #expect(created.status == 0 && contents(scratch.file("new/deeper")) == ["in.png"], "\(created.stderr)")
        let blocker = bytes("plain-file", Data("x".utf8))
        let underFile = try CLI.run(["upscale", input, "--method", "bicubic", "-o", blocker + "/out.png"])
        print(underFile.stderr)
        #expect(underFile.status == 1 && underFile.stderr.contains("in.png: \(blocker): cannot create output folder: \(blocker) is a file, not a folder"), "\(underFile.stderr)")
        let nested = try CLI.run(["upscale", scratch.path, "--method", "bicubic", "--recursive", "-o", blocker + "/deeper/"])
        #expect(nested.status == 1 && nested.stderr.contains("\(blocker)/deeper/: cannot create output folder: \(blocker) is a file, not a folder"),
                "\(nested.stderr)")
        let readOnly = scratch.file("ro")
        guard let unmount = ReadOnlyFolder.make(readOnly) else {
            print("read-only folder: no way to make one here (root without mount); row checked on systems that allow it")
            return
        }
        defer { unmount() }
        let denied = try CLI.run(["upscale", input, try image("second.png"), "--method", "bicubic", "-o", readOnly + "/"])
        print(denied.stderr)
        #expect(denied.status == 1 && denied.stderr.contains("cannot write: Read-only file system") || denied.stderr.contains("cannot write: Permission denied"),
                "\(denied.stderr)")
        #expect(denied.stderr.contains("0 done, 0 skipped, 2 failed"))
        #expect(contents(readOnly).isEmpty)
    }

    /// A full disk, simulated with a file-size limit (RLIMIT_FSIZE, `ulimit -f`; SIGXFSZ is ignored
    /// so the write fails with EFBIG): the big output fails with nothing partial left, the small one
    /// after it is written.
    @Test func fileSizeLimitFailsOneOutputAndTheBatchGoesOn() throws {
        let big = try image("big.png", width: 160, height: 160, noise: true), small = try image("small.png", width: 4, height: 4)
        let out = scratch.file("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        // dash's ulimit -f counts 512-byte blocks: 64 KiB, far below the 640x640 result.
        let r = try CLI.run(["-c", "ulimit -f 128; exec \"$0\" \"$@\"", CLI.binary.path, "upscale", "--method", "bicubic", big, small, "-o", out + "/"],
                            executable: URL(fileURLWithPath: "/bin/sh"))
        print(r.stderr)
        #expect(r.status == 1)
        #expect(r.stderr.contains("big.png: \(out)/big.png: cannot write: File too large"), "\(r.stderr)")
        #expect(contents(out) == ["small.png"], "no partial or temporary file: \(contents(out))")
    }

    /// The same with a real full file system (a 64 KiB tmpfs), where this machine allows mounting.
    @Test func fullFileSystemFailsOneOutputAndTheBatchGoesOn() throws {
        let out = scratch.file("tmpfs")
        guard let unmount = ReadOnlyFolder.mountTmpfs(out, options: "size=64k") else {
            print("full disk: cannot mount a tmpfs here; the RLIMIT_FSIZE test covers the row")
            return
        }
        defer { unmount() }
        let big = try image("big.png", width: 200, height: 200, noise: true), small = try image("small.png", width: 4, height: 4)
        let r = try CLI.run(["upscale", "--method", "bicubic", big, small, "-o", out + "/"])
        print(r.stderr)
        #expect(r.status == 1 && r.stderr.contains("big.png: \(out)/big.png: cannot write: No space left on device"), "\(r.stderr)")
        #expect(contents(out) == ["small.png"], "\(contents(out))")
    }

    // MARK: Checkpoints

    /// Truncated, garbage, malicious (a pickle calling os.system) and damaged-header checkpoints, a
    /// wrong-task model and NaN weights: each refused with a message naming the file, before any
    /// image is touched; nothing written; nothing from the checkpoint executed.
    @Test func badCheckpointsAreRefused() throws {
        let input = try image("in.png", width: 16, height: 16)
        let ckpt = try Data(contentsOf: URL(fileURLWithPath: CLI.sample("Tests/LDMPipelinesTests/Fixtures/inp_compvis.ckpt")))
        let marker = scratch.file("pwned")
        // Protocol-2 pickle: os.system("touch <marker>") via GLOBAL + REDUCE.
        var pickle: [UInt8] = [0x80, 0x02] + Array("cos\nsystem\n".utf8)
        let command = Array("touch \(marker)".utf8)
        pickle += [0x58] + withUnsafeBytes(of: UInt32(command.count).littleEndian, Array.init) + command + [0x85, 0x52, 0x2e]
        var badHeader = Data(withUnsafeBytes(of: UInt64(1 << 40).littleEndian, Array.init))
        badHeader.append(Data("{\"a\":1}".utf8))
        let cases: [(String, Data, String)] = [
            ("truncated.ckpt", ckpt.prefix(ckpt.count / 2), "malformed PyTorch zip checkpoint"),
            ("garbage.ckpt", Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }), "not a supported weight file"),
            ("evil.ckpt", Data(pickle), "evil.ckpt: "),
            ("header.safetensors", badHeader, "malformed safetensors file"),
        ]
        for (name, data, expected) in cases {
            let path = bytes(name, data)
            let r = try CLI.run(["inpaint", input, "--mask", input, "--model", path, "-o", scratch.file("o-\(name).png")])
            print(r.stderr)
            #expect(r.status == 1 && r.stderr.contains(path) && r.stderr.contains(expected), "\(name): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: scratch.file("o-\(name).png")))
        }
        #expect(!FileManager.default.fileExists(atPath: marker), "the pickle's os.system call must never run")
        let wrongTask = try CLI.run(["upscale", input, "--model", Self.parity("inp"), "-o", scratch.file("w.png")])
        #expect(wrongTask.status == 1 && wrongTask.stderr.contains("ldm-edit inpaint"), "\(wrongTask.stderr)")
        let nan = try copyWithNaN(Self.parity("sr"))
        let poisoned = try CLI.run(["upscale", input, "--model", nan.folder, "-o", scratch.file("nan.png")])
        print(poisoned.stderr)
        #expect(poisoned.status == 1 && poisoned.stderr.contains("tensor \(nan.key) holds 1 NaN or infinite value"), "\(poisoned.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("nan.png")))
    }

    /// Model configs that describe no model: a diffusers folder whose unet/config.json says
    /// `"layers_per_block": -1` (this trapped in the layout walk, exit 132) and a converted file whose
    /// `ldm_edit_config` says `numResBlocks: 0`. `inspect` and `upscale --model` exit 1 naming the
    /// file and the field; nothing is written.
    @Test func hostileModelConfigsAreRefused() throws {
        let folder = scratch.file("hostile-sr")
        try FileManager.default.copyItem(atPath: Self.parity("sr"), toPath: folder)
        let config = folder + "/unet/config.json"
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config))) as? [String: Any])
        json["layers_per_block"] = -1
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: config))
        let message = "\(config): invalid model config: layers_per_block = -1; expected 1 to 16 ResBlocks per level"
        let inspect = try CLI.run(["inspect", folder, "--no-hash"])
        print(inspect.stderr)
        #expect(inspect.status == 1 && inspect.stderr.contains("error: " + message), "\(inspect.stderr)")
        let input = try image("in.png", width: 16, height: 16)
        let upscale = try CLI.run(["upscale", input, "--model", folder, "-o", scratch.file("o.png")])
        #expect(upscale.status == 1 && upscale.stderr.contains(message), "\(upscale.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("o.png")))

        let converted = scratch.file("sr.safetensors")
        #expect(try CLI.run(["convert", Self.parity("sr"), converted]).status == 0)
        // The metadata is JSON text inside the JSON header (sorted keys); the same-length edit keeps every offset.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: converted))
        let range = try #require(bytes.range(of: Data(#"\"numResBlocks\":2,"#.utf8)), "the U-Net's block count in the metadata")
        bytes.replaceSubrange(range, with: Data(#"\"numResBlocks\":0,"#.utf8))
        try bytes.write(to: URL(fileURLWithPath: converted))
        let file = try CLI.run(["inspect", converted, "--no-hash"])
        print(file.stderr)
        #expect(file.status == 1 && file.stderr.contains("error: \(converted): invalid model config: unet.numResBlocks = 0; expected 1 to 16"),
                "\(file.stderr)")
    }

    /// A copy of a diffusers folder with the first value of one U-Net tensor set to NaN (F16 or F32).
    func copyWithNaN(_ folder: String) throws -> (folder: String, key: String) {
        let copy = scratch.file("nan-model")
        try FileManager.default.copyItem(atPath: folder, toPath: copy)
        let file = copy + "/unet/diffusion_pytorch_model.safetensors"
        var data = try Data(contentsOf: URL(fileURLWithPath: file))
        let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any] ?? [:]
        let found = header.filter { $0.key != "__metadata__" }
            .compactMap { key, value -> (String, [String: Any])? in (value as? [String: Any]).map { (key, $0) } }
            .sorted { $0.0 < $1.0 }
            .first { ["F16", "F32"].contains($0.1["dtype"] as? String) }
        let (key, entry) = try #require(found, "a float tensor")
        let start = 8 + headerLength + ((entry["data_offsets"] as? [Int])?.first ?? 0)
        let nan: [UInt8] = entry["dtype"] as? String == "F16" ? [0x00, 0x7e] : withUnsafeBytes(of: Float.nan.bitPattern.littleEndian, Array.init)
        data.replaceSubrange(start..<(start + nan.count), with: nan)
        try data.write(to: URL(fileURLWithPath: file))
        return (copy, key)
    }
}

/// Folders the tests cannot otherwise get as root: a read-only one and a tiny file system.
enum ReadOnlyFolder {
    /// A read-only folder: chmod 555 when we are not root (root ignores permissions), else a
    /// read-only tmpfs. nil where neither works; the returned closure undoes it.
    static func make(_ path: String) -> (() -> Void)? {
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if geteuid() != 0 {
            chmod(path, 0o555)
            return { chmod(path, 0o755) }
        }
        return mountTmpfs(path, options: "ro,size=64k")
    }

    static func mountTmpfs(_ path: String, options: String) -> (() -> Void)? {
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard shell("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", path]) == 0 else { return nil }
        return { _ = shell("/bin/umount", [path]) }
    }

    static func shell(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
