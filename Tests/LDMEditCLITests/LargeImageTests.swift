import Foundation
import LDMImageIO
import Testing

/// Issue 9 through the binary: --tile, --max-memory, inpaint --strategy (tiny parity models).
@Suite struct LargeImageTests {
    let scratch = Scratch()
    static func parity(_ kind: String) -> String { CLI.sample("Tests/LDMModelsTests/Fixtures/parity/" + kind) }

    func image(_ name: String, width: Int, height: Int) throws -> String {
        let samples = (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: ($0 * 31 + $0 / 97) % 251) }
        let path = scratch.file(name)
        try ImageFile.write(try RasterImage(width: width, height: height, channels: 3, samples: .uint8(samples)), to: path)
        return path
    }

    /// A mask file in the scratch folder, white (repaint) on `columns` × `rows`, and its samples.
    func rectangleMask(_ name: String, width w: Int, height h: Int, columns: Range<Int>, rows: Range<Int>) throws -> (path: String, values: [UInt8]) {
        var mask = [UInt8](repeating: 0, count: w * h)
        for y in rows { for x in columns { mask[y * w + x] = 255 } }
        let path = scratch.file(name)
        try ImageFile.write(try RasterImage(width: w, height: h, channels: 1, samples: .uint8(mask)), to: path)
        return (path, mask)
    }

    func info(_ path: String) throws -> [String: Any] {
        let r = try CLI.run(["info", path, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return object?["provenance"] as? [String: Any] ?? [:]
    }

    @Test func tilesAndMemoryCeiling() throws {
        let input = try image("in.png", width: 70, height: 45)
        let out = scratch.file("out.png")
        let r = try CLI.run(["upscale", input, "-o", out, "--model", Self.parity("sr"), "--steps", "2", "--seed", "1",
                             "--tile", "24", "--tile-overlap", "8", "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try ImageFile.read(out).width == 140)
        let provenance = try info(out)
        #expect(provenance["tiling"] as? String == "unet 24/8, vq 128/32" && provenance["plan"] as? String == "unet 24/8, vq 128/32")
        // Too little memory for even the smallest tiles: a clear error, no output, exit 1.
        let tight = try CLI.run(["upscale", input, "-o", scratch.file("no.png"), "--model", Self.parity("sr"), "--steps", "1", "--max-memory", "20M"])
        #expect(tight.status == 1 && tight.stderr.contains("--max-memory") && tight.stderr.contains("in.png"))
        #expect(!FileManager.default.fileExists(atPath: scratch.file("no.png")))
        for bad in [["--max-memory", "lots"], ["--tile", "8"], ["--tile", "32", "--tile-overlap", "32"]] {
            #expect(try CLI.run(["upscale", input, "-o", scratch.file("x.png"), "--model", Self.parity("sr")] + bad).status == 64, "\(bad)")
        }
    }

    @Test func inpaintStrategiesOnALargeImage() throws {
        let (w, h) = (1100, 700)
        let input = try image("big.png", width: w, height: h)
        var mask = [UInt8](repeating: 0, count: w * h)
        for y in 300..<340 { for x in 500..<560 { mask[y * w + x] = 255 } }
        for y in 680..<700 { for x in 1080..<1100 { mask[y * w + x] = 255 } }  // touches two edges
        let maskPath = scratch.file("big_mask.png")
        try ImageFile.write(try RasterImage(width: w, height: h, channels: 1, samples: .uint8(mask)), to: maskPath)
        let source = try ImageFile.read(input)
        for (strategy, plan) in [("auto", "crop 2: "), ("resize", "resize 256x163")] {
            let out = scratch.file("out-\(strategy).png")
            let r = try CLI.run(["inpaint", input, "--mask", maskPath, "-o", out, "--model", Self.parity("inp"), "--steps", "2",
                                 "--seed", "1", "--strategy", strategy, "--resize-limit", "256", "-q"])
            #expect(r.status == 0, "\(r.stderr)")
            let result = try ImageFile.read(out)
            var changed = 0, outside = 0
            for p in 0..<(w * h) {
                for c in 0..<3 where result.sample(x: p % w, y: p / w, channel: c) != source.sample(x: p % w, y: p / w, channel: c) {
                    if mask[p] == 0 { outside += 1 } else { changed += 1 }
                }
            }
            #expect(outside == 0 && changed > 0, "\(strategy)")
            #expect((try info(out)["plan"] as? String)?.hasPrefix(plan) == true, "\(strategy)")
        }
        #expect(try CLI.run(["inpaint", input, "--mask", maskPath, "--model", Self.parity("inp"), "--strategy", "magic"]).status == 64)
    }

    /// --hole-limit: a hole wider than the limit runs coarse-to-fine, says so in the provenance's plan and options, and
    /// changes only masked pixels; bad values and a share without a limit are refused before any work.
    @Test func largeHolesCoarseToFine() throws {
        let (w, h) = (120, 96)
        let input = try image("hole.png", width: w, height: h)
        let (maskPath, mask) = try rectangleMask("hole_mask.png", width: w, height: h, columns: 36..<84, rows: 24..<72)  // a 48-pixel square
        let base = ["inpaint", input, "--mask", maskPath, "--model", Self.parity("inp"), "--steps", "2", "--seed", "1", "-q"]
        let out = scratch.file("hole-out.png")
        let r = try CLI.run(base + ["-o", out, "--hole-limit", "24", "--coarse-guidance", "0.5"])
        #expect(r.status == 0, "\(r.stderr)")
        let provenance = try info(out)
        #expect(provenance["plan"] as? String == "full; coarse 60x48 for a 48 px hole, guided 0.5", "\(provenance)")
        let options = provenance["options"] as? [String: Any]
        #expect(options?["hole_limit"] as? String == "24" && options?["coarse_guidance"] as? String == "0.5", "\(provenance)")
        let (source, result) = (try ImageFile.read(input), try ImageFile.read(out))
        var outside = 0
        for p in 0..<(w * h) where mask[p] == 0 {
            for c in 0..<3 where result.sample(x: p % w, y: p / w, channel: c) != source.sample(x: p % w, y: p / w, channel: c) { outside += 1 }
        }
        #expect(outside == 0)
        for (bad, message) in [(["--hole-limit", "8"], "--hole-limit must be at least 16"),
                               (["--hole-limit", "32", "--coarse-guidance", "1.5"], "--coarse-guidance must be above 0"),
                               (["--coarse-guidance", "0.5"], "--coarse-guidance needs --hole-limit")] {
            let refused = try CLI.run(base + ["-o", scratch.file("no.png")] + bad)
            #expect(refused.status == 64 && refused.stderr.contains(message), "\(bad): \(refused.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.file("no.png")))
    }

    /// --candidates: the output is the chosen seed's own fill (the same command with --seed set to it), the plan and
    /// options say what ran; bad values and preview steps without candidates are refused before any work.
    @Test func candidatesKeepTheConsensusSeed() throws {
        let (w, h) = (64, 48)
        let input = try image("candidates.png", width: w, height: h)
        let (maskPath, mask) = try rectangleMask("candidates_mask.png", width: w, height: h, columns: 16..<44, rows: 12..<36)
        let base = ["inpaint", input, "--mask", maskPath, "--model", Self.parity("inp"), "--steps", "4", "-q"]
        let out = scratch.file("candidates-out.png")
        let r = try CLI.run(base + ["--seed", "20", "-o", out, "--candidates", "3", "--preview-steps", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        let provenance = try info(out)
        let plan = try #require(provenance["plan"] as? String)
        let options = provenance["options"] as? [String: Any]
        #expect(options?["candidates"] as? String == "3" && options?["preview_steps"] as? String == "2", "\(provenance)")
        #expect(provenance["seed"] as? Int == 20, "the request's seed is recorded; the plan names the chosen one")
        let chosen = try #require(plan.firstMatch(of: /seed (\d+) of 3 candidates \(2-step previews\)/).map { String($0.1) }, "\(plan)")
        #expect(["20", "21", "22"].contains(chosen))
        let alone = scratch.file("candidates-alone.png")
        #expect(try CLI.run(base + ["--seed", chosen, "-o", alone]).status == 0)
        #expect(try ImageFile.read(out).samples == ImageFile.read(alone).samples)
        // --blend-candidates: the same seed, named in the plan and recorded; the pixels outside the hole the input's.
        let blended = scratch.file("candidates-blended.png")
        #expect(try CLI.run(base + ["--seed", "20", "-o", blended, "--candidates", "3", "--preview-steps", "2", "--blend-candidates"]).status == 0)
        let blendInfo = try info(blended)
        #expect((blendInfo["plan"] as? String)?.contains("seed \(chosen) of 3 candidates (2-step previews, blended with their mean)") == true,
                "\(blendInfo)")
        #expect((blendInfo["options"] as? [String: Any])?["blend_candidates"] as? String == "true", "\(blendInfo)")
        let (blendedSamples, inputSamples) = (try ImageFile.read(blended).samples, try ImageFile.read(input).samples)
        #expect(blendedSamples != (try ImageFile.read(out).samples))
        if case .uint8(let b) = blendedSamples, case .uint8(let i) = inputSamples {
            #expect((0..<b.count).allSatisfy { mask[($0 / 3) % (w * h)] > 0 || b[$0] == i[$0] })
        } else { Issue.record("8-bit images expected") }
        for (bad, message) in [(["--candidates", "0"], "--candidates must be 1-16"),
                               (["--blend-candidates"], "--blend-candidates needs --candidates"),
                               (["--candidates", "17"], "--candidates must be 1-16"),
                               (["--candidates", "2", "--preview-steps", "0"], "--preview-steps must be 1-1000"),
                               (["--preview-steps", "3"], "--preview-steps needs --candidates")] {
            let refused = try CLI.run(base + ["-o", scratch.file("no-candidates.png")] + bad)
            #expect(refused.status == 64 && refused.stderr.contains(message), "\(bad): \(refused.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.file("no-candidates.png")))
    }

    /// ldm-edit's own inpainting models (a conv-autoencoder first stage) preview 8 seeds and blend them unless told
    /// otherwise (`Candidates.modelDefault`), and say so; --candidates 1 and --no-blend-candidates turn it off, and
    /// `inspect` prints the default. Other models keep one seed (the refusals above).
    @Test func ownModelsPreviewEightSeedsByDefault() throws {
        let (w, h) = (32, 32)
        let input = try image("own.png", width: w, height: h)
        let maskPath = try rectangleMask("own_mask.png", width: w, height: h, columns: 8..<24, rows: 8..<24).path
        let model = CLI.sample("Tests/LDMModelsTests/Fixtures/models/conv_inp_folder")
        let base = ["inpaint", input, "--mask", maskPath, "--model", model, "--steps", "2", "--seed", "3"]
        func plan(_ extra: [String], _ name: String) throws -> (plan: String, options: [String: Any], log: String) {
            let out = scratch.file(name)
            let r = try CLI.run(base + ["-o", out] + extra)
            #expect(r.status == 0, "\(extra): \(r.stderr)")
            let provenance = try info(out)
            return (provenance["plan"] as? String ?? "", provenance["options"] as? [String: Any] ?? [:], r.stdout + r.stderr)
        }
        let byDefault = try plan([], "own-default.png")
        #expect(byDefault.log.contains("previewing 8 seeds and blending their mean, this model's default"), "\(byDefault.log)")
        #expect(byDefault.plan.contains("of 8 candidates (1-step previews, blended with their mean)"), "\(byDefault.plan)")
        #expect(byDefault.options["candidates"] as? String == "8" && byDefault.options["blend_candidates"] as? String == "true")
        let single = try plan(["--candidates", "1"], "own-single.png")
        #expect(!single.plan.contains("candidates") && single.options["candidates"] == nil && !single.log.contains("previewing"), "\(single)")
        let unblended = try plan(["--no-blend-candidates"], "own-unblended.png")
        #expect(unblended.plan.contains("of 8 candidates (1-step previews)") && unblended.options["blend_candidates"] == nil, "\(unblended.plan)")
        let three = try plan(["--candidates", "3"], "own-three.png")
        #expect(three.plan.contains("of 3 candidates (1-step previews, blended with their mean)"), "\(three.plan)")
        let refused = try CLI.run(base + ["-o", scratch.file("own-no.png"), "--candidates", "1", "--blend-candidates"])
        #expect(refused.status == 64 && refused.stderr.contains("--blend-candidates needs --candidates 2 or more."), "\(refused.stderr)")
        let inspected = try CLI.run(["inspect", model, "--no-hash"])
        #expect(inspected.stdout.contains("default candidates: 8, blended with their mean"), "\(inspected.stdout)")
        let other = try CLI.run(["inspect", Self.parity("inp"), "--no-hash"])
        #expect(other.stdout.contains("default candidates: 1 ("), "\(other.stdout)")
    }
}
