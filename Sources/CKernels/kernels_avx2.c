// The kernels compiled for AVX2 + FMA (chosen at run time only on CPUs that have both).
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define SB_FN(name) sb_##name##_avx2
#include "kernels_body.h"
#pragma clang attribute pop
#endif
