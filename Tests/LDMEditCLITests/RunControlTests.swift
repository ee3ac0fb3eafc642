import Foundation
import LDMImageIO
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 8 (robustness, progress, provenance, scale-out): resume, --overwrite, kill and Ctrl-C,
/// --progress json, --report, provenance + `info`, --no-metadata, ICC profiles, --shard.
@Suite struct RunControlTests {
    let scratch = Scratch()
    static let sr = CLI.sample("Tests/LDMModelsTests/Fixtures/parity/sr")

    func image(_ path: String, width: Int = 12, height: Int = 8, seed: Int = 0, icc: [UInt8]? = nil) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let samples = (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: $0 * 13 + seed * 7) }
        var raster = try RasterImage(width: width, height: height, channels: 3, samples: .uint8(samples))
        raster.metadata = ImageMetadata(iccProfile: icc)
        try ImageFile.write(raster, to: path)
    }

    func modificationTime(_ path: String) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return -1 }
        return Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }

    func report(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] ?? [:]
    }

    func statuses(_ report: [String: Any]) -> [String: String] {
        var result: [String: String] = [:]
        for entry in report["images"] as? [[String: Any]] ?? [] {
            result[((entry["input"] as? String ?? "") as NSString).lastPathComponent] = entry["status"] as? String
        }
        return result
    }

    func hiddenLeftovers(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.contains(".ldm-edit-") && $0.hasSuffix(".tmp") }
    }

    // MARK: Provenance and info

    @Test func outputsCarryProvenanceThatInfoPrints() throws {
        try image(scratch.file("in/a.png"))
        for ext in ["png", "tif", "jpg"] {
            let out = scratch.file("model.\(ext)")
            let r = try CLI.run(["upscale", scratch.file("in/a.png"), "-o", out, "--model", Self.sr, "--steps", "2", "--seed", "11", "-q"])
            #expect(r.status == 0, "\(r.stderr)")
            let info = try CLI.run(["info", out])
            #expect(info.status == 0, "\(info.stderr)")
            for expected in ["task: upscale", "model: sr", "model sha256: ", "sampler: dpmpp-2m-karras, 2 steps", "seed: 11",
                             "tiling: unet 192/64, vq 128/32", "plan: unet 192/64, vq 128/32", "input: a.png (sha256 ", "resume key: ", "made by: ldm-edit "] {
                #expect(info.stdout.contains(expected), "\(ext): \(expected) missing from\n\(info.stdout)")
            }
        }
        // A random seed is printed so the run can be repeated, but not under -q (only errors and warnings);
        // provenance keeps it either way.
        let unseeded = scratch.file("unseeded.png")
        let loud = try CLI.run(["upscale", scratch.file("in/a.png"), "-o", unseeded, "--model", Self.sr, "--steps", "2"])
        #expect(loud.status == 0 && loud.stderr.contains("to repeat this result"), "\(loud.stderr)")
        let quiet = try CLI.run(["upscale", scratch.file("in/a.png"), "-o", unseeded, "--model", Self.sr, "--steps", "2", "--overwrite", "-q"])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
        #expect(try CLI.run(["info", unseeded]).stdout.contains("seed: "))
        let classical = scratch.file("lanczos.png")
        #expect(try CLI.run(["upscale", scratch.file("in/a.png"), "-o", classical, "--method", "lanczos", "-q"]).status == 0)
        let json = try CLI.run(["info", classical, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let provenance = object?["provenance"] as? [String: Any]
        #expect(object?["width"] as? Int == 48 && provenance?["method"] as? String == "lanczos")
        #expect((provenance?["key"] as? String)?.count == 64 && (provenance?["input_sha256"] as? String)?.count == 64)

        let bare = scratch.file("bare.png")
        #expect(try CLI.run(["upscale", scratch.file("in/a.png"), "-o", bare, "--method", "lanczos", "--no-metadata", "-q"]).status == 0)
        let none = try CLI.run(["info", bare])
        #expect(none.stdout.contains("ldm-edit provenance: none"))
        let missing = try CLI.run(["info", scratch.file("nope.png"), bare])
        #expect(missing.status == 1 && missing.stderr.contains("nope.png") && missing.stdout.contains("bare.png"))
    }

    @Test func iccProfilesAreCopiedToEveryFormat() throws {
        let profile = TestICC.rgbProfile(description: "Test RGB")
        try image(scratch.file("in/p.png"), icc: profile)
        for ext in ["png", "tif", "jpg"] {
            let out = scratch.file("out.\(ext)")
            let r = try CLI.run(["upscale", scratch.file("in/p.png"), "-o", out, "-q"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try ImageFile.read(out).metadata.iccProfile == profile, "\(ext)")
            #expect(try CLI.run(["info", out]).stdout.contains("ICC profile: \"Test RGB\", \(profile.count) bytes"))
        }
    }

    /// Large model files' hashes are remembered (path, size, mtime, inode) so reruns skip re-reading them.
    @Test func modelHashesAreCachedUntilTheFileChanges() throws {
        try image(scratch.file("a.png"))
        let model = scratch.file("model")
        try FileManager.default.copyItem(atPath: Self.sr, toPath: model)
        let env = ["XDG_CACHE_HOME": scratch.file("cache"), "LDM_EDIT_HASH_CACHE_MIN_BYTES": "0"]
        func modelHash() throws -> String? {
            let out = scratch.file("o.png")
            let r = try CLI.run(["upscale", scratch.file("a.png"), "-o", out, "--model", model, "--steps", "1", "--seed", "1",
                                 "--overwrite", "-q"], environment: env)
            #expect(r.status == 0, "\(r.stderr)")
            let info = try CLI.run(["info", out, "--json"])
            let object = try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any]
            return (object?["provenance"] as? [String: Any])?["model_sha256"] as? String
        }
        let first = try modelHash()
        let cacheFile = scratch.file("cache/ldm-edit/model-hashes.json")
        var cache = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cacheFile))) as? [String: [String: Any]] ?? [:]
        let unetKey = try #require(cache.keys.first { $0.hasSuffix("unet/diffusion_pytorch_model.safetensors") })
        // Plant a wrong hash: the next run must use it (proving the cache is read)...
        cache[unetKey]?["sha256"] = String(repeating: "f", count: 64)
        try JSONSerialization.data(withJSONObject: cache).write(to: URL(fileURLWithPath: cacheFile))
        let planted = try modelHash()
        #expect(planted != first)
        // ...until the file changes (new mtime): then it is hashed again.
        var times = [timespec(tv_sec: time(nil) - 100, tv_nsec: 0), timespec(tv_sec: time(nil) - 100, tv_nsec: 0)]
        utimensat(AT_FDCWD, unetKey, &times, 0)
        #expect(try modelHash() == first)
        // A damaged cache is ignored.
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: cacheFile))
        #expect(try modelHash() == first)
    }

    // MARK: Resume

    @Test func rerunSkipsFinishedOutputsAndRedoesWhatChanged() throws {
        for (i, name) in ["a", "b", "c"].enumerated() { try image(scratch.file("in/\(name).png"), seed: i) }
        let out = scratch.file("out"), rep = scratch.file("r.json")
        func run(_ extra: [String] = []) throws -> [String: String] {
            let r = try CLI.run(["upscale", scratch.file("in"), "-o", out, "--report", rep, "--progress", "log"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            return statuses(try report(rep))
        }
        #expect(try run() == ["a.png": "done", "b.png": "done", "c.png": "done"])
        let before = modificationTime(out + "/a.png")
        #expect(try run() == ["a.png": "skipped", "b.png": "skipped", "c.png": "skipped"])
        #expect(modificationTime(out + "/a.png") == before, "a skipped output is not rewritten")
        try image(scratch.file("in/b.png"), seed: 9)  // new input bytes
        #expect(try run() == ["a.png": "skipped", "b.png": "done", "c.png": "skipped"])
        #expect(try run(["--method", "bicubic"]) == ["a.png": "done", "b.png": "done", "c.png": "done"])
        #expect(try run(["--method", "bicubic", "--overwrite"]) == ["a.png": "done", "b.png": "done", "c.png": "done"])
        #expect(try run(["--method", "bicubic", "--bit-depth", "16"]).values.allSatisfy { $0 == "done" })
        // A damaged output (replaced by another file) is redone.
        try image(out + "/c.png", seed: 5)
        #expect(try run(["--method", "bicubic", "--bit-depth", "16"]) == ["a.png": "skipped", "b.png": "skipped", "c.png": "done"])
    }

    @Test func diffusionSettingsEnterTheResumeKey() throws {
        try image(scratch.file("in/a.png"))
        let out = scratch.file("out.png"), rep = scratch.file("r.json")
        func run(_ extra: [String]) throws -> String? {
            let r = try CLI.run(["upscale", scratch.file("in/a.png"), "-o", out, "--model", Self.sr, "--report", rep, "-q"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            return statuses(try report(rep))["a.png"]
        }
        #expect(try run(["--steps", "2", "--seed", "1"]) == "done")
        #expect(try run(["--steps", "2", "--seed", "1"]) == "skipped")
        #expect(try run(["--steps", "3", "--seed", "1"]) == "done")
        #expect(try run(["--steps", "3", "--seed", "2"]) == "done")
        #expect(try run(["--steps", "3", "--seed", "2", "--sampler", "dpmpp-2m"]) == "done")
        // Without --seed any seed is acceptable, so the output made with seed 2 is kept... only if the
        // rest matches; a random-seed run records "any" and is then itself resumable.
        #expect(try run(["--steps", "3", "--sampler", "dpmpp-2m"]) == "done")
        #expect(try run(["--steps", "3", "--sampler", "dpmpp-2m"]) == "skipped")
    }

    @Test func journalResumesWithoutMetadata() throws {
        for (i, name) in ["a", "b"].enumerated() { try image(scratch.file("in/\(name).png"), seed: i) }
        let out = scratch.file("out"), rep = scratch.file("r.json")
        func run() throws -> [String: String] {
            let r = try CLI.run(["upscale", scratch.file("in"), "-o", out, "--no-metadata", "--report", rep, "-q"])
            #expect(r.status == 0, "\(r.stderr)")
            return statuses(try report(rep))
        }
        #expect(try run() == ["a.png": "done", "b.png": "done"])
        #expect(FileManager.default.fileExists(atPath: out + "/.ldm-edit-journal.jsonl"))
        #expect(try ImageFile.read(out + "/a.png").metadata.text == nil)
        #expect(try run() == ["a.png": "skipped", "b.png": "skipped"])
        try image(out + "/b.png", seed: 4)  // replaced by hand: size/time no longer match the journal
        #expect(try run() == ["a.png": "skipped", "b.png": "done"])
    }

    // MARK: Kill, Ctrl-C

    /// Starts the binary without waiting; output and errors go to files.
    func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let err = scratch.file("stderr-\(UUID().uuidString).txt")
        FileManager.default.createFile(atPath: err, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: err)
        try process.run()
        return process
    }

    func waitFor(_ condition: () -> Bool, timeout: Double = 120) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if condition() { return true }
            usleep(20_000)
        }
        return false
    }

    func finishedOutputs(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".png") && !$0.hasPrefix(".") }
    }

    /// Slow enough to be killed mid-batch: the tiny model with many steps on 6 images.
    func slowBatch() throws -> [String] {
        for i in 0..<6 { try image(scratch.file("in/img\(i).png"), width: 40, height: 32, seed: i) }
        return ["upscale", scratch.file("in"), "-o", scratch.file("out"), "--model", Self.sr, "--steps", "60", "--seed", "5"]
    }

    @Test func sigkillLosesNothingAndTheRerunFinishes() throws {
        let arguments = try slowBatch()
        let out = scratch.file("out")
        for round in 0..<3 {
            let process = try start(arguments)
            // Kill at a different moment each round: after 1, 2, 3 finished outputs plus a little.
            let target = min(finishedOutputs(out).count + 1, 6)
            _ = waitFor { finishedOutputs(out).count >= target || !process.isRunning }
            usleep(UInt32(50_000 * (round + 1)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            for name in finishedOutputs(out) {
                let image = try ImageFile.read(out + "/" + name)  // complete and valid, or it would throw
                #expect(image.width == 80 && image.metadata.text?.contains("\"key\"") == true)
            }
        }
        let doneBefore = Set(finishedOutputs(out))
        let rep = scratch.file("r.json")
        let rerun = try CLI.run(arguments + ["--report", rep, "-q"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let status = statuses(try report(rep))
        #expect(Set(status.filter { $0.value == "skipped" }.keys) == doneBefore)
        #expect(status.count == 6 && status.values.allSatisfy { $0 == "skipped" || $0 == "done" })
        #expect(finishedOutputs(out).count == 6)
        #expect(hiddenLeftovers(out).isEmpty, "temporary files of killed runs are cleaned up: \(hiddenLeftovers(out))")
    }

    /// Faults at random moments (docs/robustness.md): SIGKILL or SIGINT, chosen and timed by a
    /// seeded generator (LDM_EDIT_FAULT_SEED, default 1; Scripts/fuzz/fault_runs.sh loops over seeds),
    /// four times over the same batch. After each fault every output is complete and valid or
    /// absent; the final rerun completes the batch, and every output has the same pixels as an
    /// uninterrupted run's.
    @Test func randomFaultsLoseNothing() throws {
        let arguments = try slowBatch()
        let out = scratch.file("out")
        var generator = SplitMix(seed: UInt64(ProcessInfo.processInfo.environment["LDM_EDIT_FAULT_SEED"] ?? "") ?? 1)
        for _ in 0..<4 {
            let process = try start(arguments)
            usleep(UInt32(100_000 + generator.next() % 1_500_000))
            let signal = generator.next() % 2 == 0 ? SIGKILL : SIGINT
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            if signal == SIGINT, process.terminationReason == .exit {
                #expect([0, 130].contains(process.terminationStatus), "Ctrl-C: \(process.terminationStatus)")
            }
            for name in finishedOutputs(out) {
                #expect(try ImageFile.read(out + "/" + name).width == 80, "\(name) complete and valid after signal \(signal)")
            }
        }
        let rerun = try CLI.run(arguments + ["-q"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(finishedOutputs(out).count == 6 && hiddenLeftovers(out).isEmpty)
        var cleanArguments = arguments
        cleanArguments[3] = scratch.file("clean")  // the same batch into another folder, uninterrupted
        let clean = try CLI.run(cleanArguments + ["-q"])
        #expect(clean.status == 0, "\(clean.stderr)")
        for name in finishedOutputs(out) {
            #expect(try ImageFile.read(out + "/" + name).samples == ImageFile.read(scratch.file("clean/" + name)).samples, "\(name)")
        }
    }

    @Test func ctrlCStopsCleanlyAndTheRerunResumes() throws {
        let arguments = try slowBatch()
        let out = scratch.file("out"), rep = scratch.file("r.json")
        let process = try start(arguments + ["--report", rep])
        #expect(waitFor { finishedOutputs(out).count >= 1 })
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        #expect(hiddenLeftovers(out).isEmpty)
        let stopped = try report(rep)
        #expect(stopped["interrupted"] as? Bool == true)
        let finished = finishedOutputs(out)
        #expect(!finished.isEmpty && finished.count < 6)
        for name in finished { #expect(try ImageFile.read(out + "/" + name).width == 80) }
        let rerun = try CLI.run(arguments + ["--report", rep, "-q"])
        #expect(rerun.status == 0)
        #expect(statuses(try report(rep)).values.filter { $0 == "skipped" }.count == finished.count)
        #expect(finishedOutputs(out).count == 6)
    }

    // MARK: Progress and report

    @Test func jsonProgressEvents() throws {
        try image(scratch.file("in/a.png"))
        try image(scratch.file("in/b.png"), seed: 1)
        FileManager.default.createFile(atPath: scratch.file("in/broken.png"), contents: Data("not an image".utf8))
        let r = try CLI.run(["upscale", scratch.file("in"), "-o", scratch.file("out"), "--model", Self.sr, "--steps", "3", "--seed", "1",
                             "--progress", "json"])
        #expect(r.status == 1)
        let events = r.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(events.count == r.stdout.split(separator: "\n").count, "every stdout line is a JSON event")
        let kinds = events.compactMap { $0["event"] as? String }
        #expect(kinds.first == "start" && kinds.last == "summary")
        #expect(events.first?["images"] as? Int == 3)
        #expect(kinds.filter { $0 == "step" }.count == 6)
        #expect(kinds.filter { $0 == "image_done" }.count == 2 && kinds.filter { $0 == "image_failed" }.count == 1)
        let step = events.first { $0["event"] as? String == "step" }
        #expect(step?["steps"] as? Int == 3 && step?["eta_seconds"] != nil && step?["seconds_per_step"] != nil)
        let failed = events.first { $0["event"] as? String == "image_failed" }
        #expect((failed?["error"] as? String)?.contains("broken.png") == true)
        let summary = events.last
        #expect(summary?["done"] as? Int == 2 && summary?["failed"] as? Int == 1)
    }

    @Test func liveProgressLineShowsStepsAndETA() throws {
        try image(scratch.file("a.png"))
        let r = try CLI.run(["upscale", scratch.file("a.png"), "-o", scratch.file("o.png"), "--model", Self.sr, "--steps", "4",
                             "--seed", "1", "--progress", "line"])
        #expect(r.status == 0)
        #expect(r.stderr.contains("\r\u{1B}[2K[1/1] ") && r.stderr.contains("step 4/4") && r.stderr.contains("s/step") && r.stderr.contains("ETA"))
    }

    @Test func reportHasStatusSecondsMemoryAndErrors() throws {
        try image(scratch.file("in/a.png"))
        FileManager.default.createFile(atPath: scratch.file("in/z.png"), contents: Data([0x89, 0x50, 0x4E, 0x47]))
        let rep = scratch.file("run.json")
        let r = try CLI.run(["upscale", scratch.file("in"), "-o", scratch.file("out"), "--report", rep, "-q"])
        #expect(r.status == 1)
        let document = try report(rep)
        #expect(document["done"] as? Int == 1 && document["failed"] as? Int == 1 && document["tool"] as? String == "ldm-edit")
        let images = document["images"] as? [[String: Any]] ?? []
        let good = images.first { ($0["input"] as? String)?.hasSuffix("a.png") == true }
        let bad = images.first { ($0["input"] as? String)?.hasSuffix("z.png") == true }
        #expect(good?["status"] as? String == "done" && (good?["seconds"] as? Double ?? -1) >= 0)
        #expect((good?["peak_rss_bytes"] as? Int ?? 0) > 1 << 20)
        #expect(bad?["status"] as? String == "failed" && (bad?["error"] as? String)?.contains("z.png") == true)
        let noFolder = try CLI.run(["upscale", scratch.file("in/a.png"), "-o", scratch.file("x.png"), "--report", scratch.file("no/such/r.json")])
        #expect(noFolder.status == 64)
    }

    // MARK: Shards

    @Test func shardsPartitionTheInputsStably() throws {
        for i in 0..<20 { try image(scratch.file("in/p\(i).png"), width: 4, height: 4, seed: i) }
        var seen: [String: Int] = [:]
        for k in 1...3 {
            let rep = scratch.file("r\(k).json")
            let r = try CLI.run(["upscale", scratch.file("in"), "-o", scratch.file("out"), "--shard", "\(k)/3", "--report", rep, "-q"])
            #expect(r.status == 0, "\(r.stderr)")
            for name in statuses(try report(rep)).keys { seen[name, default: 0] += 1 }
        }
        #expect(seen.count == 20 && seen.values.allSatisfy { $0 == 1 }, "every input in exactly one shard")
        #expect(finishedOutputs(scratch.file("out")).count == 20)
        // The same shard again: same inputs, all up to date.
        let again = scratch.file("again.json")
        _ = try CLI.run(["upscale", scratch.file("in"), "-o", scratch.file("out"), "--shard", "2/3", "--report", again, "-q"])
        let second = statuses(try report(again))
        #expect(second == statuses(try report(scratch.file("r2.json"))).mapValues { _ in "skipped" })
        // auto: Slurm array (0-based task ids from SLURM_ARRAY_TASK_MIN) gives the same split.
        let slurm = scratch.file("slurm.json")
        let s = try CLI.run(["upscale", scratch.file("in"), "-o", scratch.file("out"), "--shard", "auto", "--report", slurm, "-q"],
                            environment: ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "4", "SLURM_ARRAY_TASK_COUNT": "3"])
        #expect(s.status == 0, "\(s.stderr)")
        #expect(Set(statuses(try report(slurm)).keys) == Set(second.keys))
        let k8s = try CLI.run(["upscale", scratch.file("in"), "-o", scratch.file("out"), "--shard", "auto", "-q"],
                              environment: ["JOB_COMPLETION_INDEX": "1"])
        #expect(k8s.status == 64 && k8s.stderr.contains("LDM_EDIT_SHARD_COUNT"))
        let kube = scratch.file("kube.json")
        let k = try CLI.run(["upscale", scratch.file("in"), "-o", scratch.file("out"), "--shard", "auto", "--report", kube, "-q"],
                            environment: ["JOB_COMPLETION_INDEX": "1", "LDM_EDIT_SHARD_COUNT": "3"])
        #expect(k.status == 0)
        #expect(try Set(statuses(report(kube)).keys) == Set(second.keys))
        for bad in ["0/3", "4/3", "x", "1/0"] {
            #expect(try CLI.run(["upscale", scratch.file("in"), "-o", scratch.file("out"), "--shard", bad]).status == 64, "\(bad)")
        }
    }
}

/// Minimal valid ICC v2 display profiles for tests (header + tag table + desc/wtpt tags).
enum TestICC {
    static func rgbProfile(description: String) -> [UInt8] {
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
        func sig(_ s: String) -> [UInt8] { Array(s.utf8) }
        // 'desc' textDescriptionType: sig, reserved, ASCII count + text + NUL, Unicode and ScriptCode parts empty.
        var desc = sig("desc") + be32(0) + be32(UInt32(description.utf8.count + 1)) + Array(description.utf8) + [0]
        desc += be32(0) + be32(0) + [0, 0, 0] + [UInt8](repeating: 0, count: 67)
        while desc.count % 4 != 0 { desc.append(0) }
        // 'wtpt' XYZType: D50 in s15Fixed16.
        let xyz = sig("XYZ ") + be32(0) + be32(0x0000_F6D6) + be32(0x0001_0000) + be32(0x0000_D32D)
        let tags: [(String, [UInt8])] = [("desc", desc), ("wtpt", xyz), ("rXYZ", xyz), ("gXYZ", xyz), ("bXYZ", xyz)]
        var offset = 128 + 4 + 12 * tags.count
        var table = be32(UInt32(tags.count))
        var data: [UInt8] = []
        for (name, bytes) in tags {
            table += sig(name) + be32(UInt32(offset)) + be32(UInt32(bytes.count))
            data += bytes
            offset += bytes.count
        }
        var header = be32(UInt32(offset)) + sig("none") + be32(0x0210_0000) + sig("mntr") + sig("RGB ") + sig("XYZ ")
        header += [UInt8](repeating: 0, count: 12) + sig("acsp") + [UInt8](repeating: 0, count: 24) + be32(0)
        header += be32(0x0000_F6D6) + be32(0x0001_0000) + be32(0x0000_D32D) + [UInt8](repeating: 0, count: 4)
        header += [UInt8](repeating: 0, count: 128 - header.count)
        return header + table + data
    }
}

/// SplitMix64: a small seeded generator, so a failing fault schedule can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
