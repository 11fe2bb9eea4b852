/* Branch-free float32 exp/expm1 for non-positive arguments (vectorizable by GCC), and the
 * activations built on them. float64 uses libm. Cephes' expf polynomial: |error| <~ 2 ulp. */
#ifndef MNP_KC_MATH_H
#define MNP_KC_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* 2^n for integer-valued n in [-126, 127] */
static inline float kc_exp2i(float n) {
    int32_t bits = ((int32_t)n + 127) << 23;
    float s;
    memcpy(&s, &bits, sizeof s);
    return s;
}

/* e^r - 1 on |r| <= ln2/2 */
static inline float kc_em1_reduced(float r) {
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    return r + r * r * p;
}

/* split y = n ln2 + r, n integral (returned as float) */
static inline float kc_reduce(float y, float *r) {
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float n = (y * 1.44269504088896341f + magic) - magic;
    *r = (y - n * 0.693359375f) - n * -2.12194440e-4f;
    return n;
}

/* e^y for y <= 0 (0 below float's normal range) */
static inline float kc_expf_nonpos(float y) {
    float yc = y < -87.0f ? -87.0f : y, r;
    float n = kc_reduce(yc, &r);
    float s = kc_exp2i(n);
    float e = s + s * kc_em1_reduced(r);
    return y < -87.0f ? 0.0f : e;
}

/* e^y - 1 for y <= 0, accurate relative to the result near 0 */
static inline float kc_expm1f_nonpos(float y) {
    float yc = y < -87.0f ? -87.0f : y, r;
    float n = kc_reduce(yc, &r);
    float s = kc_exp2i(n);
    return s * kc_em1_reduced(r) + (s - 1.0f);
}

static inline float kc_sigmoidf(float x) {
    float e = kc_expf_nonpos(-fabsf(x));
    float inv = 1.0f / (1.0f + e);
    return x >= 0 ? inv : e * inv;
}

static inline float kc_tanhf(float x) {
    float m = kc_expm1f_nonpos(-2.0f * fabsf(x));   /* in (-1, 0] */
    return copysignf(fabsf(m / (2.0f + m)), x);
}

static inline double kc_sigmoidd(double x) {
    double e = exp(-fabs(x));
    double inv = 1.0 / (1.0 + e);
    return x >= 0 ? inv : e * inv;
}

#endif
