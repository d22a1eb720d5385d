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

// One row of a micro-kernel's tile into C: `cols` (<= 16) floats, plus `addend`'s (C's own row, to accumulate, or
// the bias) or alone when it is NULL. (The tile by pointer: a 64-byte vector passed by value would change the
// ABI below AVX-512.)
static inline __attribute__((always_inline)) void SB_FN(store_row)(float *row, const SB_FN(v16) *acc, long cols,
                                                                   const float *addend) {
    if (cols == 16) {
        *(SB_FN(v16) *)row = addend ? *acc + *(const SB_FN(v16) *)addend : *acc;
    } else {
        for (long j = 0; j < cols; j++) row[j] = addend ? (*acc)[j] + addend[j] : (*acc)[j];
    }
}

// rows (<= SB_GEMM_MR) x 16 columns of C = A[rows, kc] · panel[kc, 16] + the addend's rows (`addend_ld` apart:
// ldc for C itself, 0 for a bias), if any; only `cols` (<= 16) are stored.
// A's block is packed as [k][R] (element (r, k) at a[k·R + r]), so the strides are constants and the broadcasts
// read one stream. Always inlined: called through a run-time `rows`, clang otherwise keeps one out-of-line
// copy with strides in registers, measured 5-10 % slower from 192 rows up.
// `ahead` is read one 64-byte line per k into L2 (the next panel, while the first row block passes over this
// one: a panel comes from memory once, and the prefetch keeps its first pass from waiting on it).
#define SB_GEMM_MICRO(R)                                                                                       \
    static inline __attribute__((always_inline)) void SB_FN(gemm_micro_##R)(                                  \
        float *c, long ldc, const float *a, const float *panel, const float *ahead, long kc, long cols,       \
        const float *addend, long addend_ld) {                                                                 \
        SB_FN(v16) acc[R];                                                                                     \
        for (int r = 0; r < R; r++) acc[r] = (SB_FN(v16)){0};                                                  \
        for (long k = 0; k < kc; k++) {                                                                        \
            __builtin_prefetch(ahead + k * 16, 0, 2);                                                          \
            SB_FN(v16) b = *(const SB_FN(v16) *)(panel + k * 16);                                              \
            for (int r = 0; r < R; r++) acc[r] += b * a[k * R + r];                                            \
        }                                                                                                      \
        for (int r = 0; r < R; r++)                                                                            \
            SB_FN(store_row)(c + r * ldc, &acc[r], cols, addend ? addend + r * addend_ld : NULL);              \
    }

SB_GEMM_MICRO(1)
SB_GEMM_MICRO(2)
#if SB_GEMM_MR > 2
SB_GEMM_MICRO(3)
SB_GEMM_MICRO(4)
SB_GEMM_MICRO(5)
SB_GEMM_MICRO(6)
#endif

static inline __attribute__((always_inline)) void SB_FN(gemm_micro)(long rows, float *c, long ldc, const float *a,
                                                                    const float *panel, const float *ahead, long kc,
                                                                    long cols, const float *addend, long addend_ld) {
    switch (rows) {
    case 1: SB_FN(gemm_micro_1)(c, ldc, a, panel, ahead, kc, cols, addend, addend_ld); break;
    case 2: SB_FN(gemm_micro_2)(c, ldc, a, panel, ahead, kc, cols, addend, addend_ld); break;
#if SB_GEMM_MR > 2
    case 3: SB_FN(gemm_micro_3)(c, ldc, a, panel, ahead, kc, cols, addend, addend_ld); break;
    case 4: SB_FN(gemm_micro_4)(c, ldc, a, panel, ahead, kc, cols, addend, addend_ld); break;
    case 5: SB_FN(gemm_micro_5)(c, ldc, a, panel, ahead, kc, cols, addend, addend_ld); break;
    case 6: SB_FN(gemm_micro_6)(c, ldc, a, panel, ahead, kc, cols, addend, addend_ld); break;
#endif
    default: break;
    }
}

typedef float SB_FN(v8) __attribute__((vector_size(32), aligned(4)));

