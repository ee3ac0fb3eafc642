// Vector kernels compiled once per x86 instruction set and chosen at run time (docs/performance.md,
// "SIMD width"). The Swift package builds for baseline x86-64 (SSE, 4 floats per vector) so that one
// binary runs on every x86-64 CPU; these kernels are also compiled for AVX2 (8 floats) and
// AVX-512F (16 floats), and the caller passes the level to run (LDMTensor's SIMDLevel: the best the
// CPU has, or a lower one forced with LDM_EDIT_SIMD). A level above what the CPU supports is
// lowered to the best it does support, so no request can run an instruction the CPU lacks. All
// levels give bitwise the same results (same operations per lane, no FMA contraction).
#ifndef LDM_CKERNELS_H
#define LDM_CKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set levels, lowest first.
enum {
    LDM_SIMD_BASELINE = 0,  ///< 4-float vectors: SSE2 on x86-64, NEON on aarch64 (any CPU)
    LDM_SIMD_AVX2 = 1,      ///< 8-float vectors (x86-64 with AVX2)
    LDM_SIMD_AVX512 = 2,    ///< 16-float vectors (x86-64 with AVX-512F and OS support)
};

/// The highest level the running CPU (and OS) supports.
int ldm_simd_supported_level(void);

/// Winograd F(4×4, 3×3) weight transform U = G g Gᵀ of `count` consecutive (o, c) pairs.
/// - weight: [count, 3, 3] → u: 36 ξ-planes `plane` floats apart, pair k at u[ξ·plane + k].
void ldm_winograd_weight_transform(int level, const float *weight, long count, float *u, long plane);

/// Winograd F(4×4, 3×3) input transform V = Bᵀ d B of one channel's band.
/// - padded: [4·tile_rows + 2, width] zero-padded input rows, width ≥ 4·(tile_columns rounded up to
///   16) + 2 → v: 36 ξ-planes `plane` floats apart, each [tile_rows, tile_columns] (tiles contiguous).
void ldm_winograd_input_transform(int level, const float *padded, long width, long tile_rows, long tile_columns,
                                  float *v, long plane);

/// Winograd F(4×4, 3×3) output transform Y = Aᵀ M A + bias of one output channel's band, cropped
/// at the image's edge. 8 lanes wide at the AVX-512 level too (measured faster; KernelBody.h).
/// - m: 36 ξ-planes `plane` floats apart, each [tile_rows, tile_columns]; 16 floats readable past
///   the last tile → y: rows 0 … min(4·tile_rows, h) − 1 of a [h, w] image.
void ldm_winograd_output_transform(int level, const float *m, long plane, long tile_rows, long tile_columns, float bias,
                                   float *y, long h, long w);

/// y = (x − mean)·scale + shift, then SiLU when `silu` is non-zero. - x, y: [count] (y may be x).
void ldm_group_norm_apply(int level, const float *x, float *y, long count, float mean, float scale, float shift, int silu);

/// y = x · sigmoid(x) = x / (1 + e^−x), FastMath's exp. - x, y: [count] (y may be x).
void ldm_silu(int level, const float *x, float *y, long count);

/// The exponent pass of softmax over one row, in place: row[i] ← e^(row[i]·scale − max(row)·scale)
/// (Cephes expf with FMAs, ≤ 1.41 ulp), returning Σ row[i] summed in a fixed order (the same bits at every level). The
/// caller normalises, e.g. after the product with the values (fewer numbers to divide).
/// - row: [length], length ≥ 1.
double ldm_softmax_exp(int level, float *row, long length, float scale);

/// y = x · factor. - x, y: [count] (y may be x).
void ldm_scale(int level, const float *x, float *y, long count, float factor);

/// GEGLU's gating, y = a · gelu(gate), erf as PyTorch's vectorised CPU GELU computes it (Abramowitz &
/// Stegun 7.1.26; KernelBody.h). - a, gate, y: [count] (y may be a).
void ldm_geglu(int level, const float *a, const float *gate, float *y, long count);

/// Rows 0 ..< count of v (d floats each, `stride` apart) copied to `packed`, `padded` floats a row (padded: a
/// multiple of 16 ≥ d; zeros after d), the layout ldm_attention_values reads. - v: [count, stride] → packed: [count, padded]
void ldm_attention_pack_values(int level, const float *v, long stride, long count, long d, float *packed, long padded);

/// Attention's value product with the softmax normalisation: out[r, j] = (Σ_s p[r, s] · v[s, j]) · inverses[r] for
/// r < rows, j < d, the sum over s = 0 ..< tk in order with one FMA a term (the same bits at every level), reading
/// the score rows in place (no packing pass over them). - p: [rows, ldp], packed: [tk, padded] (from
/// ldm_attention_pack_values), inverses: [rows] → out: [rows, ldo] (columns 0 ..< d written).
void ldm_attention_values(int level, const float *p, long ldp, long rows, long tk, const float *packed, long padded,
                          long d, float *out, long ldo, const float *inverses);

/// Keys 0 ..< count (d floats each, `stride` apart) packed in panels of 16 keys, each panel d rows of 16 floats
/// (zeros past count), the layout ldm_attention_scores reads. - k: [count, stride] → packed: [⌈count / 16⌉, d, 16]
void ldm_attention_pack_keys(int level, const float *k, long stride, long count, long d, float *packed);

/// Attention's score product: out[r, s] = Σ_i q[r, i] · k[s, i] for r < rows, s < tk, the sum over i = 0 ..< d in
/// order with one FMA a term from 0 (the same bits at every level, and as a GEMM that sums K in order).
/// - q: [rows, ldq] (d columns), packed: keys from ldm_attention_pack_keys → out: [rows, ldo] (columns 0 ..< tk)
void ldm_attention_scores(int level, const float *q, long ldq, long rows, const float *packed, long tk, long d, float *out,
                          long ldo);

/// Widens IEEE half-precision bits to float32: exact (finite values, ±0, subnormals, ±Inf as they
/// are; a NaN keeps sign and payload and is made quiet). F16C or AVX-512F's VCVTPH2PS where the level
/// and CPU allow, else a portable bit conversion: the same bits at every level. - x: [count] → y: [count]
void ldm_widen_f16(int level, const uint16_t *x, float *y, long count);

/// Widens bfloat16 bits to float32 (the top half of a float32: exact, NaN payloads as they are).
/// - x: [count] → y: [count]
void ldm_widen_bf16(const uint16_t *x, float *y, long count);

#ifdef __cplusplus
}
#endif

#endif
