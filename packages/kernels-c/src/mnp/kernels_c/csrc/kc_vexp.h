/* e^y on float32 SIMD vectors (GCC vector extensions, KC_VBYTES wide), over float's whole
 * range: y = n ln2 + r with |r| <= ln2/2 (n rounded to nearest, ln2 split in two), e^r - 1 by
 * a degree-6 minimax polynomial (relative error 3e-9 before rounding), and 2^n applied as two
 * normal powers 2^(n>>1) 2^(n-(n>>1)), so that subnormal results are rounded once and large
 * ones overflow to inf. Results within 1.01 ulp of e^y (measured over the float32 inputs in
 * [-110, 90]; 99.2% correctly rounded); 0 below -104, inf above 89, NaN for NaN. Every lane
 * is computed alone: an element's result does not depend on its position in a vector. */
#ifndef MNP_KC_VEXP_H
#define MNP_KC_VEXP_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kc_simd.h"
#if KC_VBYTES == 32 && defined(__AVX__)
#include <immintrin.h>
#endif

typedef float kc_vf __attribute__((vector_size(KC_VBYTES)));
typedef int32_t kc_vi __attribute__((vector_size(KC_VBYTES)));
typedef uint32_t kc_vu __attribute__((vector_size(KC_VBYTES)));
#define KC_VF_LEN ((ptrdiff_t)(KC_VBYTES / sizeof(float)))

static inline kc_vf kc_vf_splat(float v) { return (kc_vf){0} + v; }

