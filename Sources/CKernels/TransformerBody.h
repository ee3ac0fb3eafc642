// Part of KernelBody.h (included at its end, once per vector width: LDM_W, LDM_NAME and the helpers are
// KernelBody.h's): the kernels of the transformer blocks — attention's softmax exponent pass and value product,
// GEGLU. Not compiled on its own.

/// The exponent pass of a max-subtracted softmax: row[i] ← e^(row[i]·scale − shift), shift = max(row)·scale
/// (ldm_exp_nonpositive: every argument is ≤ 0, as row[i]·scale ≤ max·scale rounds monotonically), returning
/// Σ row[i] (unnormalised: the caller divides, possibly after a product that shrinks the row).
/// The sum's order is fixed whatever LDM_W is: 16 accumulator lanes (lane j takes elements ≡ j mod 16)
/// over chunks of 256 elements, each chunk's lanes folded 16 → 8 → 4 → 2 → 1 and added in double; so
/// every level gives the same bits. A ragged tail runs through a zero-padded buffer whose unused
/// lanes add 0.
double LDM_NAME(ldm_softmax_exp)(float *row, long length, float scale) {
    enum { LANES = 16, PARTS = 16 / LDM_W, CHUNK = 256 };
    // The maximum: exact in any order (NaN never wins a `>`, as in FastMath.maximum).
    ldm_vf best = ldm_splat(-__builtin_inff());
    long i = 0;
    for (; i + LDM_W <= length; i += LDM_W) {
        ldm_vf v = ldm_load(row + i);
        ldm_vi greater = v > best;
        best = (ldm_vf)(((ldm_vi)v & greater) | ((ldm_vi)best & ~greater));
    }
    float maximum = best[0];
    for (int lane = 1; lane < LDM_W; lane++) maximum = best[lane] > maximum ? best[lane] : maximum;
    for (; i < length; i++) maximum = row[i] > maximum ? row[i] : maximum;
    ldm_vf shift = ldm_splat(maximum * scale), factor = ldm_splat(scale);
    double total = 0;
    for (long start = 0; start < length; start += CHUNK) {
        long end = start + CHUNK < length ? start + CHUNK : length;
        ldm_vf sums[PARTS];
        for (int p = 0; p < PARTS; p++) sums[p] = ldm_splat(0);
        long j = start;
        for (; j + LANES <= end; j += LANES) {
            for (int p = 0; p < PARTS; p++) {
                ldm_vf e = ldm_exp_nonpositive(ldm_load(row + j + p * LDM_W) * factor - shift);
                ldm_store(row + j + p * LDM_W, e);
                sums[p] += e;
            }
        }
        if (j < end) {
            float buffer[LANES] = {0};
            long rest = end - j;
            memcpy(buffer, row + j, (size_t)rest * sizeof(float));
            for (int p = 0; p < PARTS; p++) ldm_store(buffer + p * LDM_W, ldm_exp_nonpositive(ldm_load(buffer + p * LDM_W) * factor - shift));
            memcpy(row + j, buffer, (size_t)rest * sizeof(float));
            for (long k = rest; k < LANES; k++) buffer[k] = 0;
            for (int p = 0; p < PARTS; p++) sums[p] += ldm_load(buffer + p * LDM_W);
        }
        float lanes[LANES];
        for (int p = 0; p < PARTS; p++) ldm_store(lanes + p * LDM_W, sums[p]);
        for (int width = LANES / 2; width >= 1; width /= 2) {
            for (int k = 0; k < width; k++) lanes[k] += lanes[k + width];
        }
        total += lanes[0];
    }
    return total;
}

/// y[i] = x[i] · factor. - x, y: [count] (y may be x).
void LDM_NAME(ldm_scale)(const float *x, float *y, long count, float factor) {
    long i = 0;
    for (; i + LDM_W <= count; i += LDM_W) ldm_store(y + i, ldm_load(x + i) * factor);
    for (; i < count; i++) y[i] = x[i] * factor;
}

