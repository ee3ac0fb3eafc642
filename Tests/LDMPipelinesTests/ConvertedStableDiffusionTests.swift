import Foundation
import LDMImageIO
import LDMModels
import LDMTensor
import Testing
@testable import LDMPipelines

/// `convert` of a Stable Diffusion model (ModelWeights.export): the canonical file keeps the text encoder, the
/// scheduler and, when the source had one, its tokenizer folder's files, so it inpaints exactly as its source does.
@Suite struct ConvertedStableDiffusionTests {
    static func tokenizerFixture() -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("LDMTextTests/Fixtures/tiny_tokenizer").path
    }

    func inpaint(_ weights: ModelWeights, seed: UInt64) throws -> (PlanarImage, LatentDiffusionModel) {
        let model = try LatentDiffusionModel(weights: weights)
        let pipeline = try InpaintingPipeline(weights: weights, model: model)
        let (w, h) = (40, 24)
        let image = PlanarImage(width: w, height: h, rgb: (0..<(3 * w * h)).map { Float(($0 * 37) % 256) / 255 })
        let mask = (0..<(w * h)).map { p -> Float in (8..<16).contains(p / w) && (10..<30).contains(p % w) ? 1 : 0 }
        let settings = SamplingSettings(sampler: model.defaultSampler, steps: 3, seed: seed, text: TextPrompt("a red brick wall", negativePrompt: "blurry"))
        return (try pipeline.run(image, mask: mask, settings: settings), model)
    }

    @Test(arguments: [SafetensorsWriter.OutputType.f16, .f32])
    func aConvertedFileInpaintsAsItsFolder(_ dtype: SafetensorsWriter.OutputType) throws {
        let folder = try ModelWeights.open(SDInpaintFixture.folder)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sd-converted-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try folder.export(to: path, dtype: dtype)
        let converted = try ModelWeights.open(path)
        #expect(converted.layout == .canonical && converted.textEncoder?.config == folder.textEncoder?.config && converted.tokenizer == nil)
        let (expected, folderModel) = try inpaint(folder, seed: 4)
        let (result, convertedModel) = try inpaint(converted, seed: 4)
        #expect(convertedModel.defaultSampler == folderModel.defaultSampler && convertedModel.defaultSampler == .pndm)
        // The fixture's weights are float16 values: f16 and f32 files hold them exactly.
        #expect(result.rgb == expected.rgb, "the converted \(dtype) file inpaints differently from its folder")
    }

    @Test func theSourceTokenizerTravelsInTheFile() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("sd-tok-\(UUID().uuidString)").path
        let path = copy + ".safetensors"
        defer { try? FileManager.default.removeItem(atPath: copy); try? FileManager.default.removeItem(atPath: path) }
        try FileManager.default.copyItem(atPath: SDInpaintFixture.folder, toPath: copy)
        try FileManager.default.copyItem(atPath: Self.tokenizerFixture(), toPath: copy + "/tokenizer")
        let source = try ModelWeights.open(copy)
        try source.export(to: path, dtype: .f16)
        let converted = try ModelWeights.open(path)
        guard case .files(let files, let origin) = try #require(converted.tokenizer) else { Issue.record("no tokenizer files kept"); return }
        #expect(origin == path && Set(files.keys).isSubset(of: Set(TokenizerSource.fileNames)) && files["vocab.json"] != nil)
        #expect(CheckpointSummary.describe(converted).contains("  tokenizer: kept in this file (its source's tokenizer/)"))
        let a = try #require(try LatentDiffusionModel(weights: source).text), b = try #require(try LatentDiffusionModel(weights: converted).text)
        for prompt in ["", "a", "b a"] {  // the tiny vocabulary reads at most 6 tokens
            #expect(try a.tokenize(prompt) == b.tokenize(prompt), "\(prompt)")
        }
    }
}