// Six rows' next 8 floats of A, `x[r]` from row r, into the micro-panel as k-major groups of 6: block[k·6 + r]
// for the 8 k. A transpose in registers (pairs of rows, then fours, then the last two rows beside each four);
// each k's 6 floats go out in one 8-float store whose last 2 the next k's store overwrites, so the caller needs
// one more k after these 8 (its own stores cover the last 2).
static inline __attribute__((always_inline)) void SB_FN(gemm_transpose_6x8)(float *block, const SB_FN(v8) *x) {
    const SB_FN(v8) p01 = __builtin_shufflevector(x[0], x[1], 0, 8, 1, 9, 4, 12, 5, 13);  // k 0 1 | 4 5
    const SB_FN(v8) q01 = __builtin_shufflevector(x[0], x[1], 2, 10, 3, 11, 6, 14, 7, 15); // k 2 3 | 6 7
    const SB_FN(v8) p23 = __builtin_shufflevector(x[2], x[3], 0, 8, 1, 9, 4, 12, 5, 13);
    const SB_FN(v8) q23 = __builtin_shufflevector(x[2], x[3], 2, 10, 3, 11, 6, 14, 7, 15);
    const SB_FN(v8) p45 = __builtin_shufflevector(x[4], x[5], 0, 8, 1, 9, 4, 12, 5, 13);
    const SB_FN(v8) q45 = __builtin_shufflevector(x[4], x[5], 2, 10, 3, 11, 6, 14, 7, 15);
    // Rows 0-3 at k and k + 4 (low and high half), and rows 4-5 beside them.
    const SB_FN(v8) four[4] = {
        __builtin_shufflevector(p01, p23, 0, 1, 8, 9, 4, 5, 12, 13), __builtin_shufflevector(p01, p23, 2, 3, 10, 11, 6, 7, 14, 15),
        __builtin_shufflevector(q01, q23, 0, 1, 8, 9, 4, 5, 12, 13), __builtin_shufflevector(q01, q23, 2, 3, 10, 11, 6, 7, 14, 15)};
    const SB_FN(v8) two[4] = {
        __builtin_shufflevector(p45, p45, 0, 1, 0, 1, 4, 5, 4, 5), __builtin_shufflevector(p45, p45, 2, 3, 2, 3, 6, 7, 6, 7),
        __builtin_shufflevector(q45, q45, 0, 1, 0, 1, 4, 5, 4, 5), __builtin_shufflevector(q45, q45, 2, 3, 2, 3, 6, 7, 6, 7)};
    // In order of k: each store's last 2 floats are the next k's first 2, which its own store then writes.
    for (int k = 0; k < 4; k++)
        *(SB_FN(v8) *)(block + k * 6) = __builtin_shufflevector(four[k], two[k], 0, 1, 2, 3, 8, 9, 8, 9);
    for (int k = 0; k < 4; k++)
        *(SB_FN(v8) *)(block + (k + 4) * 6) = __builtin_shufflevector(four[k], two[k], 4, 5, 6, 7, 12, 13, 12, 13);
}

// Copies rows m..m+mr of A's columns k0..k0+kc as one micro-panel [k][mr], and asks for the row `ahead` rows
// on (when there is one: `rows` in all) on the way: A is often megabytes written a pass ago, and the copy
// stalled on it (7 % of the GEMM at 1,024 rows). A full micro-panel of 6 rows is transposed 8 k at a time: the
// copy element by element was 5 % of a batch-1 forward (each lane of a split clip copies the whole of A).
static inline void SB_FN(gemm_pack_rows)(float *block, const float *a, long lda, long m, long mr, long k0, long kc,
                                         long rows, long ahead) {
    const float *first = a + m * lda + k0;
    for (long r = 0; r < mr; r++)
        if (m + r + ahead < rows)
            for (long k = 0; k < kc; k += 16) __builtin_prefetch(first + (r + ahead) * lda + k, 0, 3);
    long done = 0;
#if SB_GEMM_MR == 6
    if (mr == 6)
        for (; done + 8 < kc; done += 8) {
            const SB_FN(v8) x[6] = {*(const SB_FN(v8) *)(first + done), *(const SB_FN(v8) *)(first + lda + done),
                                    *(const SB_FN(v8) *)(first + 2 * lda + done), *(const SB_FN(v8) *)(first + 3 * lda + done),
                                    *(const SB_FN(v8) *)(first + 4 * lda + done), *(const SB_FN(v8) *)(first + 5 * lda + done)};
            SB_FN(gemm_transpose_6x8)(block + done * 6, x);
        }
#endif
    for (long r = 0; r < mr; r++)
        for (long k = done; k < kc; k++) block[k * mr + r] = first[r * lda + k];
}

// The rows of the micro-panel that starts at row m of a block ending at m1: SB_GEMM_MR, fewer at the end.
static inline long SB_FN(gemm_panel_rows)(long m, long m1) { return m1 - m < SB_GEMM_MR ? m1 - m : SB_GEMM_MR; }

// Asks for the rows x 16 floats of C that the next micro-kernel reads and writes. C is often far bigger than
// L2 and was written a pass ago (a bias seed, the residual), its rows a page apart: without this, every
// micro-kernel stalled on its C tile, 13 % of the time at 1024 rows.
static inline void SB_FN(gemm_prefetch_tile)(const float *c, long ldc, long rows) {
    for (long r = 0; r < rows; r++) __builtin_prefetch(c + r * ldc, 1, 3);
}

