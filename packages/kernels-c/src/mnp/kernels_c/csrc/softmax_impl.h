/* Softmax-family loops for one element type, included by softmax.c with T, SFX, EXP (e^y over
 * the whole range, subnormal results included), EXP_N(in, out, n) (EXP of n values) and LOG
 * defined. The array is (outer, L, inner),
 * C-contiguous, reduced over L. A slice whose max is not finite (+inf, NaN, or only -inf) is
 * shifted by NaN, so that it is NaN throughout, as in PyTorch. */
#define FN(name) CAT(name, SFX)
#define NACC (256 / (int)sizeof(T))   /* 4 vectors of 64 bytes */
#define MAXSEL(v, m) (((v) > (m) || (v) != (v)) ? (v) : (m))

#include "rowmax_impl.h"

/* sum of a[i] (b == NULL) or of a[i] * b[i], independent accumulators so that it vectorizes */
static T FN(sm_sum)(const T *restrict a, const T *restrict b, Py_ssize_t n) {
    if (n < NACC) {
        T s = 0;
        if (b)
            for (Py_ssize_t i = 0; i < n; i++) s += a[i] * b[i];
        else
            for (Py_ssize_t i = 0; i < n; i++) s += a[i];
        return s;
    }
    T acc[NACC];
    for (int j = 0; j < NACC; j++) acc[j] = 0;
    Py_ssize_t i = 0;
    if (b) {
        for (; i + NACC <= n; i += NACC)
            for (int j = 0; j < NACC; j++) acc[j] += a[i + j] * b[i + j];
        for (int j = 0; i < n; i++, j++) acc[j] += a[i] * b[i];
    } else {
        for (; i + NACC <= n; i += NACC)
            for (int j = 0; j < NACC; j++) acc[j] += a[i + j];
        for (int j = 0; i < n; i++, j++) acc[j] += a[i];
    }
    for (int w = NACC / 2; w > 0; w /= 2)
        for (int j = 0; j < w; j++) acc[j] += acc[j + w];
    return acc[0];
}

/* the largest of x[0:L] (-inf if none) by branch-free selects, NaN left out: a NaN in a
 * slice makes its sum of exponentials, and so the whole slice, NaN */
static T FN(sm_max)(const T *restrict x, Py_ssize_t L) {
    T m0 = -(T)INFINITY, m1 = m0, m2 = m0, m3 = m0;
    Py_ssize_t c = 0;
    for (; c + 4 <= L; c += 4) {
        m0 = x[c] > m0 ? x[c] : m0;
        m1 = x[c + 1] > m1 ? x[c + 1] : m1;
        m2 = x[c + 2] > m2 ? x[c + 2] : m2;
        m3 = x[c + 3] > m3 ? x[c + 3] : m3;
    }
    for (; c < L; c++) m0 = x[c] > m0 ? x[c] : m0;
    m0 = m1 > m0 ? m1 : m0;
    m2 = m3 > m2 ? m3 : m2;
    return m2 > m0 ? m2 : m0;
}

/* one slice along the last axis: y = softmax(x) or log_softmax(x) */
static void FN(sm_row)(const T *restrict x, T *restrict y, Py_ssize_t L, int lg) {
    T m = L < 128 ? FN(sm_max)(x, L) : FN(row_max_)(x, L);
    if (!isfinite(m)) m = (T)NAN;
    for (Py_ssize_t c = 0; c < L; c++) y[c] = EXP(x[c] - m);
    T s = FN(sm_sum)(y, NULL, L);
    if (lg) {
        const T ls = LOG(s);
        for (Py_ssize_t c = 0; c < L; c++) y[c] = (x[c] - m) - ls;
    } else {
        const T inv = (T)1 / s;   /* e * (1/s) is e / s in every special case (0, inf, NaN) */
        for (Py_ssize_t c = 0; c < L; c++) y[c] *= inv;
    }
}

/* `rows` slices of a short last axis (L < SM_SMALL, rows * L <= SM_CHUNK): the max and the
 * shift per slice, then one vectorized exp over the whole block (a short slice alone would
 * run the scalar remainder of the loop), then the sums. Backward of log_softmax: lg = 2. */
static void FN(sm_rows_small)(const T *restrict x, const T *restrict g, T *restrict y,
                              Py_ssize_t L, Py_ssize_t rows, int lg) {
    T e[SM_CHUNK];
    const Py_ssize_t n = rows * L;
    if (lg == 2) {   /* x is log_softmax's output, g the gradient, y receives dx */
        EXP_N(x, e, n);
        for (Py_ssize_t r = 0; r < rows; r++) {
            const T *restrict gr = g + r * L, *restrict er = e + r * L;
            T *restrict dr = y + r * L, s = 0;
            for (Py_ssize_t c = 0; c < L; c++) s += gr[c];
            for (Py_ssize_t c = 0; c < L; c++) dr[c] = gr[c] - er[c] * s;
        }
        return;
    }
    for (Py_ssize_t r = 0; r < rows; r++) {
        const T *restrict xr = x + r * L;
        T *restrict yr = y + r * L, m = FN(sm_max)(xr, L);
        if (!isfinite(m)) m = (T)NAN;
        for (Py_ssize_t c = 0; c < L; c++) yr[c] = xr[c] - m;
    }
    EXP_N(y, e, n);
    for (Py_ssize_t r = 0; r < rows; r++) {
        const T *restrict er = e + r * L;
        T *restrict yr = y + r * L;
        double acc = 0;   /* in double: the sum's rounding error stays below float's */
        for (Py_ssize_t c = 0; c < L; c++) acc += er[c];
        const T s = (T)acc;
        if (lg) {
            const T ls = LOG(s);
            for (Py_ssize_t c = 0; c < L; c++) yr[c] = yr[c] - ls;
        } else {
            const T inv = (T)1 / s;
            for (Py_ssize_t c = 0; c < L; c++) yr[c] = er[c] * inv;
        }
    }
}

