import Foundation
import LDMTensor
import LDMTestSupport
import Testing
@testable import LDMModels

/// Opt-in: the real architectures at full size (SR U-Net 113.6 M, inpainting U-Net 387.2 M with
/// 8 heads, vq-f4 with and without mid attention, 8192 codes), random weights, against PyTorch.
///     /tmp/torch-venv/bin/python Scripts/fixtures/make_parity_fixtures.py /tmp/ldm-fullsize --full   (~1.2 GB)
///     LDM_EDIT_FULLSIZE_PARITY=/tmp/ldm-fullsize bash Scripts/test.sh --filter FullSizeParityTests
/// Same bounds as the tiny parity tests (see ModelParityTests).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["LDM_EDIT_FULLSIZE_PARITY"] != nil))
struct FullSizeParityTests {
    static let root = ProcessInfo.processInfo.environment["LDM_EDIT_FULLSIZE_PARITY"] ?? ""

    func report(_ name: String, _ mine: Tensor, _ trace: SafetensorsFile, _ key: String) throws {
        let reference = try trace.load(key)
        let cmp = Comparison(mine.values, reference.values)
        print("full-size \(name): max |Δ| \(cmp.maxAbs), NMSE \(cmp.nmse), max |ref| \(reference.values.map { abs($0) }.max() ?? 0)")
        let scale = max(1, Double(reference.values.map { abs($0) }.max() ?? 0))
        #expect(cmp.nmse <= ModelParityTests.nmseBound && cmp.maxAbs <= ModelParityTests.relativeBound * scale, "\(name): \(cmp)")
    }

    @Test(arguments: ["sr", "inp"])
    func fullSizeModelsMatchPyTorch(_ family: String) throws {
        let weights = try ModelWeights.open("\(Self.root)/\(family)")
        let trace = try SafetensorsFile(path: "\(Self.root)/\(family)/trace.safetensors")
        let ws = Workspace()
        let unet = try UNet(weights, config: weights.unet)
        try report("\(family) U-Net", try unet(try trace.load("unet.input"), timesteps: try trace.load("unet.timestep").values,
                                                workspace: ws), trace, "unet.output")
        let vq = try VQAutoencoder(weights, config: try #require(weights.firstStage.vq))
        try report("\(family) VQ encode", try vq.encode(try trace.load("vq.image"), workspace: ws), trace, "vq.encoded")
        try report("\(family) VQ decode", try vq.decode(try trace.load("vq.latent"), workspace: ws), trace, "vq.decoded")
        let codes = try vq.codes(try trace.load("vq.latent"), workspace: ws).map(Float.init)
        let expanded = try trace.load("vq.codes_expanded").values
        print("full-size \(family) codes differing from the expanded-distance argmin: \(zip(codes, expanded).filter { $0 != $1 }.count) of \(codes.count)")
    }
}

/// Opt-in: Stable Diffusion 1.5 inpainting's U-Net shape (859.5 M parameters: in 9, out 4, widths
/// 320/640/1280/1280, attention at levels 0–2 with 8 heads, context 768, conv projections), random weights,
/// one call at a 32×32 latent against diffusers `UNet2DConditionModel`.
///     /tmp/torch-venv/bin/python Scripts/fixtures/make_sd_unet_fixtures.py --full /tmp/ldm-sd-fullsize   (~3.4 GB)
///     LDM_EDIT_SD_FULLSIZE_PARITY=/tmp/ldm-sd-fullsize bash Scripts/test.sh --filter SDFullSizeParityTests
/// Same bounds as the tiny parity tests (see ModelParityTests).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["LDM_EDIT_SD_FULLSIZE_PARITY"] != nil))
struct SDFullSizeParityTests {
    static let root = ProcessInfo.processInfo.environment["LDM_EDIT_SD_FULLSIZE_PARITY"] ?? ""

    @Test func sd15InpaintingUNetMatchesDiffusers() throws {
        let weights = try ModelWeights.open(Self.root)
        #expect(weights.unet == .sd15Inpainting)
        let trace = try SafetensorsFile(path: "\(Self.root)/trace.safetensors")
        let unet = try UNet(weights, config: weights.unet)
        var seen: [String: Tensor] = [:]
        let start = Date()
        let out = try unet(try trace.load("unet.input"), timesteps: try trace.load("unet.timestep").values,
                           context: try trace.load("unet.context"), workspace: Workspace()) { name, tensor in seen[name] = try? tensor.copy() }
        print("full-size SD U-Net call (32×32 latent, batch 1): \(Date().timeIntervalSince(start)) s")
        for key in trace.names where key.hasPrefix("unet.") && !["unet.input", "unet.timestep", "unet.context"].contains(key) {
            let name = String(key.dropFirst("unet.".count))
            guard let mine = name == "output" ? out : seen[name] else { Issue.record("\(name) not traced"); continue }
            let reference = try trace.load(key)
            let cmp = Comparison(mine.values, reference.values)
            let scale = max(1, Double(reference.values.map { abs($0) }.max() ?? 0))
            print("full-size SD \(name): max |Δ| \(cmp.maxAbs), NMSE \(cmp.nmse), max |ref| \(scale)")
            #expect(cmp.nmse <= ModelParityTests.nmseBound && cmp.maxAbs <= ModelParityTests.relativeBound * scale, "\(name): \(cmp)")
        }
    }
}
