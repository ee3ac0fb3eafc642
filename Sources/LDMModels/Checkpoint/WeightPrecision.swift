import Foundation
import LDMTensor

/// How a loaded model holds its weights: the one place that decides it (`ModelWeights.open`'s
/// `precision`, passed on to its text encoder). The layers' matrices (convolutions, linear layers, fused projections,
/// the text encoder's embeddings) follow it; biases and norm scales, a few thousand values per
/// layer, are always Float32.
public enum WeightPrecision: String, Sendable, CaseIterable {
    /// As the file stores them: f16 and bf16 stay 16-bit in memory and are widened per layer, per
    /// call (`WeightTensor`); f32 stays f32 and f64 becomes f32. Half the memory for 16-bit files,
    /// the same results bit for bit (widening is exact), a few percent slower (docs/performance.md).
    case asStored = "as-stored"
    /// Everything widened to Float32 once, at load (as before 16-bit weights were kept): for speed
    /// comparisons and benchmarks.
    case float32
    /// Every matrix held as IEEE float16: f16 stays as stored, f32/f64/bf16 are narrowed once at load
    /// (round to nearest even; a tensor with values beyond float16's range is refused, `halfRange`). Half
    /// the memory of a float32 checkpoint, as `convert --dtype f16` would give, but without a second file;
    /// the results change by that rounding, so an edit records it (for 16-bit files nothing changes).
    case float16

    /// `asStored`, unless the environment sets LDM_EDIT_WEIGHTS=float32 (to compare speed and memory
    /// with the weights widened at load; any other value keeps the default).
    public static let `default`: WeightPrecision = resolve(ProcessInfo.processInfo.environment["LDM_EDIT_WEIGHTS"])

    static func resolve(_ requested: String?) -> WeightPrecision {
        requested?.lowercased() == WeightPrecision.float32.rawValue ? .float32 : .asStored
    }

    /// How a tensor stored as `dtype` is held under this policy.
    public func held(_ dtype: DType) -> WeightTensor.Precision {
        switch (self, dtype) {
        case (.asStored, .f16): .float16
        case (.asStored, .bf16): .bfloat16
        case (.float16, _): .float16
        default: .float32
        }
    }
}