/// erf(x) as PyTorch computes it on the CPU for float32 (`Vectorized<float>::erf`, ATen/cpu/vec/vec512/
/// vec512_float.h and vec256_float.h, which GELU's vectorised loop calls: ATen/native/cpu/Activation.cpp):
/// Abramowitz & Stegun 7.1.26, erf(|x|) = 1 − t·P(t)·exp(−x²) with t = 1/(1 + p|x|), the same constants and
/// the same FMAs in the same order; only exp differs (ours the Cephes ldm_exp, ≤ 2 ulp; PyTorch's Sleef, ≤ 1
/// ulp). Within 1.5e-7 of erf in exact arithmetic (A&S), 2.2e-7 as evaluated in float32 (SIMDVariantTests);
/// libm's erf would be nearer erf but farther from the reference. NaN passes through.
LDM_INLINE ldm_vf ldm_erf(ldm_vf x) {
    ldm_vi signBit = (ldm_vi){0} + (int)0x80000000u;  // (ldm_splat(-0.0f) would be +0: it adds to a zero vector)
    ldm_vi sign = (ldm_vi)x & signBit;
    ldm_vf absolute = (ldm_vf)((ldm_vi)x & ~signBit);
    ldm_vf t = 1.0f / ldm_fma(ldm_splat(0.3275911f), absolute, ldm_splat(1.0f));
    ldm_vf r = ldm_fma(ldm_splat(1.061405429f), t, ldm_splat(-1.453152027f));
    r = ldm_fma(r, t, ldm_splat(1.421413741f));
    r = ldm_fma(r, t, ldm_splat(-0.284496736f));
    r = ldm_fma(r, t, ldm_splat(0.254829592f));
    ldm_vf e = ldm_exp(-(x * x));
    ldm_vf y = ldm_fma(-e * t, r, ldm_splat(1.0f));
    return (ldm_vf)((ldm_vi)y ^ sign);
}

/// Exact GELU (PyTorch's `approximate="none"`): x · ½(1 + erf(x/√2)), PyTorch's vectorised formula and order
/// (`x * 0.5 * (1 + (x * M_SQRT1_2).erf())`, ATen/native/cpu/Activation.cpp).
LDM_INLINE ldm_vf ldm_gelu_v(ldm_vf x) { return 0.5f * x * (1 + ldm_erf(x * 0.70710678118654752f)); }

void LDM_NAME(ldm_geglu)(const float *a, const float *gate, float *y, long count) {
    long i = 0;
    for (; i + LDM_W <= count; i += LDM_W) ldm_store(y + i, ldm_load(a + i) * ldm_gelu_v(ldm_load(gate + i)));
    if (i < count) {
        float left[LDM_W] = {0}, right[LDM_W] = {0};
        memcpy(left, a + i, (size_t)(count - i) * sizeof(float));
        memcpy(right, gate + i, (size_t)(count - i) * sizeof(float));
        ldm_store(left, ldm_load(left) * ldm_gelu_v(ldm_load(right)));
        memcpy(y + i, left, (size_t)(count - i) * sizeof(float));
    }
}

/// Packs rows 0 ..< count of v (d floats each, `stride` apart) into `packed`, `padded` floats a row (the caller's
/// multiple of 16 ≥ d, so whole vectors at every width; zeros after d), for ldm_attention_values.
void LDM_NAME(ldm_attention_pack_values)(const float *v, long stride, long count, long d, float *packed, long padded) {
    for (long s = 0; s < count; s++) {
        memcpy(packed + s * padded, v + s * stride, (size_t)d * sizeof(float));
        memset(packed + s * padded + d, 0, (size_t)(padded - d) * sizeof(float));
    }
}

/// Rows × column vectors of out = (p · v) · inverse, the sum over s in order with one FMA a term, one lane per
/// output column: the same bits at every width. 4 rows × up to 4 vectors at 16 lanes (16 of the 32 registers),
/// up to 3 at 8 and 4 lanes (12 of 16).
#define LDM_ATTENTION_ROWS 4
#define LDM_ATTENTION_GROUP (LDM_W == 16 ? 4 : 2)

