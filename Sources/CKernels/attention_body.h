// One head's attention for one clip, softmax(Q Kᵀ · scale) V, written once and compiled per kernel path. The
// including file defines SB_FN and SB_GEMM_MR and includes kernels_body.h (max, exp, scale) and gemm_body.h
// (the v16 type, store_row) first.
//
// Why not cblas_sgemm: a head's two products are thin (head_dim, 32 by default, is the inner dimension of one and
// the width of the other), and OpenBLAS spent about as long around them as in them: zeroing the scores before
// writing them (its beta pass) and copying the same K and V tile again for every tile of queries. That was a
// fifth of a v2 clip and most of v1's attention. Here a head's K and V are copied once, into 16-wide panels as
// the Linear weights are, and one register-tiled micro-kernel computes both products, reading the queries and
// the scores where they lie.
//
// Flash-attention style: a tile of query rows meets the keys one tile at a time with an online softmax. Each row
// keeps its running max m and sum l; a key tile with a larger max rescales the row's output and sum by
// e^(m_old - m_new) before adding its own e^(s - m_new)-weighted values. At most key_tile keys: one tile is the
// plain softmax's arithmetic but for the final division, which comes after the sum over the values.
#include "attention_tiles.h"
#include <stddef.h>

// R rows x 16 columns: acc[r] = Σ_k a[r·lda + k] · panel[16k ..< 16k + 16] over k < kc, in order of k; then
// c[r·ldc + j] = acc[r][j] · scale (store) or c[r·ldc + j] += acc[r][j] (accumulate), for j < cols.
#define SB_ATTN_MICRO(R)                                                                                       \
    static inline __attribute__((always_inline)) void SB_FN(attention_micro_##R)(                             \
        float *c, long ldc, const float *a, long lda, const float *panel, long kc, long cols, float scale,    \
        int accumulate) {                                                                                      \
        SB_FN(v16) acc[R];                                                                                     \
        for (int r = 0; r < R; r++) acc[r] = (SB_FN(v16)){0};                                                  \
        for (long k = 0; k < kc; k++) {                                                                        \
            SB_FN(v16) b = *(const SB_FN(v16) *)(panel + k * 16);                                              \
            for (int r = 0; r < R; r++) acc[r] += b * a[r * lda + k];                                          \
        }                                                                                                      \
        for (int r = 0; r < R; r++) {                                                                          \
            if (!accumulate) acc[r] *= scale;                                                                  \
            SB_FN(store_row)(c + r * ldc, &acc[r], cols, accumulate ? c + r * ldc : NULL);                     \
        }                                                                                                      \
    }

SB_ATTN_MICRO(1)
SB_ATTN_MICRO(2)
#if SB_GEMM_MR > 2
SB_ATTN_MICRO(3)
SB_ATTN_MICRO(4)
SB_ATTN_MICRO(5)
SB_ATTN_MICRO(6)
#endif

static inline __attribute__((always_inline)) void SB_FN(attention_micro)(long rows, float *c, long ldc, const float *a,
                                                                         long lda, const float *panel, long kc,
                                                                         long cols, float scale, int accumulate) {
    switch (rows) {
    case 1: SB_FN(attention_micro_1)(c, ldc, a, lda, panel, kc, cols, scale, accumulate); break;
    case 2: SB_FN(attention_micro_2)(c, ldc, a, lda, panel, kc, cols, scale, accumulate); break;
#if SB_GEMM_MR > 2
    case 3: SB_FN(attention_micro_3)(c, ldc, a, lda, panel, kc, cols, scale, accumulate); break;
    case 4: SB_FN(attention_micro_4)(c, ldc, a, lda, panel, kc, cols, scale, accumulate); break;
    case 5: SB_FN(attention_micro_5)(c, ldc, a, lda, panel, kc, cols, scale, accumulate); break;
    case 6: SB_FN(attention_micro_6)(c, ldc, a, lda, panel, kc, cols, scale, accumulate); break;
#endif
    default: break;
    }
}

