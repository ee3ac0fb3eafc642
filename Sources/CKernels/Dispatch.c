// Chooses the variant for a requested level, never above what the CPU supports.
#include "CKernels.h"

#define LDM_DECLARE(suffix)                                                                                           \
    void ldm_winograd_weight_transform_##suffix(const float *, long, float *, long);                                  \
    void ldm_winograd_input_transform_##suffix(const float *, long, long, long, float *, long);                       \
    void ldm_group_norm_apply_##suffix(const float *, float *, long, float, float, float, int);                       \
    void ldm_silu_##suffix(const float *, float *, long);                                                             \
    double ldm_softmax_exp_##suffix(float *, long, float);                                                            \
    void ldm_scale_##suffix(const float *, float *, long, float);                                                     \
    void ldm_geglu_##suffix(const float *, const float *, float *, long);                                             \
    void ldm_attention_pack_values_##suffix(const float *, long, long, long, float *, long);                          \
    void ldm_attention_values_##suffix(const float *, long, long, long, const float *, long, long, float *, long,      \
                                       const float *);                                                                 \
    void ldm_attention_pack_keys_##suffix(const float *, long, long, long, float *);                                  \
    void ldm_attention_scores_##suffix(const float *, long, long, const float *, long, long, float *, long);

LDM_DECLARE(baseline)
void ldm_winograd_output_transform_baseline(const float *, long, long, long, float, float *, long, long);
#if defined(__x86_64__)
LDM_DECLARE(avx2)
LDM_DECLARE(avx512)
void ldm_winograd_output_transform_avx2(const float *, long, long, long, float, float *, long, long);
#endif

int ldm_simd_supported_level(void) {
#if defined(__x86_64__)
    // libgcc/compiler-rt fill this in before main; "avx512f" and "avx2" include the OS check
    // (XCR0: the OS saves the wider registers).
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return LDM_SIMD_AVX512;
    // The AVX2 variant also uses FMA (GELU's erf: KernelBody.h), which every AVX2 CPU has in practice.
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return LDM_SIMD_AVX2;
#endif
    return LDM_SIMD_BASELINE;
}

/// The level to run: the request, lowered to what the CPU supports (looked up once; threads that
/// race on the first call all store the same value, through relaxed atomics). Also used by Widen.c.
int ldm_level(int requested) {
    static int supported = -1;
    int level = __atomic_load_n(&supported, __ATOMIC_RELAXED);
    if (level < 0) {
        level = ldm_simd_supported_level();
        __atomic_store_n(&supported, level, __ATOMIC_RELAXED);
    }
    return requested < level ? requested : level;
}

#if defined(__x86_64__)
#define LDM_DISPATCH(level, name, ...)                                                                                \
    switch (ldm_level(level)) {                                                                                       \
    case LDM_SIMD_AVX512: name##_avx512(__VA_ARGS__); break;                                                          \
    case LDM_SIMD_AVX2: name##_avx2(__VA_ARGS__); break;                                                              \
    default: name##_baseline(__VA_ARGS__); break;                                                                     \
    }
#else
#define LDM_DISPATCH(level, name, ...) ((void)(level), name##_baseline(__VA_ARGS__))
#endif

void ldm_winograd_weight_transform(int level, const float *weight, long count, float *u, long plane) {
    LDM_DISPATCH(level, ldm_winograd_weight_transform, weight, count, u, plane);
}

void ldm_winograd_input_transform(int level, const float *padded, long width, long tile_rows, long tile_columns,
                                  float *v, long plane) {
    LDM_DISPATCH(level, ldm_winograd_input_transform, padded, width, tile_rows, tile_columns, v, plane);
}

void ldm_winograd_output_transform(int level, const float *m, long plane, long tile_rows, long tile_columns, float bias,
                                   float *y, long h, long w) {
#if defined(__x86_64__)
    // 8 lanes at the AVX-512 level too: measured faster there than 16 (KernelBody.h).
    if (ldm_level(level) >= LDM_SIMD_AVX2) {
        ldm_winograd_output_transform_avx2(m, plane, tile_rows, tile_columns, bias, y, h, w);
        return;
    }
#endif
    ldm_winograd_output_transform_baseline(m, plane, tile_rows, tile_columns, bias, y, h, w);
}

void ldm_group_norm_apply(int level, const float *x, float *y, long count, float mean, float scale, float shift, int silu) {
    LDM_DISPATCH(level, ldm_group_norm_apply, x, y, count, mean, scale, shift, silu);
}

void ldm_silu(int level, const float *x, float *y, long count) {
    LDM_DISPATCH(level, ldm_silu, x, y, count);
}

double ldm_softmax_exp(int level, float *row, long length, float scale) {
#if defined(__x86_64__)
    switch (ldm_level(level)) {
    case LDM_SIMD_AVX512: return ldm_softmax_exp_avx512(row, length, scale);
    case LDM_SIMD_AVX2: return ldm_softmax_exp_avx2(row, length, scale);
    default: break;
    }
#else
    (void)level;
#endif
    return ldm_softmax_exp_baseline(row, length, scale);
}

void ldm_scale(int level, const float *x, float *y, long count, float factor) {
    LDM_DISPATCH(level, ldm_scale, x, y, count, factor);
}

void ldm_geglu(int level, const float *a, const float *gate, float *y, long count) {
    LDM_DISPATCH(level, ldm_geglu, a, gate, y, count);
}

void ldm_attention_pack_values(int level, const float *v, long stride, long count, long d, float *packed, long padded) {
    LDM_DISPATCH(level, ldm_attention_pack_values, v, stride, count, d, packed, padded);
}

void ldm_attention_values(int level, const float *p, long ldp, long rows, long tk, const float *packed, long padded,
                          long d, float *out, long ldo, const float *inverses) {
    LDM_DISPATCH(level, ldm_attention_values, p, ldp, rows, tk, packed, padded, d, out, ldo, inverses);
}

void ldm_attention_pack_keys(int level, const float *k, long stride, long count, long d, float *packed) {
    LDM_DISPATCH(level, ldm_attention_pack_keys, k, stride, count, d, packed);
}

void ldm_attention_scores(int level, const float *q, long ldq, long rows, const float *packed, long tk, long d, float *out,
                          long ldo) {
    LDM_DISPATCH(level, ldm_attention_scores, q, ldq, rows, packed, tk, d, out, ldo);
}
