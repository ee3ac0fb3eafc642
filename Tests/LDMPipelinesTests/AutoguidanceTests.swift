import Foundation
import LDMImageIO
import LDMModels
import LDMTensor
import Testing
@testable import LDMPipelines

/// A stand-in whose answer lives in the workspace's pool, as the U-Net's does: p = a·x + b + t/1000.
struct AffineDenoiser: Denoiser {
    let a: Float, b: Float
    /// - x: [N, C, H, W] → [N, C, H, W]
    func noise(_ x: Tensor, timestep: Float, workspace: Workspace) throws -> Tensor {
        let out = try workspace.tensor(x.shape)
        for i in 0..<x.count { out.data[i] = a * x.data[i] + b + timestep / 1000 }
        return out
    }
}

@Suite struct AutoguidanceTests {
    /// p = p_guide + w·(p_model − p_guide) per element, against the formula evaluated directly (the same float32
    /// operations, so exactly), over odd shapes and weights, with both answers drawn from one workspace: the
    /// model's must survive the guide's call.
    @Test(arguments: [[1, 3, 5, 7], [2, 4, 3, 9], [1, 1, 1, 1]], [Float(0), 1, 1.5, 3])
    func mixesTheGuideAndTheModel(shape: [Int], weight: Float) throws {
        let count = shape.reduce(1, *)
        let x = try Tensor(shape: shape, values: (0..<count).map { Float($0 % 13) / 6 - 1 })
        let (model, guide) = (AffineDenoiser(a: 2, b: 0.25), AffineDenoiser(a: -0.5, b: 1))
        let guided = try Autoguidance(model: model, guide: guide, weight: weight).noise(x, timestep: 250, workspace: Workspace())
        #expect(guided.shape == x.shape)
        for i in 0..<count {
            let m = 2 * x.data[i] + 0.25 + 0.25, g = -0.5 * x.data[i] + 1 + 0.25
            #expect(guided.data[i] == g + weight * (m - g), "element \(i)")
        }
    }

    /// A model guided by itself is the model, at any weight; guided at weight 1 by another, too (the pipeline then
    /// skips the guide's calls). Through the real inpainting pipeline on the conv fixture (ConvPipelineTests).
    @Test func aGuideEqualToTheModelChangesNothing() throws {
        let weights = try ModelWeights.open(ConvPipelineFixture.folder("inp"))
        let model = try LatentDiffusionModel(weights: weights)
        let plain = try InpaintingPipeline(weights: weights, model: model)
        let itself = try plain.guided(by: ModelGuide(weights: weights, model: model, weight: 2.5))
        let (image, mask) = Self.case32()
        let settings = SamplingSettings(sampler: .dpmpp2mKarras, steps: 6, seed: 3)
        let a = try plain.run(image, mask: mask, settings: settings)
        let b = try itself.run(image, mask: mask, settings: settings)
        #expect(a.rgb == b.rgb)
    }

