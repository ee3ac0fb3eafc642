import Foundation
import LDMPipelines
import Testing
@testable import LDMEditing

/// The request's JSON form: pinned, order-independent, round-tripping, strict about what it cannot
/// run, and able to read the provenance earlier versions wrote.
@Suite struct EditRequestCodingTests {
    static let sha = String(repeating: "ab", count: 32)

    static func inpaint() throws -> EditRequest {
        .inpaint(model: ModelReference(path: "/models/last.ckpt", sha256: sha, useEMA: false),
                 sampling: try SamplingRequest(sampler: .ddim, steps: 20, eta: 0.5, seed: 42),
                 tiling: try TilingRequest(unetTile: 96, maxMemory: 6 << 30),
                 inpainting: try InpaintingRequest(maskInvert: true, maskDilate: 3, strategy: .crop, cropMargin: 64),
                 output: try OutputRequest(bitDepth: 16, jpegQuality: 90))
    }

    static func text(_ request: EditRequest) throws -> String { String(decoding: try request.canonicalEncoding(), as: UTF8.self) }

    static func decode(_ json: String) throws -> EditRequest { try JSONDecoder().decode(EditRequest.self, from: Data(json.utf8)) }

    /// The exact bytes: a change here changes every resume key (outputs get redone), so it must be
    /// deliberate and documented in docs/cli.md.
    @Test func canonicalEncodingIsPinned() throws {
        #expect(try Self.text(Self.inpaint()) == #"{"eta":0.5,"model":"/models/last.ckpt","model_sha256":"\#(Self.sha)","options":{"bit_depth":"16","crop_margin":"64","jpeg_quality":"90","mask_dilate":"3","mask_invert":"true","strategy":"crop","weights":"raw"},"sampler":"ddim","seed":42,"seed_given":true,"steps":20,"task":"inpaint","tiling":"unet 96/32, vq 128/32, max-memory 6G"}"#)
        #expect(try Self.text(.upscale(method: .bicubic)) == #"{"method":"bicubic","options":{},"task":"upscale"}"#)
    }

