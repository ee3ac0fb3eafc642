import Foundation
import LDMTensor

/// DPM-Solver++(2M) as diffusers' `DPMSolverMultistepScheduler` with its defaults (solver_order 2,
/// "dpmsolver++", "midpoint", lower_order_final, final_sigmas_type "zero", "linspace" spacing;
/// ldm-spec §5.2), arithmetic reproduced in Float32 as diffusers does it.
public struct DPMSolverSampler: DiffusionSampler {
    public let timesteps: [Int]
    /// σ per step plus the final 0.
    let sigmas: [Float]
    var previousData: [Float]?
    var previousLambda: Float = 0

    public init(schedule: NoiseSchedule, steps: Int) {
        let a = schedule.alphasCumprod
        let n = a.count
        // σ_t = √((1 − ᾱ)/ᾱ) in float32 (torch ops on the float32 ᾱ).
        let all = a.map { ((1 - $0) / $0).squareRoot() }
        // timesteps = round(linspace(0, T − 1, S + 1))[::-1][:-1]
        // numpy's linspace: i·((stop − start)/num) + start, then round half to even.
        let spacing = Double(n - 1) / Double(steps)
        let grid = (0...steps).map { $0 == steps ? Double(n - 1) : (Double($0) * spacing).rounded(.toNearestOrEven) }
        let ts = grid.reversed().dropLast().map { Int($0) }
        timesteps = ts
        // np.interp at integer timesteps is the value itself (computed in float64), then float32.
        sigmas = ts.map { Float(Double(all[$0])) } + [0]
    }

    static func alphaSigma(_ sigma: Float) -> (alpha: Float, sigma: Float) {
        let alpha = 1 / (sigma * sigma + 1).squareRoot()
        return (alpha, sigma * alpha)
    }

    public mutating func step(_ index: Int, x: Tensor, eps: Tensor, generator: inout TorchGenerator) {
        let (alphaS, sigmaS) = Self.alphaSigma(sigmas[index])
        let (alphaT, sigmaT) = Self.alphaSigma(sigmas[index + 1])
        let lambdaS = log(alphaS) - log(sigmaS)
        let lambdaT = log(alphaT) - log(sigmaT)
        let h = lambdaT - lambdaS
        let (p, e) = (x.data, eps.data)
        // Data prediction m = (x − σ_t ε) / α_t at the current σ.
        var data = [Float](repeating: 0, count: x.count)
        for i in 0..<x.count { data[i] = (p[i] - sigmaS * e[i]) / alphaS }
        let ratio = sigmaT / sigmaS
        let factor = alphaT * (exp(-h) - 1)
        let lastStep = index == timesteps.count - 1
        if let previous = previousData, !lastStep {
            let r = (lambdaS - previousLambda) / h
            for i in 0..<x.count {
                let d1 = (1 / r) * (data[i] - previous[i])
                p[i] = ratio * p[i] - factor * data[i] - 0.5 * factor * d1
            }
        } else {
            for i in 0..<x.count { p[i] = ratio * p[i] - factor * data[i] }
        }
        previousData = data
        previousLambda = lambdaS
    }
}
