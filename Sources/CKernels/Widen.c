// Widening of 16-bit weights to float32 (WeightTensor keeps a file's f16/bf16 weights in memory and
// widens each layer's just before its kernel). Widening is exact, so every path below gives the
// same bits: finite values, ±0, subnormals and ±Inf as they are; a NaN keeps its sign and payload
// and is made quiet (f16: what VCVTPH2PS does; weights holding NaN are refused at load anyway).
#include <stdint.h>
#include <string.h>

#include "CKernels.h"

int ldm_level(int requested);  // Dispatch.c

/// One f16 → f32 by its bits, branch-free (the compiler vectorises the loop): normal values
/// re-biased (15 → 127), subnormals and zero as mantissa · 2⁻²⁴ (exact in float), Inf/NaN with the
/// exponent all ones.
static inline uint32_t ldm_f16_bits_to_f32(uint16_t h) {
    uint32_t magnitude = h & 0x7fffu, sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t normal = (magnitude << 13) + (112u << 23);
    uint32_t special = (magnitude << 13) | 0x7f800000u | ((magnitude & 0x3ffu) ? 0x00400000u : 0);
    float tiny = (float)(magnitude & 0x3ffu) * 0x1p-24f;
    uint32_t tinyBits;
    memcpy(&tinyBits, &tiny, sizeof tinyBits);
    uint32_t bits = magnitude >= 0x7c00u ? special : (magnitude >= 0x0400u ? normal : tinyBits);
    return bits | sign;
}

static void ldm_widen_f16_baseline(const uint16_t *x, float *y, long count) {
    for (long i = 0; i < count; i++) {
        uint32_t bits = ldm_f16_bits_to_f32(x[i]);
        memcpy(y + i, &bits, sizeof bits);
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

// F16C (VCVTPH2PS, 8 lanes): its own CPUID bit, checked apart from AVX2's in ldm_widen_f16.
__attribute__((target("avx2,f16c"))) static void ldm_widen_f16_f16c(const uint16_t *x, float *y, long count) {
    long i = 0;
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
    if (i < count) {
        uint16_t in[8] = {0};
        float out[8];
        memcpy(in, x + i, (size_t)(count - i) * sizeof(uint16_t));
        _mm256_storeu_ps(out, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)in)));
        memcpy(y + i, out, (size_t)(count - i) * sizeof(float));
    }
}

// AVX-512F's VCVTPH2PS on 16 lanes.
__attribute__((target("avx512f"))) static void ldm_widen_f16_avx512(const uint16_t *x, float *y, long count) {
    long i = 0;
    for (; i + 16 <= count; i += 16) _mm512_storeu_ps(y + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(x + i))));
    if (i < count) {
        uint16_t in[16] = {0};
        float out[16];
        memcpy(in, x + i, (size_t)(count - i) * sizeof(uint16_t));
        _mm512_storeu_ps(out, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)in)));
        memcpy(y + i, out, (size_t)(count - i) * sizeof(float));
    }
}

static int ldm_has_f16c(void) {
    static int known = -1;
    int has = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (has < 0) {
        __builtin_cpu_init();
        has = __builtin_cpu_supports("f16c") ? 1 : 0;
        __atomic_store_n(&known, has, __ATOMIC_RELAXED);
    }
    return has;
}
#endif

void ldm_widen_f16(int level, const uint16_t *x, float *y, long count) {
#if defined(__x86_64__)
    int run = ldm_level(level);
    if (run >= LDM_SIMD_AVX512) {
        ldm_widen_f16_avx512(x, y, count);
        return;
    }
    // Every AVX2 CPU made has F16C, but they are separate CPUID bits: never assume it.
    if (run >= LDM_SIMD_AVX2 && ldm_has_f16c()) {
        ldm_widen_f16_f16c(x, y, count);
        return;
    }
#else
    (void)level;
#endif
    ldm_widen_f16_baseline(x, y, count);
}

void ldm_widen_bf16(const uint16_t *x, float *y, long count) {
    // bfloat16 is the top half of a float32: shift it back (NaN payloads kept as they are).
    for (long i = 0; i < count; i++) {
        uint32_t bits = (uint32_t)x[i] << 16;
        memcpy(y + i, &bits, sizeof bits);
    }
}