/// The full 4-row block with G vectors (a constant in each instance), accumulated and stored by the same function:
/// the accumulators are a local array with constant indices only, so they live in registers. (Held in the caller
/// and stored through a loop over a variable vector count, they were spilled to the stack at every FMA at 8
/// lanes.) Over one chunk of keys: `resume` continues the partial sums left in out by the previous chunk (floats
/// stored and reloaded exactly, so the sum is the same in-order chain), `finish` scales them by 1/Σ.
#define LDM_ATTENTION_FULL_BLOCK(G)                                                                                   \
    LDM_INLINE void LDM_NAME(ldm_attention_rows4_##G)(const float *p, long ldp, long tk, const float *vcol, long padded, \
                                                     long column, long d, float *out, long ldo, const float *inverses, \
                                                     int resume, int finish) {                                        \
        ldm_vf acc[LDM_ATTENTION_ROWS][G];                                                                            \
        for (int r = 0; r < LDM_ATTENTION_ROWS; r++) {                                                                \
            for (int j = 0; j < G; j++) {                                                                             \
                long first = column + j * LDM_W;                                                                      \
                acc[r][j] = resume ? ldm_load_lanes(out + r * ldo + first, d - first < LDM_W ? d - first : LDM_W)     \
                                   : ldm_splat(0);                                                                    \
            }                                                                                                         \
        }                                                                                                             \
        for (long s = 0; s < tk; s++) {                                                                               \
            const float *vs = vcol + s * padded;                                                                      \
            ldm_vf v[G];                                                                                              \
            for (int j = 0; j < G; j++) v[j] = ldm_load(vs + j * LDM_W);                                              \
            for (int r = 0; r < LDM_ATTENTION_ROWS; r++) {                                                            \
                ldm_vf w = ldm_splat(p[r * ldp + s]);                                                                 \
                for (int j = 0; j < G; j++) acc[r][j] = ldm_fma(w, v[j], acc[r][j]);                                  \
            }                                                                                                         \
        }                                                                                                             \
        for (int r = 0; r < LDM_ATTENTION_ROWS; r++) {                                                                \
            for (int j = 0; j < G; j++) {                                                                             \
                long first = column + j * LDM_W;                                                                      \
                long lanes = d - first < LDM_W ? d - first : LDM_W;                                                   \
                ldm_store_lanes(out + r * ldo + first, finish ? acc[r][j] * inverses[r] : acc[r][j], lanes);          \
            }                                                                                                         \
        }                                                                                                             \
    }
LDM_ATTENTION_FULL_BLOCK(1)
LDM_ATTENTION_FULL_BLOCK(2)
LDM_ATTENTION_FULL_BLOCK(3)
LDM_ATTENTION_FULL_BLOCK(4)

LDM_INLINE void ldm_attention_block(const float *p, long ldp, long rows, long tk, const float *packed, long padded,
                                    int vectors, long column, long d, float *out, long ldo, const float *inverses,
                                    int resume, int finish) {
    const float *vcol = packed + column;
    if (rows == LDM_ATTENTION_ROWS) {
        switch (vectors) {
        case 1: LDM_NAME(ldm_attention_rows4_1)(p, ldp, tk, vcol, padded, column, d, out, ldo, inverses, resume, finish); return;
        case 2: LDM_NAME(ldm_attention_rows4_2)(p, ldp, tk, vcol, padded, column, d, out, ldo, inverses, resume, finish); return;
        case 3: LDM_NAME(ldm_attention_rows4_3)(p, ldp, tk, vcol, padded, column, d, out, ldo, inverses, resume, finish); return;
        default: LDM_NAME(ldm_attention_rows4_4)(p, ldp, tk, vcol, padded, column, d, out, ldo, inverses, resume, finish); return;
        }
    }
    // The last rows of a block (fewer than 4): the same sums, accumulators indexed at run time.
    ldm_vf acc[LDM_ATTENTION_ROWS][4];
    for (long r = 0; r < rows; r++) {
        for (int j = 0; j < vectors; j++) {
            long first = column + j * LDM_W;
            acc[r][j] = resume ? ldm_load_lanes(out + r * ldo + first, d - first < LDM_W ? d - first : LDM_W) : ldm_splat(0);
        }
    }
    for (long s = 0; s < tk; s++) {
        const float *vs = vcol + s * padded;
        for (long r = 0; r < rows; r++) {
            ldm_vf w = ldm_splat(p[r * ldp + s]);
            for (int j = 0; j < vectors; j++) acc[r][j] = ldm_fma(w, ldm_load(vs + j * LDM_W), acc[r][j]);
        }
    }
    for (long r = 0; r < rows; r++) {
        for (int j = 0; j < vectors; j++) {
            long first = column + j * LDM_W;
            long lanes = d - first < LDM_W ? d - first : LDM_W;
            ldm_store_lanes(out + r * ldo + first, finish ? acc[r][j] * inverses[r] : acc[r][j], lanes);
        }
    }
}

/// Keys per pass of the value product. Every 4-row group reads the packed values of its vector group for every
/// key; over all 4096 keys of a level-0 self-attention that is 256 KiB a pass (more than a core's L1 and, with the
/// scores, its L2), so the keys are taken in chunks whose values stay in L1 while all the block's rows use them.
#define LDM_VALUES_KEY_CHUNK 256

