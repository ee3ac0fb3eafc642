// The AVX2 variant: 8-float vectors. Compiled for AVX2 and FMA whatever the package's target, and only
// called after Dispatch.c found both on the running CPU. FMA instructions appear only where KernelBody.h
// asks for them (ldm_fma; FP_CONTRACT is off). Not built off x86-64.
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define LDM_W 8
#define LDM_NAME(name) name##_avx2
#include "KernelBody.h"
#pragma clang attribute pop
#endif
