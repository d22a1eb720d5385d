// The element-wise kernels, written once and compiled once per kernel path: the including file defines
// SB_FN(name) (the path's function names) and the compiler target. The loops are plain scalar code over
// 16 independent lanes, which each target's vectoriser maps to its own registers (4 SSE, 2 AVX2 or 1
// AVX-512 register); the lanes are summed in the same order on every path, so the paths differ only where
// a target fuses a multiply and an add.
#include <stdint.h>
#include <string.h>
#include <math.h>

#define SB_LANES 16

// e^x: x = n·ln2 + r, |r| <= ln2/2, e^r by a degree-6 Taylor polynomial (< 2e-7 relative), 2^n built in
// the exponent bits. Clamped to where the result is finite and normal: below, it flushes to ~1e-38,
// which softmax treats as 0.
static inline float SB_FN(exp1)(float x) {
    float c = x < -87.3f ? -87.3f : x;
    c = c > 88.3f ? 88.3f : c;
    const float magic = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer kept in the low bits
    float n = (c * 1.44269504088896341f + magic) - magic;
    float r = c - n * 0.693145751953125f;  // ln2 in two parts, so r keeps its low bits
    r = r - n * 1.42860676533018700e-6f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    float biased = n + (magic + 127.0f);  // n + 127 (1...254) in the low mantissa bits
    uint32_t bits;
    memcpy(&bits, &biased, 4);
    bits <<= 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return p * scale;
}

// erf(x) as x·P(u)/Q(u), u = x²/16, P of degree 6 and Q of degree 5, fitted by tools/fit_erf.py (within 1.5e-9
// of erf; evaluated in float, 3.4e-7 with fused multiply-adds and 3.9e-7 without), with x clamped to ±4, where
// erf is ±1 in float. It took the place of Abramowitz & Stegun 7.1.26 (an exp and a division: 5.3e-7), a third
// faster in GELU.
// A NaN goes through the clamp as NaN.
static inline float SB_FN(erf1)(float x) {
    float c = x < -4.0f ? -4.0f : x;
    c = c > 4.0f ? 4.0f : c;
    const float u = c * c * 0.0625f;
    float p = -2.292851396e-01f;
    p = p * u + 5.012690990e+00f;
    p = p * u + 2.507996751e+01f;
    p = p * u + 1.572670736e+01f;
    p = p * u + 1.390913576e+01f;
    p = p * u + 2.955368103e+00f;
    p = p * u + 1.128379182e+00f;
    float q = 6.711793950e+01f;
    q = q * u + 8.582435551e+01f;
    q = q * u + 6.329756113e+01f;
    q = q * u + 2.913953897e+01f;
    q = q * u + 7.952463515e+00f;
    q = q * u + 1.0f;
    return c * p / q;
}

// nn.GELU(): 0.5·x·(1 + erf(x/√2)).
static inline float SB_FN(gelu1)(float x) {
    return 0.5f * x * (1.0f + SB_FN(erf1)(x * 0.70710678118654752f));
}

static inline float SB_FN(fold)(float *acc) {
    for (int width = SB_LANES / 2; width > 0; width /= 2)
        for (int l = 0; l < width; l++) acc[l] += acc[l + width];
    return acc[0];
}

static inline float SB_FN(sum)(const float *restrict x, long n) {
    float acc[SB_LANES] = {0};
    long i = 0;
    for (; i + SB_LANES <= n; i += SB_LANES)
        for (int l = 0; l < SB_LANES; l++) acc[l] += x[i + l];
    float tail = 0;
    for (; i < n; i++) tail += x[i];
    return SB_FN(fold)(acc) + tail;
}

static inline float SB_FN(squared_deviations)(const float *restrict x, long n, float mean) {
    float acc[SB_LANES] = {0};
    long i = 0;
    for (; i + SB_LANES <= n; i += SB_LANES)
        for (int l = 0; l < SB_LANES; l++) {
            float d = x[i + l] - mean;
            acc[l] += d * d;
        }
    float tail = 0;
    for (; i < n; i++) tail += (x[i] - mean) * (x[i] - mean);
    return SB_FN(fold)(acc) + tail;
}

