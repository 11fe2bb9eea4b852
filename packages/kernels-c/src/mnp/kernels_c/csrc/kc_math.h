/* Branch-free exp (GCC vectorizes loops calling these): float32 for non-positive arguments and
 * over the whole range (Cephes' expf polynomial, |error| <~ 3 ulp), float64 over the whole range
 * (<= 1 ulp measured against numpy), float32 expm1, and the activations built on them;
 * float32 e^(-x^2/2) and the normal distribution's tail Phi(-a), accurate at any x. */
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

/* e^y over float's whole range: subnormal results below -87 (computed as e^(y + 64 ln2)
 * 2^-64), 0 below -103.98, inf above log(FLT_MAX), NaN for NaN. The top binade (n = 128)
 * scales 2^127 by 2 at the end. */
static inline float kc_expf(float y) {
    const float low = y < -87.0f ? 5.42101086e-20f : 1.0f;  /* 2^-64 */
    const float yl = y < -87.0f ? y + 44.3614196f : y;
    float yc = yl < -87.0f ? -87.0f : (yl > 88.7228394f ? 88.7228394f : yl), r;
    float n = kc_reduce(yc, &r);
    float hi = n > 127.0f ? 1.0f : 0.0f;
    float s = kc_exp2i(n - hi);
    float e = (s + s * kc_em1_reduced(r)) * (1.0f + hi) * low;
    return y > 88.7228394f ? INFINITY : (yl < -87.0f ? 0.0f : e);
}

/* e^y for double over the whole range, branch-free like kc_expf: y = n ln2 + r (Cody-Waite
 * split of ln2), e^r by its Taylor polynomial to r^13 (truncation below 1e-17 on
 * |r| <= ln2/2), times 2^n built from bits: as 2^(n+64) 2^-64 for subnormal results and
 * 2^(n-1) 2 in the top binade. 0 below -746, inf above log(DBL_MAX), NaN for NaN. */
static inline double kc_expd(double y) {
    const double yc = y < -746.0 ? -746.0 : (y > 709.782712893384 ? 709.782712893384 : y);
    const double magic = 6755399441055744.0;   /* 1.5 * 2^52: adding it rounds to an integer */
    const double n = (yc * 1.4426950408889634 + magic) - magic;
    const double r = (yc - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r * r + r;      /* e^r - 1 */
    const double adj = n < -1000.0 ? 64.0 : (n > 1023.0 ? -1.0 : 0.0);
    const double scale = n < -1000.0 ? 5.42101086242752217e-20 : (n > 1023.0 ? 2.0 : 1.0);
    const int64_t bits = ((int64_t)(n + adj) + 1023) << 52;
    double s;
    memcpy(&s, &bits, sizeof s);
    const double e = (s + s * p) * scale;
    return y > 709.782712893384 ? INFINITY : (y < -746.0 ? 0.0 : e);
}

/* lo with x * x = h + lo exactly, h = x * x rounded (an FMA, or Dekker's split without one) */
static inline float kc_sq_lo(float x, float h) {
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
    return fmaf(x, x, -h);
#else
    int32_t bits;
    memcpy(&bits, &x, sizeof bits);
    bits &= (int32_t)0xfffff000; /* x = xh + xl, xh of 12 significant bits: xh * xh is exact */
    float xh;
    memcpy(&xh, &bits, sizeof xh);
    const float xl = x - xh;
    return ((xh * xh - h) + 2.0f * xh * xl) + xl * xl;
#endif
}

/* e^(-x^2/2) for any float x, as the return value m times *scale. x^2 is carried exactly as
 * h + lo and the reduction -h/2 - n ln2 is exact, so large |x| lose nothing to rounding the
 * argument (relative error ~1 ulp). 2^n is split as 2^max(n, -100) in m times the rest in
 * *scale (1 down to e^-69), so that a product formed with m and multiplied by *scale last
 * rounds into the subnormal range only once. 0 for x^2 > 250 (the true result is below
 * 2^-180), NaN for NaN. Clamps are on integer bits: GCC would otherwise split a float select
 * into both arms of the whole computation. */
static inline float kc_exp_halfsq(float x, float *scale) {
    const float h = x * x, lo = kc_sq_lo(x, h), hy = -0.5f * h;
    int32_t yb;
    memcpy(&yb, &hy, sizeof yb);
    yb = yb < (int32_t)0xc2fa0000 ? yb : (int32_t)0xc2fa0000; /* max(hy, -125) as bits (NaN too) */
    float y;
    memcpy(&y, &yb, sizeof y);
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    const float n = (y * 1.44269504088896341f + magic) - magic;
    const float r = ((y - n * 0.693359375f) - n * -2.12194440e-4f) - 0.5f * lo;
    const int32_t ni = (int32_t)n, n1 = ni < -100 ? -100 : ni; /* 2^n = 2^n1 2^(n - n1) */
    const int32_t sb = (n1 + 127) << 23, cb = (ni - n1 + 127) << 23;
    float s, c;
    memcpy(&s, &sb, sizeof s);
    memcpy(&c, &cb, sizeof c);
    *scale = c;
    float q = 1.381452661e-03f; /* e^r - 1 = r + r^2 q(r), |r| <= ln2/2: minimax, 3e-9 */
    q = q * r + 8.368751034e-03f;
    q = q * r + 4.166839272e-02f;
    q = q * r + 1.666651964e-01f;
    q = q * r + 4.999999404e-01f;
    const float m = s + s * (r + r * r * q);
    return h > 250.0f ? 0.0f : m;
}

/* The standard normal's tail over its Gaussian factor: Phi(-a) / e^(-a^2/2) for a >= 0, as
 * t Q(t), t = 1 / (1 + 0.4 a), Q a degree-9 relative minimax fit on a in [0, 14] (fit error
 * 3e-9; ~5 ulp evaluated in float, most of it t's rounding). +inf gives 0, NaN NaN. With
 * kc_exp_halfsq: Phi(-a) = kc_normal_tail(a) * m * scale, relative to the result at any a. */
static inline float kc_normal_tail(float a) {
    const float t = 1.0f / (1.0f + 0.4f * a);
    float q = 3.209922835e-02f;
    q = q * t - 1.761838943e-01f;
    q = q * t + 3.808076084e-01f;
    q = q * t - 3.720044494e-01f;
    q = q * t + 1.177735925e-01f;
    q = q * t - 2.590606175e-02f;
    q = q * t + 9.100912511e-02f;
    q = q * t + 1.332092583e-01f;
    q = q * t + 1.596193016e-01f;
    q = q * t + 1.595762968e-01f;
    return t * q;
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
