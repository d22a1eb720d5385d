// The kernels compiled for AVX2 + FMA (chosen at run time only on CPUs that have both).
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define SB_FN(name) sb_##name##_avx2
#include "kernels_body.h"
// 6 rows x 16 columns: 12 of the 16 ymm registers accumulate, two hold the panel's row, one the broadcast.
#define SB_GEMM_MR 6
#define SB_PEAK_CHAINS 6  // 12 ymm registers, as the micro-kernel's tile
#include "gemm_body.h"
#include "attention_body.h"
#pragma clang attribute pop
#endif
