// The AVX2 variant: 8-float vectors. Compiled for AVX2 whatever the package's target, and only
// called after Dispatch.c found AVX2 on the running CPU. Not built off x86-64.
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#define LDM_W 8
#define LDM_NAME(name) name##_avx2
#include "KernelBody.h"
#pragma clang attribute pop
#endif