    @Test func encodingDoesNotDependOnTheOrderOfTheInput() throws {
        let a = try Self.decode(#"{"task":"inpaint","model":"m.ckpt","model_sha256":"\#(Self.sha)","sampler":"dpmpp-2m","steps":20,"seed":7,"options":{"strategy":"resize","resize_limit":"512","mask_dilate":"2"}}"#)
        let b = try Self.decode(#"""
            { "options": { "mask_dilate": "2", "resize_limit": "512", "strategy": "resize" },
              "seed": 7, "steps": 20, "sampler": "dpmpp-2m", "model_sha256": "\#(Self.sha)", "model": "m.ckpt", "task": "inpaint" }
            """#)
        #expect(a == b)
        #expect(try a.canonicalEncoding() == b.canonicalEncoding())
        #expect(try a.canonicalEncoding() == a.canonicalEncoding(), "the same request, the same bytes")
    }

    @Test func everyShapeRoundTrips() throws {
        let model = ModelReference(path: "sr/", sha256: Self.sha)
        let requests: [EditRequest] = [
            .upscale(method: .lanczos), .upscale(method: .bicubic, output: try OutputRequest(bitDepth: 8)),
            .upscale(model: model, sampling: try SamplingRequest(sampler: .ddpm, seed: nil)),
            .upscale(model: model, sampling: try SamplingRequest(eta: 1, seed: 3), tiling: try TilingRequest(unetTile: 24, unetOverlap: 8)),
            try Self.inpaint(),
            .inpaint(model: model, sampling: try SamplingRequest(seed: 1), inpainting: try InpaintingRequest(maskResize: true, strategy: .full)),
            .inpaint(model: model, sampling: try SamplingRequest(seed: 1), inpainting: try InpaintingRequest(holeLimit: 96)),
            .inpaint(model: model, sampling: try SamplingRequest(seed: 1), inpainting: try InpaintingRequest(holeLimit: 64, coarseGuidance: 0.8)),
            .inpaint(model: model, sampling: try SamplingRequest(seed: 1), inpainting: try InpaintingRequest(candidates: 4)),
            .inpaint(model: model, sampling: try SamplingRequest(seed: 1), inpainting: try InpaintingRequest(candidates: 16, previewSteps: 3)),
            .inpaint(model: model, sampling: try SamplingRequest(seed: 1), inpainting: try InpaintingRequest(candidates: 8, blendCandidates: true)),
            try Self.guided(.inpaint(model: model, sampling: try SamplingRequest(seed: 1)), weight: 2),
            try Self.guided(.upscale(model: model, sampling: try SamplingRequest(seed: 1)), weight: 1.5),
        ]
        for request in requests {
            let decoded = try JSONDecoder().decode(EditRequest.self, from: try request.canonicalEncoding())
            let text = try Self.text(request)
            #expect(decoded == request, "\(text)")
            #expect(try decoded.canonicalEncoding() == request.canonicalEncoding())
        }
    }

    /// `request` guided by a model at /models/guide.safetensors (SHA-256 "cd…").
    static func guided(_ request: EditRequest, weight: Float) throws -> EditRequest {
        var copy = request
        copy.guide = try GuideRequest(model: ModelReference(path: "/models/guide.safetensors", sha256: String(repeating: "cd", count: 32)),
                                      weight: weight)
        return copy
    }

    /// The guide is part of what decides the pixels: its bytes and weight enter the resume key, its path does not;
    /// provenance keeps its file name; a weight without a guide, or out of bounds, is refused.
    @Test func theGuideIsEncodedInEachView() throws {
        let request = try Self.guided(Self.inpaint(), weight: 2)
        let text = try Self.text(request)
        #expect(text.contains(#""guide_model":"/models/guide.safetensors","guide_model_sha256":"\#(String(repeating: "cd", count: 32))","guide_weight":2"#), "\(text)")
        #expect(try request.resumeKey(inputSHA256: "i", maskSHA256: "m") != Self.inpaint().resumeKey(inputSHA256: "i", maskSHA256: "m"))
        #expect(try request.resumeKey(inputSHA256: "i", maskSHA256: "m") != Self.guided(Self.inpaint(), weight: 2.5).resumeKey(inputSHA256: "i", maskSHA256: "m"))
        var moved = request
        moved.guide = try GuideRequest(model: ModelReference(path: "elsewhere/g.safetensors", sha256: String(repeating: "cd", count: 32)), weight: 2)
        #expect(try request.resumeKey(inputSHA256: "i", maskSHA256: "m") == moved.resumeKey(inputSHA256: "i", maskSHA256: "m"))
        let model = #""model":"m","model_sha256":"\#(Self.sha)""#
        #expect(try Self.decode(#"{"task":"inpaint",\#(model),"guide_model":"g","guide_model_sha256":"cd"}"#).guide?.weight == GuideRequest.defaultWeight)
        #expect(throws: RequestError.inconsistent(task: .inpaint, reason: "guide_weight needs a guide_model")) {
            try Self.decode(#"{"task":"inpaint",\#(model),"guide_weight":2}"#)
        }
        #expect(throws: RequestError.guideWeight(11)) { try Self.decode(#"{"task":"inpaint",\#(model),"guide_model":"g","guide_weight":11}"#) }
        #expect(throws: RequestError.inconsistent(task: .upscale, reason: "guide_model needs a model")) {
            try Self.decode(#"{"task":"upscale","guide_model":"g"}"#)
        }
    }

    /// What a client may leave out is filled with the command line's defaults.
    @Test func decodingFillsDefaults() throws {
        let request = try Self.decode(#"{"task":"inpaint","model":"m.ckpt","model_sha256":"\#(Self.sha)"}"#)
        #expect(request.sampling?.sampler == .ddim && request.sampling?.steps == 50 && request.sampling?.eta == 0)
        #expect(request.sampling?.seedGiven == false && request.tiling == .standard && request.inpainting == .standard)
        #expect(try Self.decode(#"{"task":"upscale"}"#) == .upscale(method: .lanczos))
    }

    @Test func valuesAreNormalisedToWhatTheyMean() throws {
        #expect(try SamplingRequest(sampler: .ddpm, steps: 20, seed: 1).steps == 1000)
        #expect(try SamplingRequest(sampler: .dpmpp2m, eta: 1, seed: 1) == SamplingRequest(sampler: .dpmpp2m, eta: 0, seed: 1))
        #expect(try InpaintingRequest(strategy: .full, cropMargin: 5) == InpaintingRequest(strategy: .full))
        #expect(try InpaintingRequest(strategy: .crop, resizeLimit: 512) == InpaintingRequest(strategy: .crop))
        #expect(try TilingRequest(unetTile: 60).tiles.unetOverlap == 20, "a third of a small tile")
        // A guidance share means nothing without a hole limit; the default share is no option.
        #expect(try InpaintingRequest(coarseGuidance: 0.5) == InpaintingRequest())
        #expect(try InpaintingRequest(holeLimit: 96, coarseGuidance: 1) == InpaintingRequest(holeLimit: 96))
        #expect(try InpaintingRequest(holeLimit: 96, coarseGuidance: 0.5) != InpaintingRequest(holeLimit: 96))
        // Preview steps mean nothing for one seed; candidates and their preview steps are part of what decides the pixels.
        #expect(try InpaintingRequest(candidates: 1, previewSteps: 3) == InpaintingRequest())
        #expect(try InpaintingRequest(candidates: 1) == InpaintingRequest.standard)
        #expect(try InpaintingRequest(candidates: 4) != InpaintingRequest(candidates: 4, previewSteps: 3))
        // The blend likewise: nothing for one seed, part of the pixels with candidates.
        #expect(try InpaintingRequest(candidates: 1, blendCandidates: true) == InpaintingRequest())
        #expect(try InpaintingRequest(candidates: 4) != InpaintingRequest(candidates: 4, blendCandidates: true))
        #expect(try EditRequest.inpaint(model: ModelReference(path: "m", sha256: Self.sha), sampling: SamplingRequest(seed: 1),
                                        inpainting: InpaintingRequest(candidates: 4, blendCandidates: true)).options["blend_candidates"] == "true")
        #expect(try EditRequest.inpaint(model: ModelReference(path: "m", sha256: Self.sha), sampling: SamplingRequest(seed: 1),
                                        inpainting: InpaintingRequest(candidates: 4)).options["candidates"] == "4")
    }

    @Test func refusesWhatItCannotRun() throws {
        let model = #""model":"m","model_sha256":"\#(Self.sha)""#
        let cases: [(String, RequestError)] = [
            (#"{"task":"upscale",\#(model),"sampler":"heun"}"#, .unreadable(field: "sampler", value: "heun")),
            (#"{"task":"upscale",\#(model),"steps":0}"#, .steps(0)),
            (#"{"task":"upscale",\#(model),"eta":2}"#, .eta(2)),
            (#"{"task":"upscale",\#(model),"tiling":"unet 8/2, vq 128/32"}"#, .tile(8)),
            (#"{"task":"upscale",\#(model),"tiling":"192 tiles"}"#, .unreadable(field: "tiling", value: "192 tiles")),
            (#"{"task":"upscale",\#(model),"options":{"colour":"blue"}}"#, .unreadable(field: "options", value: "colour")),
            (#"{"task":"upscale",\#(model),"options":{"strategy":"crop"}}"#, .inconsistent(task: .upscale, reason: "option strategy does not apply")),
            (#"{"task":"upscale",\#(model),"method":"lanczos"}"#, .inconsistent(task: .upscale, reason: "a classical method cannot be combined with a model")),
            (#"{"task":"upscale","steps":20}"#, .inconsistent(task: .upscale, reason: "steps needs a model")),
            (#"{"task":"inpaint"}"#, .inconsistent(task: .inpaint, reason: "needs a model")),
            (#"{"task":"inpaint",\#(model),"options":{"mask_dilate":"-1"}}"#, .maskDilate(-1)),
            (#"{"task":"inpaint",\#(model),"options":{"hole_limit":"8"}}"#, .holeLimit(8)),
            (#"{"task":"inpaint",\#(model),"options":{"hole_limit":"96","coarse_guidance":"1.5"}}"#, .coarseGuidance(1.5)),
            (#"{"task":"inpaint",\#(model),"options":{"hole_limit":"96","coarse_guidance":"0"}}"#, .coarseGuidance(0)),
            (#"{"task":"inpaint",\#(model),"options":{"candidates":"0"}}"#, .candidates(0)),
            (#"{"task":"inpaint",\#(model),"options":{"candidates":"17"}}"#, .candidates(17)),
            (#"{"task":"inpaint",\#(model),"options":{"candidates":"4","preview_steps":"0"}}"#, .previewSteps(0)),
            (#"{"task":"inpaint",\#(model),"options":{"candidates":"four"}}"#, .unreadable(field: "options.candidates", value: "four")),
            (#"{"task":"sharpen"}"#, .unreadable(field: "task", value: "sharpen")),
        ]
        for (json, expected) in cases {
            #expect(throws: expected, "\(json)") { try Self.decode(json) }
        }
        #expect(throws: DecodingError.self) { try Self.decode(#"{"method":"lanczos"}"#) }
    }

    @Test func tilingTextRoundTrips() throws {
        for text in ["unet 192/64, vq 128/32", "unet 24/8, vq 32/8, max-memory 800M", "unet none, vq none",
                     "unet 192/64, vq 128/32, norm estimated", "unet 64/16, vq 48/12, norm exact, max-memory 2G"] {
            #expect(try TilingRequest(parsing: text).description == text)
        }
        #expect(try TilingRequest(parsing: "unet 192/64, vq 128/32, max-memory 6GB").maxMemory == 6 << 30)
        #expect(try TilingRequest(parsing: "unet 192/64, vq 128/32, norm estimated").tiles.normalisation == .estimated)
        // per-tile statistics are the default and leave the text as it was before the choice existed
        #expect(try TilingRequest(parsing: "unet 192/64, vq 128/32, norm per-tile").description == "unet 192/64, vq 128/32")
        for bad in ["unet 192/64, vq 128/32, norm median", "unet 192/64, vq 128/32, max-memory 6G, norm exact"] {
            #expect(throws: RequestError.unreadable(field: "tiling", value: bad)) { try TilingRequest(parsing: bad) }
        }
    }
}
