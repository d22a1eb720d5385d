// The kernels for any CPU of the build's architecture (x86-64: SSE2): the fallback path.
#define SB_FN(name) sb_##name##_baseline
#include "kernels_body.h"
// 2 rows x 16 columns: 8 of the 16 xmm registers accumulate.
#define SB_GEMM_MR 2
#define SB_PEAK_CHAINS 3  // 12 xmm registers
#include "gemm_body.h"
#include "attention_body.h"