// scores[rows, keys] = scale · Q[rows, head_dim] · K_tileᵀ, the keys' panels first (each 16 keys x head_dim,
// 2 KB at 32, stays in L1 while every row group passes over it).
static void SB_FN(attention_scores)(float *scores, const float *q, long ld, const float *key_panels, long head_dim,
                                    long rows, long keys, float scale) {
    for (long j = 0; j < keys; j += 16) {
        const float *panel = key_panels + j / 16 * head_dim * 16;
        const long cols = keys - j < 16 ? keys - j : 16;
        for (long m = 0; m < rows; m += SB_GEMM_MR) {
            const long mr = rows - m < SB_GEMM_MR ? rows - m : SB_GEMM_MR;
            SB_FN(attention_micro)(mr, scores + m * keys + j, keys, q + m * ld, ld, panel, head_dim, cols, scale, 0);
        }
    }
}

// o[rows, head_dim] += P[rows, keys] · V_tile, row groups first (their scores stay in L1 across the panels).
static void SB_FN(attention_values)(float *o, long ldo, const float *p, const float *value_panels, long tokens,
                                    long head_dim, long rows, long keys) {
    for (long m = 0; m < rows; m += SB_GEMM_MR) {
        const long mr = rows - m < SB_GEMM_MR ? rows - m : SB_GEMM_MR;
        for (long c = 0; c < head_dim; c += 16) {
            const long cols = head_dim - c < 16 ? head_dim - c : 16;
            SB_FN(attention_micro)(mr, o + m * ldo + c, ldo, p + m * keys, keys, value_panels + c * tokens, keys,
                                   cols, 1.0f, 1);
        }
    }
}

