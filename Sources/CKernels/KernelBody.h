// The kernels' one body, compiled once per instruction set: KernelsBaseline.c, KernelsAVX2.c and
// KernelsAVX512.c define LDM_W (floats per vector: 4, 8, 16), LDM_NAME(name) (the variant's symbol)
// and, for x86, the target attribute for every function below, then include this file.
//
// Every lane is computed with the same operations in the same order whatever LDM_W is, and
// floating-point contraction is off (no FMA fused from a·b + c; the explicit ldm_fma rounds once at
// every level), so all variants give the same bits as each other and as the Swift code they replace
// (tested in SIMDVariantTests). The transformer blocks' kernels are in TransformerBody.h, included at the end.
#pragma STDC FP_CONTRACT OFF

#include <string.h>

#include "ShuffleIndices.h"

typedef float ldm_vf __attribute__((vector_size(LDM_W * 4)));
typedef float ldm_half __attribute__((vector_size(LDM_W * 2)));
typedef int ldm_vi __attribute__((vector_size(LDM_W * 4)));
typedef unsigned ldm_vu __attribute__((vector_size(LDM_W * 4)));
typedef float ldm_double_vf __attribute__((vector_size(LDM_W * 8)));

#define LDM_INLINE static inline __attribute__((always_inline))

LDM_INLINE ldm_vf ldm_load(const float *p) {
    ldm_vf v;
    memcpy(&v, p, sizeof v);  // one unaligned vector load
    return v;
}

LDM_INLINE void ldm_store(float *p, ldm_vf v) { memcpy(p, &v, sizeof v); }

/// The first `lanes` (1 … LDM_W) floats at p, zeros after them (never reading past p + lanes).
LDM_INLINE ldm_vf ldm_load_lanes(const float *p, long lanes) {
    if (lanes == LDM_W) return ldm_load(p);
    ldm_vf v = {0};
    memcpy(&v, p, (size_t)lanes * sizeof(float));
    return v;
}

/// Stores the first `lanes` (1 … LDM_W) lanes of v: the whole vector when all are wanted, else
/// only those (the floats after them belong to another channel, possibly another thread's).
LDM_INLINE void ldm_store_lanes(float *p, ldm_vf v, long lanes) {
    if (lanes == LDM_W) {
        ldm_store(p, v);
    } else {
        memcpy(p, &v, (size_t)lanes * sizeof(float));
    }
}

/// x in every lane. −0 + x is x for every x (signed zeros included), so the addition folds away; +0 + x would
/// not (it turns −0 into +0), costing a zeroed register and an add at every broadcast.
LDM_INLINE ldm_vf ldm_splat(float x) { return -(ldm_vf){0} + x; }

/// a·b + c with one rounding, at every level (FMA instructions at AVX2 and AVX-512, libm's correctly
/// rounded fmaf at the baseline): the same bits everywhere.
LDM_INLINE ldm_vf ldm_fma(ldm_vf a, ldm_vf b, ldm_vf c) { return __builtin_elementwise_fma(a, b, c); }

/// d·B on one row's 6 values (the same combinations as Bᵀ·d on a column); Winograd.swift's Bᵀ.
/// Every coefficient is dyadic (exact in float).
LDM_INLINE void ldm_b_transform(ldm_vf d0, ldm_vf d1, ldm_vf d2, ldm_vf d3, ldm_vf d4, ldm_vf d5, ldm_vf *out) {
    ldm_vf even1 = d4 - 2.25f * d2, odd1 = 1.125f * d1 - 0.5f * d3;
    ldm_vf even3 = d4 - 0.25f * d2, odd3 = 0.375f * d1 - 1.5f * d3;
    out[0] = 0.5625f * d0 - 2.5f * d2 + d4;
    out[1] = even1 - odd1;
    out[2] = even1 + odd1;
    out[3] = even3 - odd3;
    out[4] = even3 + odd3;
    out[5] = 0.5625f * d1 - 2.5f * d3 + d5;
}

/// Column j (0 … 3) of W consecutive 4-float tiles held in a, b, c, d (4·W floats): lane k = tile k's
/// value j, i.e. floats j, j + 4, j + 8, … of the concatenation.
LDM_INLINE ldm_vf ldm_column(ldm_vf a, ldm_vf b, ldm_vf c, ldm_vf d, int j) {
    ldm_half lo, hi;
    switch (j) {
    case 0: lo = __builtin_shufflevector(a, b, LDM_EVERY4(0)); hi = __builtin_shufflevector(c, d, LDM_EVERY4(0)); break;
    case 1: lo = __builtin_shufflevector(a, b, LDM_EVERY4(1)); hi = __builtin_shufflevector(c, d, LDM_EVERY4(1)); break;
    case 2: lo = __builtin_shufflevector(a, b, LDM_EVERY4(2)); hi = __builtin_shufflevector(c, d, LDM_EVERY4(2)); break;
    default: lo = __builtin_shufflevector(a, b, LDM_EVERY4(3)); hi = __builtin_shufflevector(c, d, LDM_EVERY4(3)); break;
    }
    return __builtin_shufflevector(lo, hi, LDM_CONCAT);
}