    /// A guide that differs (the fixture with its U-Net's weights scaled by 0.9: another U-Net on the same first
    /// stage) changes the fill at weight 2 and not at weight 1, and only inside the hole (220 of its 768 values here).
    @Test func aDifferentGuideChangesTheFillUnlessItsWeightIsOne() throws {
        let weights = try ModelWeights.open(ConvPipelineFixture.folder("inp"))
        let model = try LatentDiffusionModel(weights: weights)
        let path = try Self.scaledCopy(prefix: UNetLayout.prefix, by: 0.9)
        defer { unlink(path) }
        let other = try ModelWeights.open(path)
        let otherModel = try LatentDiffusionModel(weights: other)
        #expect(try ModelGuide.latentDifference(model.firstStage, otherModel.firstStage, side: 32) == 0)
        let plain = try InpaintingPipeline(weights: weights, model: model)
        let guide = try ModelGuide(weights: other, model: otherModel, weight: 2)
        let (image, mask) = Self.case32()
        let settings = SamplingSettings(sampler: .dpmpp2mKarras, steps: 6, seed: 3)
        let alone = try plain.run(image, mask: mask, settings: settings)
        let guided = try plain.guided(by: guide).run(image, mask: mask, settings: settings)
        let one = try plain.guided(by: guide.weighted(1)).run(image, mask: mask, settings: settings)
        #expect(one.rgb == alone.rgb)
        // The attached guide reweighted per run (as the editor does for each request), or dropped.
        let attached = try plain.guided(by: guide.weighted(1.5))
        #expect(try attached.withGuideWeight(2).run(image, mask: mask, settings: settings).rgb == guided.rgb)
        #expect(try attached.withGuideWeight(nil).run(image, mask: mask, settings: settings).rgb == alone.rgb)
        #expect(plain.withGuideWeight(2).guide == nil, "no guide attached, none to weigh")
        var changed = 0
        for c in 0..<3 {
            for p in 0..<(32 * 32) {
                let i = c * 32 * 32 + p
                if mask[p] < 0.5 { #expect(guided.rgb[i] == alone.rgb[i]) } else if guided.rgb[i] != alone.rgb[i] { changed += 1 }
            }
        }
        // (The tiny random model's fill saturates in places: clamped values stay 0 or 1 whatever the guide.)
        #expect(changed > 0, "the guide at weight 2 left the fill as the model alone made it")
    }

    /// Guides that cannot guide are refused when attached, each with the reason.
    @Test func mismatchedGuidesAreRefused() throws {
        let weights = try ModelWeights.open(ConvPipelineFixture.folder("inp"))
        let pipeline = try InpaintingPipeline(weights: weights, model: try LatentDiffusionModel(weights: weights))
        func reason(_ folder: String) throws -> String {
            let other = try ModelWeights.open(folder)
            do {
                _ = try pipeline.guided(by: ModelGuide(weights: other, model: try LatentDiffusionModel(weights: other), weight: 2))
            } catch let PipelineError.guideMismatch(path, reason) {
                #expect(path == other.path)
                return reason
            }
            Issue.record("\(folder) was accepted as a guide")
            return ""
        }
        let models = ConvPipelineFixture.models
        #expect(try reason(ConvPipelineFixture.folder("sr")).contains("super-resolution"))
        #expect(try reason(models + "/conv_inp_z8_folder").contains("channels"))
        #expect(try reason(models + "/kl_inp_folder").contains("first stage"))
        // The same shapes, another first stage (its encoder scaled): the probe image tells them apart.
        let path = try Self.scaledCopy(prefix: ConvAutoencoderLayout.prefix + "encoder.", by: 0.9)
        defer { unlink(path) }
        #expect(try reason(path).contains("encodes differently"))
    }

    /// The conv inpainting fixture exported with the tensors under `prefix` scaled → the file's path (the caller
    /// removes it).
    static func scaledCopy(prefix: String, by factor: Float) throws -> String {
        let weights = try ModelWeights.open(ConvPipelineFixture.folder("inp"))
        let exported = FileManager.default.temporaryDirectory.appendingPathComponent("guide-\(UUID().uuidString).safetensors").path
        let path = exported.replacingOccurrences(of: "guide-", with: "guide-scaled-")
        defer { unlink(exported) }
        try weights.export(to: exported)
        let file = try SafetensorsFile(path: exported)
        let names = file.tensors.keys.sorted()
        try SafetensorsWriter.write(to: path, entries: names.map { ($0, file.tensors[$0]!.shape) }, dtype: .f32, metadata: file.metadata) { name in
            let tensor = try file.load(name)
            guard name.hasPrefix(prefix) else { return tensor }
            return try Tensor(shape: tensor.shape, values: tensor.values.map { factor * $0 })
        }
        return path
    }

    /// A 32×32 smooth image with a centre square to fill.
    static func case32() -> (PlanarImage, [Float]) {
        let side = 32
        let rgb = (0..<(3 * side * side)).map { i in Float(0.5 + 0.4 * sin(Double(i % side) * 0.3 + Double(i / (side * side)))) }
        let mask = (0..<(side * side)).map { p in (8..<24).contains(p % side) && (8..<24).contains(p / side) ? Float(1) : 0 }
        return (PlanarImage(width: side, height: side, rgb: rgb), mask)
    }
}