// 8 tokens' 8 floats of K (x[i] from token i) into 8 rows of a key panel, one per dimension: dst[d·16 + i].
static inline __attribute__((always_inline)) void SB_FN(attention_transpose_8x8)(float *dst, const SB_FN(v8) *x) {
    SB_FN(v8) pairs[8], fours[8];
    for (int i = 0; i < 8; i += 2) {  // tokens i, i+1 interleaved: dims 0 1 | 4 5, then 2 3 | 6 7
        pairs[i] = __builtin_shufflevector(x[i], x[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        pairs[i + 1] = __builtin_shufflevector(x[i], x[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4) {  // tokens i..i+3 at dims 0 | 4, 1 | 5, 2 | 6, 3 | 7
        fours[i] = __builtin_shufflevector(pairs[i], pairs[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        fours[i + 1] = __builtin_shufflevector(pairs[i], pairs[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        fours[i + 2] = __builtin_shufflevector(pairs[i + 1], pairs[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        fours[i + 3] = __builtin_shufflevector(pairs[i + 1], pairs[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int d = 0; d < 4; d++) {  // tokens 0-3 beside 4-7: dimension d from the low halves, d + 4 the high
        *(SB_FN(v8) *)(dst + d * 16) = __builtin_shufflevector(fours[d], fours[d + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        *(SB_FN(v8) *)(dst + (d + 4) * 16) = __builtin_shufflevector(fours[d], fours[d + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

// K into [key panel][head_dim][16] (zero past the last key) and V into [16 columns][tokens][16] (zero past
// head_dim). The rows were written by the QKV projection a while ago, 3·D floats apart: each is asked for 8
// tokens ahead, else the copy waits on every one (a third of v1's attention time at batch 32). K goes 8 tokens
// x 8 dimensions at a time through a transpose in registers, V 16 floats at a time: copied a float at a time
// they were a quarter of v1's attention.
static void SB_FN(attention_pack)(float *key_panels, float *value_panels, const float *k, const float *v, long ld,
                                  long tokens, long head_dim) {
    const long value_columns = (head_dim + 15) / 16 * 16;
    for (long t = 0; t < tokens; t++) {
        if (t + 8 < tokens)
            for (long d = 0; d < head_dim; d += 16) __builtin_prefetch(v + (t + 8) * ld + d, 0, 3);
        const float *value = v + t * ld;
        for (long c = 0; c < value_columns; c += 16) {
            float *const row = value_panels + c * tokens + t * 16;
            if (c + 16 <= head_dim) {
                *(SB_FN(v16) *)row = *(const SB_FN(v16) *)(value + c);
            } else {
                for (long j = 0; j < 16; j++) row[j] = c + j < head_dim ? value[c + j] : 0.0f;
            }
        }
    }
    long t = 0;
    for (; t + 8 <= tokens; t += 8) {
        for (long ahead = t + 8; ahead < t + 16 && ahead < tokens; ahead++)
            for (long d = 0; d < head_dim; d += 16) __builtin_prefetch(k + ahead * ld + d, 0, 3);
        float *const panel = key_panels + t / 16 * head_dim * 16 + t % 16;  // t % 16 is 0 or 8
        long d = 0;
        for (; d + 8 <= head_dim; d += 8) {
            SB_FN(v8) x[8];
            for (int i = 0; i < 8; i++) x[i] = *(const SB_FN(v8) *)(k + (t + i) * ld + d);
            SB_FN(attention_transpose_8x8)(panel + d * 16, x);
        }
        for (long i = 0; i < 8; i++)
            for (long dd = d; dd < head_dim; dd++) panel[dd * 16 + i] = k[(t + i) * ld + dd];
    }
    for (; t < tokens; t++)
        for (long d = 0; d < head_dim; d++) key_panels[t / 16 * head_dim * 16 + d * 16 + t % 16] = k[t * ld + d];
    for (t = tokens; t < (tokens + 15) / 16 * 16; t++)
        for (long d = 0; d < head_dim; d++) key_panels[t / 16 * head_dim * 16 + d * 16 + t % 16] = 0.0f;
}

void SB_FN(attention_head)(float *out, long ldo, const float *q, const float *k, const float *v, long ld, long tokens,
                           long head_dim, float scale, float *scratch, long query_tile, long key_tile) {
    if (tokens <= 0 || head_dim <= 0) return;
    const long tile_rows = sb_attention_tile_rows(tokens, query_tile);
    const long tile_keys = sb_attention_tile_keys(tokens, key_tile);
    float *const key_panels = scratch;  // [key panel][head_dim][16], zero past the last key
    float *const value_panels = key_panels + (tokens + 15) / 16 * 16 * head_dim;  // [16 columns][tokens][16]
    float *const scores = value_panels + (head_dim + 15) / 16 * 16 * tokens;
    float *const running_max = scores + tile_rows * tile_keys;
    float *const running_sum = running_max + tile_rows;

    SB_FN(attention_pack)(key_panels, value_panels, k, v, ld, tokens, head_dim);

    for (long q0 = 0; q0 < tokens; q0 += tile_rows) {
        const long rows = tokens - q0 < tile_rows ? tokens - q0 : tile_rows;
        float *const o = out + q0 * ldo;
        for (long r = 0; r < rows; r++) {
            running_max[r] = -INFINITY;
            running_sum[r] = 0;
            for (long d = 0; d < head_dim; d++) o[r * ldo + d] = 0;
        }
        for (long k0 = 0; k0 < tokens; k0 += tile_keys) {
            const long keys = tokens - k0 < tile_keys ? tokens - k0 : tile_keys;
            SB_FN(attention_scores)(scores, q + q0 * ld, ld, key_panels + k0 * head_dim, head_dim, rows, keys, scale);
            for (long r = 0; r < rows; r++) {
                float *const row = scores + r * keys;
                const float tile_max = SB_FN(max)(row, keys);
                const float new_max = tile_max > running_max[r] ? tile_max : running_max[r];
                const float tile_sum = SB_FN(exp_shifted_sum)(row, keys, new_max);
                if (running_max[r] == -INFINITY) {
                    running_sum[r] = tile_sum;  // the first tile: nothing accumulated yet to rescale
                } else if (new_max > running_max[r]) {
                    const float correction = expf(running_max[r] - new_max);  // once per row and tile
                    running_sum[r] = running_sum[r] * correction + tile_sum;
                    SB_FN(scale)(o + r * ldo, head_dim, correction);
                } else {
                    running_sum[r] += tile_sum;
                }
                running_max[r] = new_max;
            }
            SB_FN(attention_values)(o, ldo, scores, value_panels + k0 * 16, tokens, head_dim, rows, keys);
        }
        for (long r = 0; r < rows; r++) SB_FN(scale)(o + r * ldo, head_dim, 1.0f / running_sum[r]);
    }
}
