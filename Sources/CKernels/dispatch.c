// Chooses the kernel path once, from the CPU's features, and forwards every kernel call to it.
#include "CKernels.h"
#include "attention_tiles.h"
#include <stdlib.h>
#include <string.h>

#define SB_DECLARE(path)                                                                                       \
    void sb_erf_##path(float *, const float *, long);                                                         \
    void sb_exp_##path(float *, const float *, long);                                                         \
    void sb_bias_gelu_##path(float *, const float *, long, long, long);                                       \
    void sb_add_bias_##path(float *, const float *, long, long, long);                                        \
    void sb_layer_norm_##path(float *, const float *, const float *, const float *, long, long, float);       \
    void sb_add_bias_layer_norm_##path(float *, float *, const float *, const float *, const float *, long,   \
                                       long, float);                                                          \
    float sb_max_##path(const float *, long);                                                                 \
    float sb_exp_shifted_sum_##path(float *, long, float);                                                    \
    void sb_gemm_packed_##path(float *, long, const float *, long, const float *, long, long, long, long, int, const float *);  \
    double sb_fma_peak_##path(long);                                                                          \
    void sb_attention_head_##path(float *, long, const float *, const float *, const float *, long, long, long,  \
                                  float, float *, long, long);

typedef struct {
    void (*erf)(float *, const float *, long);
    void (*exp)(float *, const float *, long);
    void (*bias_gelu)(float *, const float *, long, long, long);
    void (*add_bias)(float *, const float *, long, long, long);
    void (*layer_norm)(float *, const float *, const float *, const float *, long, long, float);
    void (*add_bias_layer_norm)(float *, float *, const float *, const float *, const float *, long, long, float);
    float (*max)(const float *, long);
    float (*exp_shifted_sum)(float *, long, float);
    void (*gemm_packed)(float *, long, const float *, long, const float *, long, long, long, long, int, const float *);
    double (*fma_peak)(long);
    void (*attention_head)(float *, long, const float *, const float *, const float *, long, long, long, float,
                           float *, long, long);
} sb_table;

#define SB_TABLE(path)                                                                                         \
    {sb_erf_##path, sb_exp_##path, sb_bias_gelu_##path, sb_add_bias_##path, sb_layer_norm_##path,             \
     sb_add_bias_layer_norm_##path, sb_max_##path, sb_exp_shifted_sum_##path, sb_gemm_packed_##path,         \
     sb_fma_peak_##path, sb_attention_head_##path}

SB_DECLARE(baseline)
#if defined(__x86_64__)
SB_DECLARE(avx2)
SB_DECLARE(avx512)
static const sb_table tables[SB_PATH_COUNT] = {SB_TABLE(baseline), SB_TABLE(avx2), SB_TABLE(avx512)};
#else
static const sb_table tables[SB_PATH_COUNT] = {SB_TABLE(baseline), SB_TABLE(baseline), SB_TABLE(baseline)};
#endif

static const char *const names[SB_PATH_COUNT] = {"baseline", "avx2", "avx512"};

// Set before main by the constructor below, and by sb_kernels_use (documented as not concurrent with kernels).
static const sb_table *active = &tables[SB_PATH_BASELINE];
static int active_path = SB_PATH_BASELINE;
static int fell_back = 0;

int sb_kernels_supported(int path) {
    switch (path) {
    case SB_PATH_BASELINE:
        return 1;
#if defined(__x86_64__)
    case SB_PATH_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case SB_PATH_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("fma");
#endif
    default:
        return 0;
    }
}

int sb_kernels_use(int path) {
    if (!sb_kernels_supported(path)) return 0;
    active = &tables[path];
    active_path = path;
    return 1;
}

int sb_kernels_path(void) { return active_path; }
int sb_kernels_fell_back(void) { return fell_back; }
const char *sb_kernels_name(int path) { return path >= 0 && path < SB_PATH_COUNT ? names[path] : "unknown"; }

__attribute__((constructor)) static void choose_path(void) {
    const char *wanted = getenv("SIGNBERT_KERNELS");
    if (wanted && *wanted) {
        for (int path = 0; path < SB_PATH_COUNT; path++) {
            if (strcmp(wanted, names[path]) == 0) {
                if (sb_kernels_use(path)) return;
            }
        }
        fell_back = 1;  // unknown or unsupported name: the best path instead, and the caller says so
    }
    for (int path = SB_PATH_COUNT - 1; path >= 0; path--) {
        if (sb_kernels_use(path)) break;
    }
#if defined(__x86_64__)
    if (active_path == SB_PATH_BASELINE) fell_back = 1;
#endif
}

void sb_erf(float *out, const float *x, long n) { active->erf(out, x, n); }
void sb_exp(float *out, const float *x, long n) { active->exp(out, x, n); }
void sb_bias_gelu(float *x, const float *bias, long rows, long cols, long ld) {
    active->bias_gelu(x, bias, rows, cols, ld);
}
void sb_add_bias(float *x, const float *bias, long rows, long cols, long ld) {
    active->add_bias(x, bias, rows, cols, ld);
}
void sb_layer_norm(float *out, const float *x, const float *weight, const float *bias, long rows, long dim,
                   float eps) {
    active->layer_norm(out, x, weight, bias, rows, dim, eps);
}
void sb_add_bias_layer_norm(float *out, float *x, const float *add_bias, const float *weight, const float *bias,
                            long rows, long dim, float eps) {
    active->add_bias_layer_norm(out, x, add_bias, weight, bias, rows, dim, eps);
}
float sb_max(const float *x, long n) { return active->max(x, n); }
float sb_exp_shifted_sum(float *x, long n, float shift) { return active->exp_shifted_sum(x, n, shift); }

void sb_gemm_packed(float *c, long ldc, const float *a, long lda, const float *packed, long inner, long first_column,
                    long cols, long rows, int accumulate, const float *bias) {
    active->gemm_packed(c, ldc, a, lda, packed, inner, first_column, cols, rows, accumulate, bias);
}

double sb_fma_peak(long iterations) { return active->fma_peak(iterations); }

long sb_attention_scratch_floats(long tokens, long head_dim, long query_tile, long key_tile) {
    return sb_attention_scratch_count(tokens, head_dim, query_tile, key_tile);
}

void sb_attention_head(float *out, long ldo, const float *q, const float *k, const float *v, long ld, long tokens,
                       long head_dim, float scale, float *scratch, long query_tile, long key_tile) {
    active->attention_head(out, ldo, q, k, v, ld, tokens, head_dim, scale, scratch, query_tile, key_tile);
}