void SB_FN(gemm_packed)(float *c, long ldc, const float *a, long lda, const float *packed, long inner,
                        long first_column, long cols, long rows, int accumulate, const float *bias) {
    const long first_panel = first_column / 16, panels = (cols + 15) / 16;
    // Each block of A is copied once into this thread's scratch, as micro-panels, and every panel reuses it.
    // Without the scratch (its allocation failed), each micro-panel is copied to the stack where it is used.
    float *const scratch = sb_gemm_scratch();
    float local[SB_GEMM_MR * SB_GEMM_KC] __attribute__((aligned(64)));
    for (long k0 = 0; k0 < inner; k0 += SB_GEMM_KC) {
        const long kc = inner - k0 < SB_GEMM_KC ? inner - k0 : SB_GEMM_KC;
        const int add = accumulate || k0 > 0;
        for (long m0 = 0; m0 < rows; m0 += SB_GEMM_MC) {
            const long m1 = rows - m0 < SB_GEMM_MC ? rows : m0 + SB_GEMM_MC;
            if (scratch) {
                for (long m = m0; m < m1; m += SB_GEMM_MR) {
                    const long mr = SB_FN(gemm_panel_rows)(m, m1);
                    SB_FN(gemm_pack_rows)(scratch + (m - m0) * kc, a, lda, m, mr, k0, kc, m1, 4);
                }
            }
            for (long p = 0; p < panels; p++) {
                const float *panel = packed + ((first_panel + p) * inner + k0) * 16;
                const float *next = p + 1 < panels ? panel + inner * 16 : panel;
                const long width = cols - p * 16 < 16 ? cols - p * 16 : 16;
                for (long m = m0; m < m1; m += SB_GEMM_MR) {
                    const long mr = SB_FN(gemm_panel_rows)(m, m1);
                    const float *ahead = m == m0 ? next : panel;  // later passes touch this panel's lines, in L1
                    const float *block = scratch ? scratch + (m - m0) * kc : local;
                    if (!scratch) SB_FN(gemm_pack_rows)(local, a, lda, m, mr, k0, kc, 0, 0);
                    // The tile after this one: the next rows of this panel, else the first rows of the next.
                    const long below = m + SB_GEMM_MR;
                    if (below < m1) {
                        SB_FN(gemm_prefetch_tile)(c + below * ldc + p * 16, ldc, SB_FN(gemm_panel_rows)(below, m1));
                    } else if (p + 1 < panels) {
                        SB_FN(gemm_prefetch_tile)(c + m0 * ldc + (p + 1) * 16, ldc, SB_FN(gemm_panel_rows)(m0, m1));
                    }
                    // The first k block stores the product plus the bias (or alone); later ones, and a product
                    // to accumulate, add to C.
                    float *const tile = c + m * ldc + p * 16;
                    const float *const addend = add ? tile : bias ? bias + p * 16 : NULL;
                    SB_FN(gemm_micro)(mr, tile, ldc, block, panel, ahead, kc, width, addend, add ? ldc : 0);
                }
            }
        }
    }
}

// The multiply-add rate this path's GEMM could reach at best: `iterations` rounds of acc = acc·m + s on
// SB_PEAK_CHAINS independent 16-float accumulators (the including file's: enough chains to keep two multiply-add
// pipes busy through their latency, few enough to stay in registers), nothing read from memory. Returns the FLOPs
// done (2 per lane per multiply-add), for `signbert bench --peak`: the machine's ceiling beside the model's rate. `m` and `s` come through volatile
// reads and each accumulator starts apart, so the compiler can neither fold the loop nor merge the chains.
double SB_FN(fma_peak)(long iterations) {
    enum { chains = SB_PEAK_CHAINS };
    volatile float factor = 0.999999f, step = 1e-6f;
    const SB_FN(v16) m = (SB_FN(v16)){0} + factor, s = (SB_FN(v16)){0} + step;
    SB_FN(v16) acc[chains];
    for (int i = 0; i < chains; i++) acc[i] = (SB_FN(v16)){0} + (float)i * step;
    for (long n = 0; n < iterations; n++)
        for (int i = 0; i < chains; i++) acc[i] = acc[i] * m + s;
    float sum = 0;
    for (int i = 0; i < chains; i++)
        for (int j = 0; j < 16; j++) sum += acc[i][j];
    volatile float sink = sum;  // the results are used
    (void)sink;
    return 2.0 * 16 * chains * (double)iterations;
}