static inline kc_vf kc_vf_load(const float *p) {
    kc_vf v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void kc_vf_store(float *p, kc_vf v) { memcpy(p, &v, sizeof v); }

/* the first n (< KC_VF_LEN) values of p, the other lanes `fill` */
static inline kc_vf kc_vf_load_part(const float *p, ptrdiff_t n, float fill) {
    float b[KC_VBYTES / sizeof(float)];
    for (int i = 0; i < (int)KC_VF_LEN; i++) b[i] = i < n ? p[i] : fill;
    return kc_vf_load(b);
}

static inline void kc_vf_store_part(float *p, kc_vf v, ptrdiff_t n) {
    float b[KC_VBYTES / sizeof(float)];
    kc_vf_store(b, v);
    for (ptrdiff_t i = 0; i < n; i++) p[i] = b[i];
}

/* sums of float vectors in double: the low and the high halves' lanes */
typedef float kc_vfh __attribute__((vector_size(KC_VBYTES / 2)));
typedef double kc_vd __attribute__((vector_size(KC_VBYTES)));

static inline void kc_vf_acc(kc_vd *lo, kc_vd *hi, kc_vf v) {
#if KC_VBYTES == 32 && defined(__AVX__)   /* GCC converts the halves 2 lanes at a time */
    *lo += (kc_vd)_mm256_cvtps_pd(_mm256_castps256_ps128((__m256)v));
    *hi += (kc_vd)_mm256_cvtps_pd(_mm256_extractf128_ps((__m256)v, 1));
#else
    kc_vfh a, b;
    memcpy(&a, &v, sizeof a);
    memcpy(&b, (const char *)&v + sizeof a, sizeof b);
    *lo += __builtin_convertvector(a, kc_vd);
    *hi += __builtin_convertvector(b, kc_vd);
#endif
}

/* the sum of the lanes of lo + hi, in a fixed order (pairwise halves) */
static inline double kc_vd_hsum(kc_vd lo, kc_vd hi) {
    double b[KC_VBYTES / sizeof(double)];
    const kc_vd v = lo + hi;
    memcpy(b, &v, sizeof b);
    for (int w = (int)(KC_VBYTES / sizeof(double)) / 2; w > 0; w /= 2)
        for (int i = 0; i < w; i++) b[i] += b[i + w];
    return b[0];
}

/* the lanes from k on (0 <= k <= KC_VF_LEN): all bits set there, clear before */
static inline kc_vi kc_vf_from_lane(int k) {
    static const int32_t iota[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    kc_vi i;
    memcpy(&i, iota, sizeof i);
    return i >= k;
}

/* lane-wise m ? a : b, m a comparison result (all bits set or clear) */
static inline kc_vf kc_vf_sel(kc_vi m, kc_vf a, kc_vf b) {
    return (kc_vf)((m & (kc_vi)a) | (~m & (kc_vi)b));
}

/* the larger of a and b lane by lane (b where a is NaN: x86's maxps) */
static inline kc_vf kc_vf_max(kc_vf a, kc_vf b) {
#if KC_VBYTES == 32 && defined(__AVX__)
    return (kc_vf)_mm256_max_ps((__m256)a, (__m256)b);
#else
    return kc_vf_sel(a > b, a, b);
#endif
}

static inline float kc_vf_hmax(kc_vf v) {
    float b[KC_VBYTES / sizeof(float)], m;
    kc_vf_store(b, v);
    m = b[0];
    for (int i = 1; i < (int)KC_VF_LEN; i++) m = b[i] > m ? b[i] : m;
    return m;
}

/* the largest of x[0:n], NaN ignored (-inf if there is none); from n = KC_VF_LEN on in
 * vectors, the tail as the slice's last full vector (overlapping the one before) */
static inline float kc_vf_max_n(const float *x, ptrdiff_t n) {
    const kc_vf none = kc_vf_splat(-INFINITY);
    if (n < KC_VF_LEN) {
        float m = -INFINITY;
        for (ptrdiff_t j = 0; j < n; j++) m = x[j] > m ? x[j] : m;
        return m;
    }
    kc_vf m0 = kc_vf_max(kc_vf_load(x + n - KC_VF_LEN), none), m1 = none;
    ptrdiff_t c = 0;
    for (; c + 2 * KC_VF_LEN <= n; c += 2 * KC_VF_LEN) {
        m0 = kc_vf_max(kc_vf_load(x + c), m0);
        m1 = kc_vf_max(kc_vf_load(x + c + KC_VF_LEN), m1);
    }
    if (c + KC_VF_LEN <= n) m1 = kc_vf_max(kc_vf_load(x + c), m1);
    return kc_vf_hmax(kc_vf_max(m1, m0));
}

/* y = n ln2 + r, |r| <= ln2/2 (n rounded to nearest), and e^r - 1 by the degree-6 polynomial;
 * n as an integer into *ni (from the low bits of y log2(e) + 1.5 * 2^23) */
static inline kc_vf kc_vexpf_em1_reduced(kc_vf y, kc_vi *ni) {
    const kc_vf magic = kc_vf_splat(12582912.0f);   /* 1.5 * 2^23: rounds a sum to an integer */
    const kc_vf t = y * 1.44269504088896341f + magic;
    const kc_vf n = t - magic;
    kc_vf r = y - n * 0.693359375f;     /* ln2's high part: n * it is exact */
    r = r - n * -2.12194440e-4f;        /* ... and the rest */
    kc_vf p = 8.368710055947304e-3f + r * 1.381461275741458e-3f;
    p = 4.166838899254799e-2f + r * p;
    p = 1.666652113199234e-1f + r * p;
    p = 4.999999403953552e-1f + r * p;
    *ni = (kc_vi)t - 0x4B400000;
    return r + (r * r) * p;
}

/* 2^n for integer n in [-126, 127], built from bits */
static inline kc_vf kc_vexp2i(kc_vi n) { return (kc_vf)(((kc_vu)n + 127u) << 23); }

static inline kc_vf kc_vexpf(kc_vf y) {
    /* below -104 e^y rounds to 0: such lanes run as y = 0 and are cleared at the end, so
     * that -inf (masked scores) costs no underflow, which is slow on x86; above 89 e^y
     * overflows to inf: clamp there. NaN goes through. */
    const kc_vi zero = y < -104.0f;
    y = (kc_vf)(~zero & (kc_vi)y);
    y = kc_vf_sel(y > 89.0f, kc_vf_splat(89.0f), y);
    kc_vi ni;
    const kc_vf p = kc_vexpf_em1_reduced(y, &ni);
    const kc_vi n1 = ni >> 1, n2 = ni - n1;
    const kc_vf s1 = kc_vexp2i(n1), s2 = kc_vexp2i(n2);
    return (kc_vf)(~zero & (kc_vi)((s1 + s1 * p) * s2));
}

/* e^y for y <= 0 (a softmax's shifted scores): kc_vexpf with 2^n applied once, 0 below -87.3,
 * where e^y leaves float's normal range (as kc_expf_nonpos), NaN for NaN */
static inline kc_vf kc_vexpf_nonpos(kc_vf y) {
    const kc_vi zero = y < -87.33f;
    kc_vi ni;
    const kc_vf p = kc_vexpf_em1_reduced((kc_vf)(~zero & (kc_vi)y), &ni);
    const kc_vf s = kc_vexp2i(ni);
    return (kc_vf)(~zero & (kc_vi)(s + s * p));
}

/* out[i] = e^in[i] for n values (in and out may be the same array) */
static inline void kc_vexpf_n(const float *in, float *out, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + KC_VF_LEN <= n; i += KC_VF_LEN) kc_vf_store(out + i, kc_vexpf(kc_vf_load(in + i)));
    if (i < n) kc_vf_store_part(out + i, kc_vexpf(kc_vf_load_part(in + i, n - i, 0.0f)), n - i);
}

#endif