/* one slice of the backward: softmax's dx = g y - y sum(g y), log_softmax's g - e^y sum(g) */
static void FN(sm_row_bwd)(const T *restrict g, const T *restrict y, T *restrict dx,
                            Py_ssize_t L, int lg) {
    if (lg) {
        const T s = FN(sm_sum)(g, NULL, L);
        for (Py_ssize_t c = 0; c < L; c++) dx[c] = g[c] - EXP(y[c]) * s;
    } else {
        const T s = FN(sm_sum)(g, y, L);
        for (Py_ssize_t c = 0; c < L; c++) dx[c] = g[c] * y[c] - y[c] * s;
    }
}

/* nb (<= SM_BLOCK) neighbouring slices of a non-last axis: element l of slice j at l*inner+j */
static void FN(sm_cols)(const T *restrict x, T *restrict y, Py_ssize_t L, Py_ssize_t inner,
                         Py_ssize_t nb, int lg) {
    T m[SM_BLOCK], s[SM_BLOCK];
    for (Py_ssize_t j = 0; j < nb; j++) m[j] = x[j];
    for (Py_ssize_t l = 1; l < L; l++) {
        const T *restrict xl = x + l * inner;
        for (Py_ssize_t j = 0; j < nb; j++) m[j] = MAXSEL(xl[j], m[j]);
    }
    for (Py_ssize_t j = 0; j < nb; j++) {
        m[j] = isfinite(m[j]) ? m[j] : (T)NAN;
        s[j] = 0;
    }
    for (Py_ssize_t l = 0; l < L; l++) {
        const T *restrict xl = x + l * inner;
        T *restrict yl = y + l * inner;
        for (Py_ssize_t j = 0; j < nb; j++) {
            T e = EXP(xl[j] - m[j]);
            yl[j] = e;
            s[j] += e;
        }
    }
    for (Py_ssize_t j = 0; j < nb; j++) s[j] = lg ? LOG(s[j]) : (T)1 / s[j];
    for (Py_ssize_t l = 0; l < L; l++) {
        const T *restrict xl = x + l * inner;
        T *restrict yl = y + l * inner;
        if (lg)
            for (Py_ssize_t j = 0; j < nb; j++) yl[j] = (xl[j] - m[j]) - s[j];
        else
            for (Py_ssize_t j = 0; j < nb; j++) yl[j] *= s[j];
    }
}

static void FN(sm_cols_bwd)(const T *restrict g, const T *restrict y, T *restrict dx,
                             Py_ssize_t L, Py_ssize_t inner, Py_ssize_t nb, int lg) {
    T s[SM_BLOCK];
    for (Py_ssize_t j = 0; j < nb; j++) s[j] = 0;
    for (Py_ssize_t l = 0; l < L; l++) {
        const T *restrict gl = g + l * inner, *restrict yl = y + l * inner;
        if (lg)
            for (Py_ssize_t j = 0; j < nb; j++) s[j] += gl[j];
        else
            for (Py_ssize_t j = 0; j < nb; j++) s[j] += gl[j] * yl[j];
    }
    for (Py_ssize_t l = 0; l < L; l++) {
        const T *restrict gl = g + l * inner, *restrict yl = y + l * inner;
        T *restrict dl = dx + l * inner;
        if (lg)
            for (Py_ssize_t j = 0; j < nb; j++) dl[j] = gl[j] - EXP(yl[j]) * s[j];
        else
            for (Py_ssize_t j = 0; j < nb; j++) dl[j] = gl[j] * yl[j] - yl[j] * s[j];
    }
}

/* tasks [lo, hi) of a call: rows when inner == 1, else (outer, column block) pairs.
 * Forward: a = x, out = y. Backward: a = g, b = y, out = dx. */
static void FN(sm_range)(int kind, const T *a, const T *b, T *out, Py_ssize_t L,
                          Py_ssize_t inner, Py_ssize_t lo, Py_ssize_t hi) {
    const int lg = kind == SM_LOG || kind == SM_LOG_BWD, bwd = kind >= SM_BWD;
    if (inner == 1 && L < SM_SMALL && kind != SM_BWD) {
        const Py_ssize_t block = SM_CHUNK / L;
        for (Py_ssize_t r = lo; r < hi; r += block) {
            const Py_ssize_t rows = hi - r < block ? hi - r : block;
            if (bwd) FN(sm_rows_small)(b + r * L, a + r * L, out + r * L, L, rows, 2);
            else FN(sm_rows_small)(a + r * L, NULL, out + r * L, L, rows, lg);
        }
        return;
    }
    if (inner == 1) {
        for (Py_ssize_t r = lo; r < hi; r++) {
            if (bwd) FN(sm_row_bwd)(a + r * L, b + r * L, out + r * L, L, lg);
            else FN(sm_row)(a + r * L, out + r * L, L, lg);
        }
        return;
    }
    const Py_ssize_t nblk = (inner + SM_BLOCK - 1) / SM_BLOCK;
    for (Py_ssize_t k = lo; k < hi; k++) {
        Py_ssize_t o = k / nblk, j0 = (k % nblk) * SM_BLOCK;
        Py_ssize_t nb = inner - j0 < SM_BLOCK ? inner - j0 : SM_BLOCK;
        Py_ssize_t off = o * L * inner + j0;
        if (bwd) FN(sm_cols_bwd)(a + off, b + off, out + off, L, inner, nb, lg);
        else FN(sm_cols)(a + off, out + off, L, inner, nb, lg);
    }
}

#undef NACC
#undef MAXSEL
#undef FN
