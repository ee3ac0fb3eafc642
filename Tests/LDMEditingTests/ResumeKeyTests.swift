import Foundation
import LDMPipelines
import Testing
@testable import LDMEditing

/// The resume key: the hash of the request's resume-key view with the input's and mask's hashes.
/// It changes with everything that changes pixels, and with nothing else.
@Suite struct ResumeKeyTests {
    static func key(_ request: EditRequest, input: String = "11", mask: String? = "22") throws -> String {
        try request.resumeKey(inputSHA256: input, maskSHA256: mask)
    }

    /// Pinned: changing it makes every rerun redo its outputs once (docs/cli.md says so when it happens).
    /// The same digest from Python: sha256(json.dumps({"format": "ldm-edit-resume-v2", "input_sha256": "11",
    /// "mask_sha256": "22", "settings": <the canonical encoding without "model" and "seed_given">},
    /// sort_keys=True, separators=(",", ":"))).
    @Test func keyIsPinned() throws {
        #expect(try Self.key(EditRequestCodingTests.inpaint()) == "9ee618220fd11b46f1bdf4666908ccad262d0a38fcb286b55e65be298ffa8115")
    }

    @Test func everyPixelChangingFieldChangesTheKey() throws {
        let base = try EditRequestCodingTests.inpaint()
        let changes: [(String, (inout EditRequest) throws -> Void)] = [
            ("model bytes", { $0.model?.sha256 = String(repeating: "cd", count: 32) }),
            ("EMA weights", { $0.model?.useEMA = true }),
            ("sampler", { $0.sampling = try SamplingRequest(sampler: .dpmpp2m, steps: 20, seed: 42) }),
            ("steps", { $0.sampling = try SamplingRequest(steps: 21, eta: 0.5, seed: 42) }),
            ("eta", { $0.sampling = try SamplingRequest(steps: 20, eta: 0.25, seed: 42) }),
            ("seed", { $0.sampling = try SamplingRequest(steps: 20, eta: 0.5, seed: 43) }),
            ("random seed", { $0.sampling = try SamplingRequest(steps: 20, eta: 0.5, seed: nil) }),
            ("tile", { $0.tiling = try TilingRequest(unetTile: 128, maxMemory: 6 << 30) }),
            ("overlap", { $0.tiling = try TilingRequest(unetTile: 96, unetOverlap: 16, maxMemory: 6 << 30) }),
            ("memory ceiling", { $0.tiling = try TilingRequest(unetTile: 96) }),
            ("mask invert", { $0.inpainting = try InpaintingRequest(maskDilate: 3, strategy: .crop, cropMargin: 64) }),
            ("mask dilate", { $0.inpainting = try InpaintingRequest(maskInvert: true, maskDilate: 4, strategy: .crop, cropMargin: 64) }),
            ("mask resize", { $0.inpainting = try InpaintingRequest(maskInvert: true, maskDilate: 3, maskResize: true, strategy: .crop, cropMargin: 64) }),
            ("strategy", { $0.inpainting = try InpaintingRequest(maskInvert: true, maskDilate: 3, strategy: .auto, cropMargin: 64) }),
            ("crop margin", { $0.inpainting = try InpaintingRequest(maskInvert: true, maskDilate: 3, strategy: .crop, cropMargin: 65) }),
            ("bit depth", { $0.output = try OutputRequest(bitDepth: 8, jpegQuality: 90) }),
            ("JPEG quality", { $0.output = try OutputRequest(bitDepth: 16, jpegQuality: 91) }),
            ("PNG instead of JPEG", { $0 = $0.forFile(isJPEG: false) }),
        ]
        var keys = [try Self.key(base): "base"]
        for (name, change) in changes {
            var request = base
            try change(&request)
            let key = try Self.key(request)
            #expect(keys[key] == nil, "\(name) gives the same key as \(keys[key] ?? "")")
            keys[key] = name
        }
        #expect(try Self.key(base, input: "12") != Self.key(base), "input bytes")
        #expect(try Self.key(base, mask: "23") != Self.key(base), "mask bytes")
        let resize = { (limit: Int) in try InpaintingRequest(strategy: .resize, resizeLimit: limit) }
        var a = base, b = base
        (a.inpainting, b.inpainting) = (try resize(512), try resize(513))
        #expect(try Self.key(a) != Self.key(b), "resize limit")
    }

    @Test func namesPathsAndDatesStayOut() throws {
        let base = try EditRequestCodingTests.inpaint()
        var moved = base
        moved.model?.path = "/elsewhere/renamed.safetensors"
        #expect(try Self.key(moved) == Self.key(base), "the model's path")
        // A random seed is "any seed": its value does not matter, only that it was not given.
        let random = { () throws -> EditRequest in
            var request = base
            request.sampling = try SamplingRequest(steps: 20, eta: 0.5, seed: nil)
            return request
        }
        #expect(try Self.key(random()) == Self.key(random()))
        // Settings that do not apply do not count.
        var full = base, fullOtherMargin = base
        full.inpainting = try InpaintingRequest(strategy: .full, cropMargin: 10)
        fullOtherMargin.inpainting = try InpaintingRequest(strategy: .full, cropMargin: 20)
        #expect(try Self.key(full) == Self.key(fullOtherMargin))
        // The key function takes no names or dates: provenance's file names and time are outside it.
        let provenance = Provenance(version: "1", settings: base, plan: nil, input: "x/a.png", inputSHA256: "11", key: try Self.key(base))
        #expect(try provenance.settings.resumeKey(inputSHA256: provenance.inputSHA256, maskSHA256: "22") == provenance.key)
    }
}
