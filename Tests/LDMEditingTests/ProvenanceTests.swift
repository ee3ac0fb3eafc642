import Foundation
import Testing
@testable import LDMEditing

/// Provenance: the request's provenance view flattened with the per-output fields; the fields
/// `ldm-edit info` shows are those earlier versions wrote, and their provenance still reads.
@Suite struct ProvenanceTests {
    @Test func recordsTheModelByNameInTheFieldsInfoShows() throws {
        let request = try EditRequestCodingTests.inpaint()
        let key = try request.resumeKey(inputSHA256: "11", maskSHA256: "22")
        let provenance = Provenance(version: "9.9", settings: request, plan: "crop 1: 8x8+0+0", input: "/photos/a.png", inputSHA256: "11",
                                    mask: "/masks/a_mask.png", maskSHA256: "22", key: key, created: Date(timeIntervalSince1970: 0))
        let json = try provenance.json()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["tool", "version", "task", "model", "model_sha256", "sampler", "steps", "eta", "seed", "seed_given",
                                     "tiling", "plan", "options", "input", "input_sha256", "mask", "mask_sha256", "key", "created"])
        #expect(object["model"] as? String == "last.ckpt" && object["input"] as? String == "a.png" && object["mask"] as? String == "a_mask.png")
        #expect(object["created"] as? String == "1970-01-01T00:00:00Z" && object["key"] as? String == key)
        #expect(!json.contains("/models/"), "paths stay out of published images")
        let parsed = try #require(Provenance.parse(json))
        #expect(parsed.settings.model?.path == "last.ckpt" && parsed.settings.options == request.options && parsed == Provenance.parse(json))
        #expect(try parsed.settings.resumeKey(inputSHA256: "11", maskSHA256: "22") == key, "the key survives the round trip")
    }

    /// Written by ldm-edit 0.1.0 before the request type (the user's own "6GB" text, options as strings).
    @Test func readsWhatEarlierVersionsWrote() throws {
        let old = #"{"created":"2026-01-02T03:04:05Z","eta":0,"input":"a.png","input_sha256":"aa","key":"bb","mask":"a_mask.png","mask_sha256":"cc","model":"inp","model_sha256":"dd","options":{"crop_margin":"128","mask_invert":"true","strategy":"auto","weights":"raw"},"plan":"full","sampler":"ddim","seed":11,"seed_given":false,"steps":2,"task":"inpaint","tiling":"unet 192/64, vq 128/32, max-memory 6GB","tool":"ldm-edit","version":"0.1.0"}"#
        let provenance = try #require(Provenance.parse(old))
        let settings = provenance.settings
        #expect(settings.task == .inpaint && settings.model == ModelReference(path: "inp", sha256: "dd", useEMA: false))
        #expect(settings.sampling?.seed == 11 && settings.sampling?.seedGiven == false && settings.sampling?.steps == 2)
        #expect(settings.tiling?.description == "unet 192/64, vq 128/32, max-memory 6G")
        #expect(settings.inpainting?.maskInvert == true && settings.inpainting?.strategy == .auto)
        #expect(provenance.plan == "full" && provenance.key == "bb" && provenance.mask == "a_mask.png")
        let classical = #"{"created":"x","input":"a.png","input_sha256":"aa","key":"bb","method":"lanczos","options":{"bit_depth":"16"},"task":"upscale","tool":"ldm-edit","version":"0.1.0"}"#
        #expect(Provenance.parse(classical)?.settings == .upscale(method: .lanczos, output: try OutputRequest(bitDepth: 16)))
        #expect(Provenance.parse(#"{"tool":"gimp"}"#) == nil && Provenance.parse("Created with GIMP") == nil)
    }
}
