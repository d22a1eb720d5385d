// The kernels compiled for AVX-512 (F, VL, DQ, BW) + FMA, with 512-bit vectors preferred (clang's generic
// tuning would otherwise keep to 256-bit registers).
#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"), min_vector_width(512))), apply_to = function)
#define SB_FN(name) sb_##name##_avx512
#include "kernels_body.h"
// The AVX2 path's 6-row micro-kernel in zmm registers (6 of 32 accumulate). A taller one would use more of the
// registers, but no machine here has AVX-512 to measure or test it on, so the tested shape is kept.
#define SB_GEMM_MR 6
#define SB_PEAK_CHAINS 12  // 12 zmm registers: two pipes of 4-cycle multiply-adds need 8 in flight
#include "gemm_body.h"
#include "attention_body.h"
#pragma clang attribute pop
#endif
