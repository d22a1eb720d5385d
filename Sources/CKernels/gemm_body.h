// The Linear layers' GEMM over weights packed once at load, written once and compiled per kernel path like
// kernels_body.h (the including file defines SB_FN and SB_GEMM_MR, the rows a micro-kernel holds in registers).
//
// Why not cblas_sgemm: OpenBLAS repacks the weight on every call (its `itcopy`), which at one clip's 64 rows
// was a quarter of the forward pass's time, every weight copied once per clip. Here the weight is packed once,
// in panels of 16 output columns, P[panel][k][16] (P[p][k][j] = W[16p + j][k], zero past the last column), so
// the micro-kernel reads each panel front to back. Each output is summed over k in order, one multiply-add
// per k, as a naive loop would.
#include <stddef.h>

typedef float SB_FN(v16) __attribute__((vector_size(64), aligned(4)));

#include "gemm_blocking.h"

// rows (<= SB_GEMM_MR) x 16 columns of C, += or = A[rows, kc] · panel[kc, 16]; only `cols` (<= 16) are stored.
// A's element (r, k) is a[k·ka + r·ra]: a block packed as [k][rows] (ka = rows, ra = 1), or A in place.
// `ahead` is read one 64-byte line per k into L2 (the next panel, while the first row block passes over this
// one: a panel comes from memory once, and the prefetch keeps its first pass from waiting on it).
#define SB_GEMM_MICRO(R)                                                                                       \
    static inline void SB_FN(gemm_micro_##R)(float *c, long ldc, const float *a, long ka, long ra,            \
                                             const float *panel, const float *ahead, long kc, long cols,       \
                                             int accumulate) {                                                 \
        SB_FN(v16) acc[R];                                                                                     \
        for (int r = 0; r < R; r++) acc[r] = (SB_FN(v16)){0};                                                  \
        for (long k = 0; k < kc; k++) {                                                                        \
            __builtin_prefetch(ahead + k * 16, 0, 2);                                                          \
            SB_FN(v16) b = *(const SB_FN(v16) *)(panel + k * 16);                                              \
            for (int r = 0; r < R; r++) acc[r] += b * a[k * ka + r * ra];                                          \
        }                                                                                                      \
        for (int r = 0; r < R; r++) {                                                                          \
            float *row = c + r * ldc;                                                                          \
            if (cols == 16) {                                                                                  \
                if (accumulate) acc[r] += *(const SB_FN(v16) *)row;                                            \
                *(SB_FN(v16) *)row = acc[r];                                                                   \
            } else {                                                                                           \
                for (long j = 0; j < cols; j++) row[j] = accumulate ? row[j] + acc[r][j] : acc[r][j];          \
            }                                                                                                  \
        }                                                                                                      \
    }

SB_GEMM_MICRO(1)
SB_GEMM_MICRO(2)
#if SB_GEMM_MR > 2
SB_GEMM_MICRO(3)
SB_GEMM_MICRO(4)
SB_GEMM_MICRO(5)
SB_GEMM_MICRO(6)
#endif

static inline void SB_FN(gemm_micro)(long rows, float *c, long ldc, const float *a, long ka, long ra,
                                     const float *panel, const float *ahead, long kc, long cols, int accumulate) {
    switch (rows) {
    case 1: SB_FN(gemm_micro_1)(c, ldc, a, ka, ra, panel, ahead, kc, cols, accumulate); break;
    case 2: SB_FN(gemm_micro_2)(c, ldc, a, ka, ra, panel, ahead, kc, cols, accumulate); break;
#if SB_GEMM_MR > 2
    case 3: SB_FN(gemm_micro_3)(c, ldc, a, ka, ra, panel, ahead, kc, cols, accumulate); break;
    case 4: SB_FN(gemm_micro_4)(c, ldc, a, ka, ra, panel, ahead, kc, cols, accumulate); break;
    case 5: SB_FN(gemm_micro_5)(c, ldc, a, ka, ra, panel, ahead, kc, cols, accumulate); break;
    case 6: SB_FN(gemm_micro_6)(c, ldc, a, ka, ra, panel, ahead, kc, cols, accumulate); break;
#endif
    default: break;
    }
}

void SB_FN(gemm_packed)(float *c, long ldc, const float *a, long lda, const float *packed, long inner,
                        long first_column, long cols, long rows, int accumulate) {
    const long first_panel = first_column / 16, panels = (cols + 15) / 16;
    // Each block of A is copied as [k][row] micro-panels, so the micro-kernel's broadcasts read one stream
    // instead of SB_GEMM_MR rows far apart; without the scratch (allocation failed), A is read in place.
    float *const scratch = sb_gemm_scratch();
    for (long k0 = 0; k0 < inner; k0 += SB_GEMM_KC) {
        const long kc = inner - k0 < SB_GEMM_KC ? inner - k0 : SB_GEMM_KC;
        const int add = accumulate || k0 > 0;
        for (long m0 = 0; m0 < rows; m0 += SB_GEMM_MC) {
            const long m1 = rows - m0 < SB_GEMM_MC ? rows : m0 + SB_GEMM_MC;
            if (scratch) {
                for (long m = m0; m < m1; m += SB_GEMM_MR) {
                    const long mr = m1 - m < SB_GEMM_MR ? m1 - m : SB_GEMM_MR;
                    float *block = scratch + (m - m0) * kc;
                    for (long k = 0; k < kc; k++)
                        for (long r = 0; r < mr; r++) block[k * mr + r] = a[(m + r) * lda + k0 + k];
                }
            }
            for (long p = 0; p < panels; p++) {
                const float *panel = packed + ((first_panel + p) * inner + k0) * 16;
                const float *next = p + 1 < panels ? panel + inner * 16 : panel;
                const long width = cols - p * 16 < 16 ? cols - p * 16 : 16;
                for (long m = m0; m < m1; m += SB_GEMM_MR) {
                    const long mr = m1 - m < SB_GEMM_MR ? m1 - m : SB_GEMM_MR;
                    float *out = c + m * ldc + p * 16;
                    const float *ahead = m == m0 ? next : panel;  // later passes touch this panel's lines, in L1
                    if (scratch) {
                        SB_FN(gemm_micro)(mr, out, ldc, scratch + (m - m0) * kc, mr, 1, panel, ahead, kc, width, add);
                    } else {
                        SB_FN(gemm_micro)(mr, out, ldc, a + m * lda + k0, 1, lda, panel, ahead, kc, width, add);
                    }
                }
            }
        }
    }
}