void LDM_NAME(ldm_winograd_input_transform)(const float *padded, long width, long tile_rows, long tile_columns,
                                           float *v, long plane) {
    ldm_vf t[36], out[6];
    for (long r = 0; r < tile_rows; r++) {
        for (long group = 0; group < tile_columns; group += LDM_W) {
            long lanes = tile_columns - group < LDM_W ? tile_columns - group : LDM_W;
            // Rows: t[i][j'] = (d B)[i][j'], lane k = tile group + k (input columns 4k + j).
            for (int i = 0; i < 6; i++) {
                const float *p = padded + (4 * r + i) * width + 4 * group;
                ldm_vf a = ldm_load(p), b = ldm_load(p + LDM_W), c = ldm_load(p + 2 * LDM_W), d = ldm_load(p + 3 * LDM_W);
                ldm_vf c0 = ldm_column(a, b, c, d, 0), c1 = ldm_column(a, b, c, d, 1);
                ldm_vf c2 = ldm_column(a, b, c, d, 2), c3 = ldm_column(a, b, c, d, 3);
                // Columns 4 and 5 of tile k are columns 0 and 1 of tile k + 1.
                ldm_vf c4 = __builtin_shufflevector(c0, ldm_splat(p[4 * LDM_W]), LDM_SHIFT1);
                ldm_vf c5 = __builtin_shufflevector(c1, ldm_splat(p[4 * LDM_W + 1]), LDM_SHIFT1);
                ldm_b_transform(c0, c1, c2, c3, c4, c5, t + 6 * i);
            }
            // Columns: V[i'][j'] = Bᵀ over i of t[i][j'], stored to 36 ξ-planes.
            float *base = v + r * tile_columns + group;
            for (int j = 0; j < 6; j++) {
                ldm_b_transform(t[j], t[6 + j], t[12 + j], t[18 + j], t[24 + j], t[30 + j], out);
                for (int i = 0; i < 6; i++) ldm_store_lanes(base + (6 * i + j) * plane, out[i], lanes);
            }
        }
    }
}

/// G·(g0, g1, g2): the six values of one column of G g (or, applied to a row of G g, of one row
/// of (G g) Gᵀ), lane-wise; Winograd.swift's G.
LDM_INLINE void ldm_g_transform(ldm_vf g0, ldm_vf g1, ldm_vf g2, ldm_vf *out) {
    ldm_vf even1 = g0 + 0.25f * g2, odd1 = 0.5f * g1;
    ldm_vf even3 = g0 * (1.0f / 9.0f) + 0.25f * g2, odd3 = g1 * (1.0f / 6.0f);
    out[0] = g0 * (16.0f / 9.0f);
    out[1] = -(even1 + odd1);
    out[2] = odd1 - even1;
    out[3] = even3 + odd3;
    out[4] = even3 - odd3;
    out[5] = g2;
}

/// Pairs transformed into a local block before it is copied out plane by plane: 36 sequential
/// copies of 512 bytes instead of 36 interleaved write streams of one vector each (measured slower).
#define LDM_WEIGHT_BLOCK 128

void LDM_NAME(ldm_winograd_weight_transform)(const float *weight, long count, float *u, long plane) {
    float g[9][LDM_W], block[36 * LDM_WEIGHT_BLOCK];
    ldm_vf t[3][6], column[6];
    for (long first = 0; first < count; first += LDM_WEIGHT_BLOCK) {
        long pairs = count - first < LDM_WEIGHT_BLOCK ? count - first : LDM_WEIGHT_BLOCK;
        for (long start = 0; start < pairs; start += LDM_W) {
            long lanes = pairs - start < LDM_W ? pairs - start : LDM_W;
            // Lane k = pair first + start + k: its 9 weights, one vector per kernel position.
            const float *w = weight + (first + start) * 9;
            if (lanes == LDM_W) {
                for (long k = 0; k < LDM_W; k++) {
                    for (int e = 0; e < 9; e++) g[e][k] = w[k * 9 + e];
                }
            } else {
                for (long k = 0; k < LDM_W; k++) {
                    for (int e = 0; e < 9; e++) g[e][k] = k < lanes ? w[k * 9 + e] : 0;
                }
            }
            // t_b = G·(column b of g), row i of G g in t[b][i]; then U[6i + j] = G's row j applied to
            // (t_0[i], t_1[i], t_2[i]). The block has room for whole vectors (128 is a multiple of W).
            for (int b = 0; b < 3; b++) ldm_g_transform(ldm_load(g[b]), ldm_load(g[3 + b]), ldm_load(g[6 + b]), t[b]);
            for (int i = 0; i < 6; i++) {
                ldm_g_transform(t[0][i], t[1][i], t[2][i], column);
                for (int j = 0; j < 6; j++) ldm_store(block + (6 * i + j) * LDM_WEIGHT_BLOCK + start, column[j]);
            }
        }
        for (int xi = 0; xi < 36; xi++) {
            memcpy(u + xi * plane + first, block + xi * LDM_WEIGHT_BLOCK, (size_t)pairs * sizeof(float));
        }
    }
}