void LDM_NAME(ldm_attention_values)(const float *p, long ldp, long rows, long tk, const float *packed, long padded,
                                    long d, float *out, long ldo, const float *inverses) {
    // Whole vectors over d (the packed rows hold at least that many), in groups as even as the group limit allows
    // (5 → 3 + 2, not 4 + 1: a one-vector group does a broadcast per FMA).
    long vectors = (d + LDM_W - 1) / LDM_W;
    long groups = (vectors + LDM_ATTENTION_GROUP - 1) / LDM_ATTENTION_GROUP;
    for (long s0 = 0; s0 < tk; s0 += LDM_VALUES_KEY_CHUNK) {
        long keys = tk - s0 < LDM_VALUES_KEY_CHUNK ? tk - s0 : LDM_VALUES_KEY_CHUNK;
        int resume = s0 > 0, finish = s0 + keys == tk;
        long first = 0;
        for (long g = 0; g < groups; g++) {
            int size = (int)(vectors / groups + (g < vectors % groups ? 1 : 0));
            for (long r0 = 0; r0 < rows; r0 += LDM_ATTENTION_ROWS) {
                long count = rows - r0 < LDM_ATTENTION_ROWS ? rows - r0 : LDM_ATTENTION_ROWS;
                ldm_attention_block(p + r0 * ldp + s0, ldp, count, keys, packed + s0 * padded, padded, size, first * LDM_W, d,
                                    out + r0 * ldo, ldo, inverses + r0, resume, finish);
            }
            first += size;
        }
    }
}

/// Packs keys 0 ..< count (d floats each, `stride` apart) into panels of 16 keys, each panel d rows of 16 floats
/// (key s's component i at packed[(s / 16)·16·d + 16·i + s mod 16], zeros past count), for ldm_attention_scores:
/// a vector load then takes one component of W consecutive keys at every width.
/// - k: [count, stride] → packed: [⌈count / 16⌉, d, 16]
void LDM_NAME(ldm_attention_pack_keys)(const float *k, long stride, long count, long d, float *packed) {
    long panels = (count + 15) / 16;
    for (long panel = 0; panel < panels; panel++) {
        float *dst = packed + panel * 16 * d;
        long keys = count - panel * 16 < 16 ? count - panel * 16 : 16;
        for (long s = 0; s < keys; s++) {
            const float *src = k + (panel * 16 + s) * stride;
            for (long i = 0; i < d; i++) dst[16 * i + s] = src[i];
        }
        for (long s = keys; s < 16; s++) {
            for (long i = 0; i < d; i++) dst[16 * i + s] = 0;
        }
    }
}

/// Key s's vector of component i in the packed panels (s a multiple of LDM_W, so the vector stays in its panel).
#define LDM_KEY_AT(packed, d, s, i) ((packed) + ((s) / 16) * 16 * (d) + 16 * (i) + (s) % 16)

/// The full 4-row block of scores against G vectors of keys from s0, the sum over i in order with one FMA a term,
/// accumulated and stored by the same function (local accumulators, constant indices: they stay in registers).
#define LDM_SCORES_FULL_BLOCK(G)                                                                                      \
    LDM_INLINE void LDM_NAME(ldm_scores_rows4_##G)(const float *q, long ldq, const float *packed, long d, long s0,     \
                                                  long tk, float *out, long ldo) {                                     \
        ldm_vf acc[LDM_ATTENTION_ROWS][G];                                                                            \
        for (int r = 0; r < LDM_ATTENTION_ROWS; r++) {                                                                \
            for (int j = 0; j < G; j++) acc[r][j] = ldm_splat(0);                                                     \
        }                                                                                                             \
        const float *k[G];                                                                                            \
        for (int j = 0; j < G; j++) k[j] = LDM_KEY_AT(packed, d, s0 + j * LDM_W, 0);                                  \
        for (long i = 0; i < d; i++) {                                                                                \
            ldm_vf kv[G];                                                                                             \
            for (int j = 0; j < G; j++) kv[j] = ldm_load(k[j] + 16 * i);                                              \
            for (int r = 0; r < LDM_ATTENTION_ROWS; r++) {                                                            \
                ldm_vf w = ldm_splat(q[r * ldq + i]);                                                                 \
                for (int j = 0; j < G; j++) acc[r][j] = ldm_fma(w, kv[j], acc[r][j]);                                 \
            }                                                                                                         \
        }                                                                                                             \
        for (int r = 0; r < LDM_ATTENTION_ROWS; r++) {                                                                \
            for (int j = 0; j < G; j++) {                                                                             \
                long first = s0 + j * LDM_W;                                                                          \
                long lanes = tk - first < LDM_W ? tk - first : LDM_W;                                                 \
                if (lanes > 0) ldm_store_lanes(out + r * ldo + first, acc[r][j], lanes);                              \
            }                                                                                                         \
        }                                                                                                             \
    }
