// The AVX-512 variant: 16-float vectors (AVX-512F only). Compiled for AVX-512F whatever the
// package's target, and only called after Dispatch.c found AVX-512F on the running CPU (with the
// OS saving its registers). Not built off x86-64.
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#define LDM_W 16
#define LDM_NAME(name) name##_avx512
#include "KernelBody.h"
#pragma clang attribute pop
#endif