// The output transform is not built 16 wide: on the AMD EPYC (Zen 4) development machine the
// 16-wide version took 4.8–5.4 % of an SR U-Net 128² call and the 8-wide one 2.6–3.2 % (perf, three
// runs; with either interleave tried), so Dispatch.c runs the 8-wide one at the AVX-512 level.
#if LDM_W <= 8
/// Aᵀ·(m0 … m5); Winograd.swift's Aᵀ (dyadic coefficients, exact in float).
LDM_INLINE void ldm_a_transform(ldm_vf m0, ldm_vf m1, ldm_vf m2, ldm_vf m3, ldm_vf m4, ldm_vf m5, ldm_vf *out) {
    ldm_vf p12 = m1 + m2, m12 = m1 - m2, p34 = m3 + m4, m34 = m3 - m4;
    out[0] = m0 + p12 + p34;
    out[1] = 0.5f * m12 + 1.5f * m34;
    out[2] = 0.25f * p12 + 2.25f * p34;
    out[3] = 0.125f * m12 + 3.375f * m34 + m5;
}

void LDM_NAME(ldm_winograd_output_transform)(const float *m, long plane, long tile_rows, long tile_columns, float bias,
                                            float *y, long h, long w) {
    ldm_vf s[24], column[4], row[4];
    ldm_double_vf quad[2];
    for (long r = 0; r < tile_rows; r++) {
        for (long group = 0; group < tile_columns; group += LDM_W) {
            const float *base = m + r * tile_columns + group;
            // s[a][j] = (Aᵀ M)[a][j].
            for (int j = 0; j < 6; j++) {
                ldm_a_transform(ldm_load(base + j * plane), ldm_load(base + (6 + j) * plane), ldm_load(base + (12 + j) * plane),
                                ldm_load(base + (18 + j) * plane), ldm_load(base + (24 + j) * plane),
                                ldm_load(base + (30 + j) * plane), column);
                s[j] = column[0], s[6 + j] = column[1], s[12 + j] = column[2], s[18 + j] = column[3];
            }
            long columns = w - 4 * group < 4 * LDM_W ? w - 4 * group : 4 * LDM_W;
            for (int a = 0; a < 4; a++) {
                long oy = 4 * r + a;
                if (oy >= h) break;
                ldm_a_transform(s[6 * a], s[6 * a + 1], s[6 * a + 2], s[6 * a + 3], s[6 * a + 4], s[6 * a + 5], row);
                ldm_vf y0 = row[0] + bias, y1 = row[1] + bias, y2 = row[2] + bias, y3 = row[3] + bias;
                // Lane k of y_c is output column 4k + c: interleave the four into 4·W consecutive floats.
                ldm_double_vf zip01 = __builtin_shufflevector(y0, y1, LDM_ZIP);
                ldm_double_vf zip23 = __builtin_shufflevector(y2, y3, LDM_ZIP);
                quad[0] = __builtin_shufflevector(zip01, zip23, LDM_QUAD_LO);
                quad[1] = __builtin_shufflevector(zip01, zip23, LDM_QUAD_HI);
                float *out = y + oy * w + 4 * group;
                if (columns == 4 * LDM_W) {
                    memcpy(out, quad, sizeof quad);
                } else {
                    memcpy(out, quad, (size_t)columns * sizeof(float));  // the image's right edge
                }
            }
        }
    }
}
#endif

