// The forward pass's C kernels (element-wise, the Linear layers' packed GEMM, attention) and the thread team that
// runs one clip on several cores.
//
// Every kernel exists in three builds of the same source (kernels_body.h, gemm_body.h, attention_body.h):
// baseline x86-64 (SSE2), AVX2+FMA and AVX-512. One is chosen at start-up from the CPU's features (or
// SIGNBERT_KERNELS, or sb_kernels_use), so the binary starts on any x86-64. Buffers are flat float arrays, output
// first, sizes last; `ld` is a row's stride in floats where a kernel works on a column slice of a wider matrix.
#ifndef SIGNBERT_CKERNELS_H
#define SIGNBERT_CKERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

// ---- kernel paths ----
enum { SB_PATH_BASELINE = 0, SB_PATH_AVX2 = 1, SB_PATH_AVX512 = 2, SB_PATH_COUNT = 3 };

/// Whether this CPU (and build) can run `path`.
int sb_kernels_supported(int path);
/// The path in use: the best supported one, or SIGNBERT_KERNELS=baseline|avx2|avx512 when supported.
int sb_kernels_path(void);
/// Uses `path` from now on; returns 0 (and changes nothing) when it is not supported. Not for use while
/// another thread runs a kernel.
int sb_kernels_use(int path);
/// "baseline", "avx2" or "avx512".
const char *sb_kernels_name(int path);
/// 1 when the automatic choice fell back to the baseline although a better path was wanted, or when
/// SIGNBERT_KERNELS named a path this CPU lacks (the caller logs it).
int sb_kernels_fell_back(void);

// ---- kernels (dispatched to the path in use) ----
/// out[i] = erf(x[i]) (a rational form fitted by tools/fit_erf.py, within 4e-7 once rounded to float). For tests.
void sb_erf(float *out, const float *x, long n);
/// out[i] = e^x[i] (|relative error| < 4 ulp on [-87, 88]). For tests.
void sb_exp(float *out, const float *x, long n);
/// x[r, c] = gelu(x[r, c] + bias[c]) for c < cols, rows of stride ld (exact erf form).
void sb_bias_gelu(float *x, const float *bias, long rows, long cols, long ld);
/// x[r, c] += bias[c] for c < cols, rows of stride ld.
void sb_add_bias(float *x, const float *bias, long rows, long cols, long ld);
/// out = LayerNorm(x) over rows of `dim` (two-pass variance, as PyTorch); out may equal x.
void sb_layer_norm(float *out, const float *x, const float *weight, const float *bias, long rows, long dim,
                   float eps);
/// x[r, :] += add_bias; out[r, :] = LayerNorm(x[r, :]): a residual stream's pending bias and the next
/// norm in one pass over each row.
void sb_add_bias_layer_norm(float *out, float *x, const float *add_bias, const float *weight,
                            const float *bias, long rows, long dim, float eps);
/// max of x[0..<n] (n > 0): the attention kernel's step, public for tests.
float sb_max(const float *x, long n);
/// x[i] = e^(x[i] - shift); returns the sum of the new values: the attention kernel's step, public for tests.
float sb_exp_shifted_sum(float *x, long n, float shift);

// ---- the Linear layers' GEMM over weights packed once ----
/// Floats of the packed form of a PyTorch Linear weight [outer, inner]: panels of 16 output columns.
long sb_gemm_packed_floats(long inner, long outer);
/// Packs weight [outer, inner] (PyTorch's layout) into `packed` (sb_gemm_packed_floats floats, best 64-byte
/// aligned): panel p holds columns 16p..16p+15 as [inner][16], zero past `outer`.
void sb_gemm_pack(float *packed, const float *weight, long inner, long outer);
/// c[rows, cols] = a[rows, inner] · Wᵀ restricted to output columns first_column..first_column+cols, plus `bias`
/// (its `cols` values for those columns) unless it is NULL, or `+=` the product when accumulate (bias NULL then);
/// first_column a multiple of 16; a and c row-major with strides lda and ldc.
void sb_gemm_packed(float *c, long ldc, const float *a, long lda, const float *packed, long inner, long first_column,
                    long cols, long rows, int accumulate, const float *bias);
/// `iterations` rounds of independent vector multiply-adds, all in registers, as many chains as the path's GEMM
/// micro-kernel keeps: the path's peak arithmetic rate on one thread when timed. Returns the FLOPs done.
double sb_fma_peak(long iterations);
/// Whether sb_gemm_packed may use its per-thread scratch (default 1). Tests turn it off to run the path taken
/// when the scratch cannot be allocated; not while a GEMM runs.
void sb_gemm_allow_scratch(int allowed);

// ---- attention ----
/// Floats of scratch sb_attention_head needs: K and V of one head in 16-wide panels, one tile of scores, and
/// two floats per tile row.
long sb_attention_scratch_floats(long tokens, long head_dim, long query_tile, long key_tile);
/// One head of one clip: out[t, 0..<head_dim] = softmax(q kᵀ · scale) v, where row t of q, k and v starts at
/// q + t·ld (k, v alike) and of out at out + t·ldo; tiles of query_tile queries meet tiles of key_tile keys
/// (rounded up to a multiple of 16) with an online softmax. `scratch`: sb_attention_scratch_floats floats.
void sb_attention_head(float *out, long ldo, const float *q, const float *k, const float *v, long ld, long tokens,
                       long head_dim, float scale, float *scratch, long query_tile, long key_tile);

// ---- thread team ----
/// A persistent team of `lanes` threads: the caller of sb_team_run is lane 0, the others are threads
/// the team owns. Idle threads spin briefly, then sleep in the kernel (futex): an idle process uses no CPU.
typedef struct sb_team sb_team;
typedef void (*sb_task)(void *context, int lane, int lanes);

sb_team *sb_team_create(int lanes);
void sb_team_destroy(sb_team *team);
int sb_team_lanes(const sb_team *team);
/// Runs task(context, lane, lanes) on every lane at once; returns when all have returned. One caller at a time.
void sb_team_run(sb_team *team, sb_task task, void *context);
/// Inside a task: waits until every lane has reached the barrier.
void sb_team_barrier(sb_team *team);

#ifdef __cplusplus
}
#endif
#endif
