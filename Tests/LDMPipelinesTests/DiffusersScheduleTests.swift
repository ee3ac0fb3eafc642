import Foundation
import LDMModels
import LDMTensor
import Testing
@testable import LDMPipelines

/// ᾱ and the Euler σ grid as diffusers computes them, bit for bit (Fixtures/diffusers_schedules.safetensors,
/// Scripts/fixtures/make_schedule_fixtures.py: torch 2.15.0, diffusers 0.42.1). Exact, not a tolerance: these are a
/// handful of float32 operations per value whose order and rounding are known (ATen's linspace is a fused multiply-add
/// per value, its cumprod accumulates in float64); a one-ulp σ_max moves every value of the initial latents and every
/// step's coefficients. A float32 running product got 780–976 of the 1000 ᾱ wrong, two roundings per √β 141–202.
@Suite struct DiffusersScheduleTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/diffusers_schedules.safetensors").path
    static let ranges: [(name: String, start: Double, end: Double, eulerSteps: Int?)] = [
        ("x4", 0.0001, 0.02, 4), ("sd", 0.00085, 0.012, 10), ("ldm_sr", 0.0015, 0.0155, nil), ("ldm_inpainting", 0.0015, 0.0205, nil),
    ]

    @Test(arguments: ranges.map(\.name))
    func scheduleMatchesDiffusers(_ name: String) throws {
        let reference = try SafetensorsFile(path: Self.fixture)
        let range = try #require(Self.ranges.first { $0.name == name })
        let schedule = NoiseSchedule(NoiseScheduleConfig(linearStart: range.start, linearEnd: range.end, source: "test"), precision: .diffusers)
        let expected = try reference.load("\(name).alphas_cumprod").values
        let differing = zip(schedule.alphasCumprod, expected).enumerated().filter { $0.element.0 != $0.element.1 }
        #expect(schedule.count == expected.count && differing.isEmpty,
                "\(differing.count) of \(expected.count) differ, first \(differing.prefix(3).map { "t=\($0.offset): \($0.element.0) vs \($0.element.1)" })")
        guard let steps = range.eulerSteps else { return }
        // The Euler σ: ((1 − ᾱ)/ᾱ) ** 0.5 in float32, at the grid's (here whole) timesteps. torch's float32 square root
        // on this CPU (MKL's vector sqrt) is not correctly rounded: 186 of the x4 table's 1000 values are one ulp
        // from IEEE √ of the same float32 ratio. ldm-edit's σ are IEEE's; each must equal diffusers' or, where
        // diffusers' is not the correctly rounded root, be the correctly rounded one.
        let sampler = EulerAncestralSampler(schedule: schedule, steps: steps, prediction: .vPrediction)
        let sigmas = try reference.load("\(name).euler_sigmas\(steps)").values
        #expect(sampler.grid.sigmas.count == sigmas.count && sampler.grid.sigmas.last == 0 && sigmas.last == 0)
        var torchRounding = 0
        for (i, t) in sampler.timesteps.enumerated() {
            let a = expected[Int(t)]
            let exact = Float(Double((1 - a) / a).squareRoot())
            #expect(t == t.rounded() && sampler.grid.sigmas[i] == exact, "t \(t): σ \(sampler.grid.sigmas[i]), correctly rounded \(exact)")
            if sigmas[i] != exact { torchRounding += 1 }
            #expect(sigmas[i] == exact || abs(sigmas[i] - exact) == exact.ulp, "t \(t): diffusers' σ \(sigmas[i]) vs \(exact)")
        }
        #expect(sampler.initialNoiseSigma == sigmas[0], "σ_max \(sampler.initialNoiseSigma) vs diffusers' \(sigmas[0])")
        print("\(name): ᾱ bit for bit; Euler σ grid \(steps) steps: \(steps - torchRounding) equal, \(torchRounding) one ulp apart (torch's √)")
    }
}