/// Cephes expf, lane for lane FastMath.exp (FastMath.swift): same constants, same operation order.
LDM_INLINE ldm_vf ldm_exp(ldm_vf x) {
    ldm_vf hi = ldm_splat(88.3762626647949f), lo = ldm_splat(-87.3365478515625f);
    ldm_vi above = x > hi, below = x < lo;  // false for NaN: NaN passes through, as in Swift
    x = (ldm_vf)(((ldm_vi)x & ~above) | ((ldm_vi)hi & above));
    x = (ldm_vf)(((ldm_vi)x & ~below) | ((ldm_vi)lo & below));
    ldm_vf shifted = x * 1.44269504088896341f + 12582912.0f;
    ldm_vf n = shifted - 12582912.0f;
    x = x - n * 0.693359375f;
    x = x - n * -2.12194440e-4f;
    ldm_vf p = ldm_splat(1.9875691500e-4f);
    p = p * x + 1.3981999507e-3f;
    p = p * x + 8.3334519073e-3f;
    p = p * x + 4.1665795894e-2f;
    p = p * x + 1.6666665459e-1f;
    p = p * x + 5.0000001201e-1f;
    ldm_vf e = p * x * x + x + 1;
    // The low mantissa bits of `shifted` hold n in two's complement.
    ldm_vi ni = (ldm_vi)shifted - 0x4B400000;
    ldm_vi half = ni >> 1;
    ldm_vf scale1 = (ldm_vf)((ldm_vu)(half + 127) << 23);
    ldm_vf scale2 = (ldm_vf)((ldm_vu)(ni - half + 127) << 23);
    return e * scale1 * scale2;
}

/// e^x for x ≤ 0 or NaN: softmax's max-subtracted exponents (ldm_softmax_exp). ldm_exp's reduction and
/// polynomial with each a·b + c as one FMA, and 2^n applied in one multiply (n = round(x·log2 e) lies in
/// [−126, 0] here, so 2^n is a normal float): a shorter dependency chain and fewer operations, 0.79 against
/// 1.30 ns an element on the AVX2 EPYC (docs/performance.md). Within 8.4e-8 relative (1.41 · 2⁻²⁴) of e^x over
/// every non-positive float (ldm_exp: 8.3e-8); NaN passes through. The same bits at every width (FMA at each).
LDM_INLINE ldm_vf ldm_exp_nonpositive(ldm_vf x) {
    ldm_vf lo = ldm_splat(-87.3365478515625f);
    ldm_vi below = x < lo;  // false for NaN
    x = (ldm_vf)(((ldm_vi)x & ~below) | ((ldm_vi)lo & below));
    ldm_vf shifted = ldm_fma(x, ldm_splat(1.44269504088896341f), ldm_splat(12582912.0f));
    ldm_vf n = shifted - 12582912.0f;
    x = ldm_fma(n, ldm_splat(-0.693359375f), x);
    x = ldm_fma(n, ldm_splat(2.12194440e-4f), x);
    ldm_vf p = ldm_fma(ldm_splat(1.9875691500e-4f), x, ldm_splat(1.3981999507e-3f));
    p = ldm_fma(p, x, ldm_splat(8.3334519073e-3f));
    p = ldm_fma(p, x, ldm_splat(4.1665795894e-2f));
    p = ldm_fma(p, x, ldm_splat(1.6666665459e-1f));
    p = ldm_fma(p, x, ldm_splat(5.0000001201e-1f));
    ldm_vf e = ldm_fma(p, x * x, x) + 1;
    // The low mantissa bits of `shifted` hold n in two's complement.
    ldm_vi ni = (ldm_vi)shifted - 0x4B400000;
    return e * (ldm_vf)((ldm_vu)(ni + 127) << 23);
}

LDM_INLINE ldm_vf ldm_silu_v(ldm_vf x) { return x / (1 + ldm_exp(-x)); }

/// GroupNorm's affine step (x − mean)·scale + shift, then SiLU when `silu`; lane for lane
/// GroupNorm.swift's former apply. A ragged tail runs through a zero-padded vector.
void LDM_NAME(ldm_group_norm_apply)(const float *x, float *y, long count, float mean, float scale, float shift, int silu) {
    long i = 0;
    for (; i + LDM_W <= count; i += LDM_W) {
        ldm_vf v = (ldm_load(x + i) - mean) * scale + shift;
        ldm_store(y + i, silu ? ldm_silu_v(v) : v);
    }
    if (i < count) {
        float buffer[LDM_W] = {0};
        memcpy(buffer, x + i, (size_t)(count - i) * sizeof(float));
        ldm_vf v = (ldm_load(buffer) - mean) * scale + shift;
        ldm_store(buffer, silu ? ldm_silu_v(v) : v);
        memcpy(y + i, buffer, (size_t)(count - i) * sizeof(float));
    }
}

void LDM_NAME(ldm_silu)(const float *x, float *y, long count) {
    long i = 0;
    for (; i + LDM_W <= count; i += LDM_W) ldm_store(y + i, ldm_silu_v(ldm_load(x + i)));
    if (i < count) {
        float buffer[LDM_W] = {0};
        memcpy(buffer, x + i, (size_t)(count - i) * sizeof(float));
        ldm_store(buffer, ldm_silu_v(ldm_load(buffer)));
        memcpy(y + i, buffer, (size_t)(count - i) * sizeof(float));
    }
}

// The transformer blocks' kernels (softmax, GEGLU, attention's value product): the same vector width.
#include "TransformerBody.h"
