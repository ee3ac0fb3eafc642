import CKernels
import Foundation

/// Vector width of the C kernels (`Sources/CKernels`): the Winograd weight, input and output transforms,
/// GroupNorm's affine step with SiLU, and SiLU. The package is compiled for baseline x86-64 (4-float
/// SSE vectors) so one binary runs on every x86-64 CPU; those kernels are also compiled for AVX2
/// (8 floats) and AVX-512F (16 floats) and one is chosen at run time (docs/performance.md, "SIMD
/// width"). Every level gives bitwise the same results (same operations per lane, no FMA
/// contraction; the one explicit FMA, in GELU's erf, rounds once at every level), so the choice
/// changes speed only. The AVX2 level needs FMA too.
public enum SIMDLevel: Int, CaseIterable, Comparable, Sendable, CustomStringConvertible {
    case baseline = 0  // LDM_SIMD_BASELINE: SSE2 on x86-64, NEON on aarch64
    case avx2 = 1      // LDM_SIMD_AVX2
    case avx512 = 2    // LDM_SIMD_AVX512 (AVX-512F)

    /// The highest level the running CPU (and OS) supports.
    public static let supported: SIMDLevel = SIMDLevel(rawValue: Int(ldm_simd_supported_level())) ?? .baseline

    /// The level the kernels run at: `supported`, or a lower one named by the environment variable
    /// `LDM_EDIT_SIMD` (`baseline`, `avx2`, `avx512`) — to compare speeds, or to time an AVX2-only
    /// machine on an AVX-512 one. A name above `supported` or not a level is ignored (never an
    /// instruction the CPU lacks).
    public static let active: SIMDLevel = resolve(ProcessInfo.processInfo.environment["LDM_EDIT_SIMD"], supported: supported)

    /// Every level this CPU can run, lowest first (the tests run each).
    public static var available: [SIMDLevel] { allCases.filter { $0 <= supported } }

    /// The level for a request (`LDM_EDIT_SIMD`'s value): that level if named and supported, the
    /// supported one otherwise.
    public static func resolve(_ requested: String?, supported: SIMDLevel) -> SIMDLevel {
        guard let requested, let level = allCases.first(where: { $0.description == requested.lowercased() }) else { return supported }
        return min(level, supported)
    }

    /// The name `LDM_EDIT_SIMD` takes and the benchmarks print.
    public var description: String {
        switch self {
        case .baseline: "baseline"
        case .avx2: "avx2"
        case .avx512: "avx512"
        }
    }

    public static func < (a: SIMDLevel, b: SIMDLevel) -> Bool { a.rawValue < b.rawValue }

    /// The C kernels' `level` argument.
    var code: Int32 { Int32(rawValue) }
}