static inline void SB_FN(normalise_row)(float *restrict out, const float *restrict x, const float *restrict weight,
                                        const float *restrict bias, long dim, float eps) {
    float mean = SB_FN(sum)(x, dim) / (float)dim;
    float inverse_std = 1.0f / sqrtf(SB_FN(squared_deviations)(x, dim, mean) / (float)dim + eps);
    for (long j = 0; j < dim; j++) out[j] = (x[j] - mean) * inverse_std * weight[j] + bias[j];
}

void SB_FN(erf)(float *restrict out, const float *restrict x, long n) {
    for (long i = 0; i < n; i++) out[i] = SB_FN(erf1)(x[i]);
}

void SB_FN(exp)(float *restrict out, const float *restrict x, long n) {
    for (long i = 0; i < n; i++) out[i] = SB_FN(exp1)(x[i]);
}

void SB_FN(bias_gelu)(float *restrict x, const float *restrict bias, long rows, long cols, long ld) {
    for (long r = 0; r < rows; r++) {
        float *restrict row = x + r * ld;
        for (long c = 0; c < cols; c++) row[c] = SB_FN(gelu1)(row[c] + bias[c]);
    }
}

void SB_FN(add_bias)(float *restrict x, const float *restrict bias, long rows, long cols, long ld) {
    for (long r = 0; r < rows; r++) {
        float *restrict row = x + r * ld;
        for (long c = 0; c < cols; c++) row[c] += bias[c];
    }
}

// Not restrict: out may equal x.
void SB_FN(layer_norm)(float *out, const float *x, const float *restrict weight, const float *restrict bias,
                       long rows, long dim, float eps) {
    for (long r = 0; r < rows; r++) {
        if (out == x) {
            // In place: the row is read whole (mean, variance) before it is written.
            float mean = SB_FN(sum)(x + r * dim, dim) / (float)dim;
            float inverse_std = 1.0f / sqrtf(SB_FN(squared_deviations)(x + r * dim, dim, mean) / (float)dim + eps);
            float *row = out + r * dim;
            for (long j = 0; j < dim; j++) row[j] = (row[j] - mean) * inverse_std * weight[j] + bias[j];
        } else {
            SB_FN(normalise_row)(out + r * dim, x + r * dim, weight, bias, dim, eps);
        }
    }
}

void SB_FN(add_bias_layer_norm)(float *restrict out, float *restrict x, const float *restrict add_bias,
                                const float *restrict weight, const float *restrict bias, long rows, long dim,
                                float eps) {
    for (long r = 0; r < rows; r++) {
        float *restrict row = x + r * dim;
        for (long j = 0; j < dim; j++) row[j] += add_bias[j];
        SB_FN(normalise_row)(out + r * dim, row, weight, bias, dim, eps);  // the row is still in L1
    }
}

float SB_FN(max)(const float *restrict x, long n) {
    float acc[SB_LANES];
    for (int l = 0; l < SB_LANES; l++) acc[l] = -INFINITY;
    long i = 0;
    for (; i + SB_LANES <= n; i += SB_LANES)
        for (int l = 0; l < SB_LANES; l++) acc[l] = x[i + l] > acc[l] ? x[i + l] : acc[l];
    for (; i < n; i++) acc[0] = x[i] > acc[0] ? x[i] : acc[0];
    for (int width = SB_LANES / 2; width > 0; width /= 2)
        for (int l = 0; l < width; l++) acc[l] = acc[l + width] > acc[l] ? acc[l + width] : acc[l];
    return acc[0];
}

float SB_FN(exp_shifted_sum)(float *restrict x, long n, float shift) {
    float acc[SB_LANES] = {0};
    long i = 0;
    for (; i + SB_LANES <= n; i += SB_LANES)
        for (int l = 0; l < SB_LANES; l++) {
            float e = SB_FN(exp1)(x[i + l] - shift);
            x[i + l] = e;
            acc[l] += e;
        }
    float tail = 0;
    for (; i < n; i++) {
        x[i] = SB_FN(exp1)(x[i] - shift);
        tail += x[i];
    }
    return SB_FN(fold)(acc) + tail;
}

void SB_FN(scale)(float *restrict x, long n, float s) {
    for (long i = 0; i < n; i++) x[i] *= s;
}