LDM_SCORES_FULL_BLOCK(1)
LDM_SCORES_FULL_BLOCK(2)
LDM_SCORES_FULL_BLOCK(3)
LDM_SCORES_FULL_BLOCK(4)

LDM_INLINE void ldm_scores_block(const float *q, long ldq, long rows, const float *packed, long d, long s0, int vectors,
                                 long tk, float *out, long ldo) {
    if (rows == LDM_ATTENTION_ROWS) {
        switch (vectors) {
        case 1: LDM_NAME(ldm_scores_rows4_1)(q, ldq, packed, d, s0, tk, out, ldo); return;
        case 2: LDM_NAME(ldm_scores_rows4_2)(q, ldq, packed, d, s0, tk, out, ldo); return;
        case 3: LDM_NAME(ldm_scores_rows4_3)(q, ldq, packed, d, s0, tk, out, ldo); return;
        default: LDM_NAME(ldm_scores_rows4_4)(q, ldq, packed, d, s0, tk, out, ldo); return;
        }
    }
    // The last rows of a block (fewer than 4): the same sums, accumulators indexed at run time.
    ldm_vf acc[LDM_ATTENTION_ROWS][4];
    for (int r = 0; r < LDM_ATTENTION_ROWS; r++) {
        for (int j = 0; j < 4; j++) acc[r][j] = ldm_splat(0);
    }
    for (long i = 0; i < d; i++) {
        for (long r = 0; r < rows; r++) {
            ldm_vf w = ldm_splat(q[r * ldq + i]);
            for (int j = 0; j < vectors; j++) acc[r][j] = ldm_fma(w, ldm_load(LDM_KEY_AT(packed, d, s0 + j * LDM_W, i)), acc[r][j]);
        }
    }
    for (long r = 0; r < rows; r++) {
        for (int j = 0; j < vectors; j++) {
            long first = s0 + j * LDM_W;
            long lanes = tk - first < LDM_W ? tk - first : LDM_W;
            if (lanes > 0) ldm_store_lanes(out + r * ldo + first, acc[r][j], lanes);
        }
    }
}

/// Keys per pass over a block's rows: their packed panels stay in L1 while every 4-row group of the block is
/// multiplied by them. At 8 lanes (AVX2 machines, 32 KiB L1), 16 KiB of panels: 12, 16, 24 and 32 KiB were within
/// this VM's noise of each other on the SD level-0 cases, all well ahead of the 48 KiB that 192 keys of d = 64 take
/// (docs/performance.md); at 16 lanes the 192 keys measured on AVX-512 machines.
#define LDM_SCORES_CHUNK_BYTES (16 << 10)

void LDM_NAME(ldm_attention_scores)(const float *q, long ldq, long rows, const float *packed, long tk, long d, float *out,
                                    long ldo) {
    long step = (long)LDM_ATTENTION_GROUP * LDM_W;  // keys a full block covers
    long wanted = LDM_W == 16 ? 192 : LDM_SCORES_CHUNK_BYTES / (4 * d);
    long chunk = wanted > step ? wanted / step * step : step;
    for (long c0 = 0; c0 < tk; c0 += chunk) {
        long c1 = c0 + chunk < tk ? c0 + chunk : tk;
        for (long r0 = 0; r0 < rows; r0 += LDM_ATTENTION_ROWS) {
            long count = rows - r0 < LDM_ATTENTION_ROWS ? rows - r0 : LDM_ATTENTION_ROWS;
            for (long s0 = c0; s0 < c1; s0 += step) {
                long left = (c1 - s0 + LDM_W - 1) / LDM_W;
                int vectors = (int)(left < LDM_ATTENTION_GROUP ? left : LDM_ATTENTION_GROUP);
                ldm_scores_block(q + r0 * ldq, ldq, count, packed, d, s0, vectors, tk, out + r0 * ldo, ldo);
            }
        }
    }
}
