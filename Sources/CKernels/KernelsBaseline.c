// The portable variant: 4-float vectors (SSE2 on x86-64, NEON on aarch64), for any CPU.
#define LDM_W 4
#define LDM_NAME(name) name##_baseline
#include "KernelBody.h"
