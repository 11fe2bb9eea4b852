/* Layer normalization of x (B, D) per row, forward and backward, float32/float64; gamma and
 * beta (D,) or None. The mean is taken of x shifted by the row's first element, so a constant
 * row gives exactly 0 (no cancellation), and the variance in a second pass over x - mean.
 * Rows are independent: both passes split them over threads; on several threads dgamma/dbeta
 * are summed afterwards by columns, each over the rows in order, as on one thread. */
#include "kc.h"
#include <math.h>


#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#define LN_FUNCS(SFX, T, SQRT)                                                                 \
    /* sum of a[i] - s (b NULL) or of a[i] * b[i]: independent accumulators vectorize */        \
    static T CAT(ln_sum, SFX)(const T *restrict a, const T *restrict b, Py_ssize_t n, T s) {    \
        enum { NA = 256 / (int)sizeof(T) };                                                     \
        T acc[NA];                                                                              \
        for (int j = 0; j < NA; j++) acc[j] = 0;                                                \
        Py_ssize_t i = 0;                                                                       \
        if (b) {                                                                                \
            for (; i + NA <= n; i += NA)                                                        \
                for (int j = 0; j < NA; j++) acc[j] += a[i + j] * b[i + j];                     \
            for (int j = 0; i < n; i++, j++) acc[j] += a[i] * b[i];                             \
        } else {                                                                                \
            for (; i + NA <= n; i += NA)                                                        \
                for (int j = 0; j < NA; j++) acc[j] += a[i + j] - s;                            \
            for (int j = 0; i < n; i++, j++) acc[j] += a[i] - s;                                \
        }                                                                                       \
        for (int w = NA / 2; w > 0; w /= 2)                                                     \
            for (int j = 0; j < w; j++) acc[j] += acc[j + w];                                   \
        return acc[0];                                                                          \
    }                                                                                           \
    /* rows [lo, hi): y = (x - mean) * invstd (* gamma) (+ beta) */                             \
    static void CAT(ln_fwd, SFX)(const T *x, const T *gamma, const T *beta, Py_ssize_t D,      \
                                 double eps, T *y, T *mean, T *invstd, Py_ssize_t lo,           \
                                 Py_ssize_t hi) {                                               \
        for (Py_ssize_t r = lo; r < hi; r++) {                                                  \
            const T *restrict xr = x + r * D;                                                   \
            T *restrict yr = y + r * D;                                                         \
            const T s0 = isfinite(xr[0]) ? xr[0] : (T)0;                                        \
            const T mu = s0 + CAT(ln_sum, SFX)(xr, NULL, D, s0) / (T)D;                         \
            for (Py_ssize_t d = 0; d < D; d++) yr[d] = xr[d] - mu;                              \
            const T var = CAT(ln_sum, SFX)(yr, yr, D, 0) / (T)D;                                \
            const T is = (T)1 / SQRT(var + (T)eps);                                             \
            mean[r] = mu;                                                                       \
            invstd[r] = is;                                                                     \
            if (gamma && beta)                                                                  \
                for (Py_ssize_t d = 0; d < D; d++) yr[d] = yr[d] * is * gamma[d] + beta[d];     \
            else if (gamma)                                                                     \
                for (Py_ssize_t d = 0; d < D; d++) yr[d] = yr[d] * is * gamma[d];               \
            else if (beta)                                                                      \
                for (Py_ssize_t d = 0; d < D; d++) yr[d] = yr[d] * is + beta[d];                \
            else                                                                                \
                for (Py_ssize_t d = 0; d < D; d++) yr[d] *= is;                                 \
        }                                                                                       \
    }                                                                                           \
    /* rows [lo, hi) of dx; with gamma and dg, their dgamma/dbeta added to dg/db (in row       \
     * order). xh is a D-element scratch row. */                                                \
    static void CAT(ln_bwd, SFX)(const T *g, const T *x, const T *gamma, const T *mean,        \
                                 const T *invstd, Py_ssize_t D, T *dx, T *dg, T *db, T *xh,     \
                                 Py_ssize_t lo, Py_ssize_t hi) {                                \
        for (Py_ssize_t r = lo; r < hi; r++) {                                                  \
            const T *restrict gr = g + r * D, *restrict xr = x + r * D;                         \
            T *restrict dr = dx + r * D, *restrict h = xh;                                      \
            const T mu = mean[r], is = invstd[r];                                               \
            for (Py_ssize_t d = 0; d < D; d++) h[d] = (xr[d] - mu) * is;                        \
            if (gamma && dg) {                                                                  \
                for (Py_ssize_t d = 0; d < D; d++) {                                            \
                    dg[d] += gr[d] * h[d];                                                      \
                    db[d] += gr[d];                                                             \
                    dr[d] = gr[d] * gamma[d];                                                   \
                }                                                                               \
            } else if (gamma) {                                                                 \
                for (Py_ssize_t d = 0; d < D; d++) dr[d] = gr[d] * gamma[d];                    \
            } else {                                                                            \
                for (Py_ssize_t d = 0; d < D; d++) dr[d] = gr[d];                               \
            }                                                                                   \
            const T a = CAT(ln_sum, SFX)(dr, NULL, D, 0) / (T)D;                                \
            const T b = CAT(ln_sum, SFX)(dr, h, D, 0) / (T)D;                                   \
            for (Py_ssize_t d = 0; d < D; d++) dr[d] = (dr[d] - a - h[d] * b) * is;             \
        }                                                                                       \
    }                                                                                           \
    /* columns [lo, hi) of dgamma/dbeta: each summed over all rows in row order, the same      \
     * operations as ln_bwd's on one thread */                                                  \
    static void CAT(ln_cols, SFX)(const T *g, const T *x, const T *mean, const T *invstd,      \
                                  Py_ssize_t B, Py_ssize_t D, T *dg, T *db, Py_ssize_t lo,      \
                                  Py_ssize_t hi) {                                              \
        for (Py_ssize_t d = lo; d < hi; d++) dg[d] = db[d] = 0;                                 \
        for (Py_ssize_t r = 0; r < B; r++) {                                                    \
            const T *restrict gr = g + r * D, *restrict xr = x + r * D;                         \
            const T mu = mean[r], is = invstd[r];                                               \
            for (Py_ssize_t d = lo; d < hi; d++) {                                              \
                const T h = (xr[d] - mu) * is;                                                  \
                dg[d] += gr[d] * h;                                                             \
                db[d] += gr[d];                                                                 \
            }                                                                                   \
        }                                                                                       \
    }

LN_FUNCS(_f, float, sqrtf)
LN_FUNCS(_d, double, sqrt)

/* x (B, D) with B, D > 0, or -1 (the reference takes everything else) */
static int ln_dims(PyArrayObject *x, Py_ssize_t *B, Py_ssize_t *D) {
    if (PyArray_NDIM(x) != 2 || PyArray_DIM(x, 0) == 0 || PyArray_DIM(x, 1) == 0) return -1;
    *B = PyArray_DIM(x, 0);
    *D = PyArray_DIM(x, 1);
    return 0;
}

/* None, or a 1-d array of type t and n elements (else the call falls back) */
static int ln_vec_ok(PyObject *o, int t, Py_ssize_t n) {
    return o == Py_None || (kc_ftype(o) == t && PyArray_NDIM((PyArrayObject *)o) == 1 &&
                            PyArray_DIM((PyArrayObject *)o, 0) == n);
}

static PyArrayObject *ln_vec(PyObject *o, int t) {
    return o == Py_None ? NULL : kc_contig(o, t);
}

/* layer_norm_forward(x, gamma, beta, eps) -> (y, mean, invstd) */
KC_DECL(layer_norm_forward) {
    const char *op = "layer_norm_forward";
    KC_ENTER(op, 4, 4, 0)
    Py_ssize_t B, D;
    if (ln_dims((PyArrayObject *)args[0], &B, &D) || !ln_vec_ok(args[1], t, D) ||
        !ln_vec_ok(args[2], t, D))
        KC_DECLINE;
    double eps;
    if (kc_double(args[3], &eps)) return NULL;
    PyArrayObject *x = NULL, *gamma = NULL, *beta = NULL, *y = NULL, *mean = NULL, *inv = NULL;
    PyObject *res = NULL;
    if (!(x = kc_contig(args[0], t))) goto done;
    if ((args[1] != Py_None && !(gamma = ln_vec(args[1], t))) ||
        (args[2] != Py_None && !(beta = ln_vec(args[2], t))))
        goto done;
    npy_intp d1[1] = {B};
    if (!(y = (PyArrayObject *)PyArray_SimpleNew(2, PyArray_DIMS(x), t)) ||
        !(mean = (PyArrayObject *)PyArray_SimpleNew(1, d1, t)) ||
        !(inv = (PyArrayObject *)PyArray_SimpleNew(1, d1, t)))
        goto done;
    {
        int nt = kc_threads_for((double)B * D, LN_THREADS_FROM);
        if (nt > B) nt = (int)B;
        const void *px = PyArray_DATA(x), *pg = gamma ? PyArray_DATA(gamma) : NULL;
        const void *pb = beta ? PyArray_DATA(beta) : NULL;
        void *py = PyArray_DATA(y), *pm = PyArray_DATA(mean), *pi = PyArray_DATA(inv);
        KC_NOGIL_BEGIN(B * D > 16384)
        KC_SPLIT(nt, B, lo, hi, KC_TYPED(t, ln_fwd, px, pg, pb, D, eps, py, pm, pi, lo, hi));
        KC_NOGIL_END
    }
    res = PyTuple_Pack(3, (PyObject *)y, (PyObject *)mean, (PyObject *)inv);
done:
    Py_XDECREF(x); Py_XDECREF(gamma); Py_XDECREF(beta);
    Py_XDECREF(y); Py_XDECREF(mean); Py_XDECREF(inv);
    return res;
}

/* rows [lo, hi) of the backward on this thread, with its own x-hat row in `xh` (nt x D);
 * dg/db (zeroed by the caller) only on one thread */
static void ln_bwd_share(int t, int nt, const void *g, const void *x, const void *gamma,
                         const void *mean, const void *inv, Py_ssize_t D, void *dx, void *dg,
                         void *db, void *xh, Py_ssize_t lo, Py_ssize_t hi) {
    const size_t isz = t == NPY_FLOAT ? sizeof(float) : sizeof(double);
    char *mine = (char *)xh + (size_t)(nt > 1 ? kc_tid() : 0) * (size_t)D * isz;
    KC_TYPED(t, ln_bwd, g, x, gamma, mean, inv, D, dx, dg, db, (void *)mine, lo, hi);
}

/* layer_norm_backward(g, x, gamma, mean, invstd) -> (dx, dgamma, dbeta) */
KC_DECL(layer_norm_backward) {
    const char *op = "layer_norm_backward";
    KC_ENTER(op, 5, 5, 1)
    Py_ssize_t B, D;
    PyArrayObject *g0 = (PyArrayObject *)args[0], *x0 = (PyArrayObject *)args[1];
    if (kc_ftype(args[0]) != t || ln_dims(x0, &B, &D) || !kc_same_shape(g0, x0) ||
        !ln_vec_ok(args[2], t, D) || args[3] == Py_None || !ln_vec_ok(args[3], t, B) ||
        args[4] == Py_None || !ln_vec_ok(args[4], t, B))
        KC_DECLINE;
    PyArrayObject *g = NULL, *x = NULL, *gamma = NULL, *mean = NULL, *inv = NULL;
    PyArrayObject *dx = NULL, *dgamma = NULL, *dbeta = NULL;
    PyObject *res = NULL;
    void *part = NULL;
    size_t got = 0;
    if (!(g = kc_contig(args[0], t)) || !(x = kc_contig(args[1], t)) ||
        (args[2] != Py_None && !(gamma = ln_vec(args[2], t))) ||
        !(mean = kc_contig(args[3], t)) || !(inv = kc_contig(args[4], t)))
        goto done;
    npy_intp d1[1] = {D};
    if (!(dx = (PyArrayObject *)PyArray_SimpleNew(2, PyArray_DIMS(x), t)) ||
        (gamma && (!(dgamma = (PyArrayObject *)PyArray_SimpleNew(1, d1, t)) ||
                   !(dbeta = (PyArrayObject *)PyArray_SimpleNew(1, d1, t)))))
        goto done;
    {
        int nt = kc_threads_for((double)B * D, LN_THREADS_FROM);
        if (nt > B) nt = (int)B;
        const size_t isz = (size_t)PyArray_ITEMSIZE(x);
        /* an x-hat row (D) per thread */
        part = kc_scratch_take((size_t)nt * (size_t)D * isz, &got);
        if (!part) {
            PyErr_NoMemory();
            goto done;
        }
        const void *pg = PyArray_DATA(g), *px = PyArray_DATA(x);
        const void *pgam = gamma ? PyArray_DATA(gamma) : NULL;
        const void *pm = PyArray_DATA(mean), *pi = PyArray_DATA(inv);
        void *pdx = PyArray_DATA(dx);
        void *pdg = dgamma ? PyArray_DATA(dgamma) : NULL, *pdb = dbeta ? PyArray_DATA(dbeta) : NULL;
        KC_NOGIL_BEGIN(B * D > 16384)
        if (nt == 1) { /* one pass: dx and, row by row, dgamma/dbeta */
            if (gamma) {
                memset(pdg, 0, (size_t)D * isz);
                memset(pdb, 0, (size_t)D * isz);
            }
            ln_bwd_share(t, 1, pg, px, pgam, pm, pi, D, pdx, pdg, pdb, part, 0, B);
        } else { /* dx by rows, then (one region: one wake-up) dgamma/dbeta by columns */
#pragma omp parallel num_threads(nt)
            {
                const int tid = kc_tid(), team = kc_team();
                ln_bwd_share(t, nt, pg, px, pgam, pm, pi, D, pdx, NULL, NULL, part,
                             B * tid / team, B * (tid + 1) / team);
                if (gamma) {
#pragma omp barrier
                    KC_TYPED(t, ln_cols, pg, px, pm, pi, B, D, pdg, pdb, D * tid / team,
                             D * (tid + 1) / team);
                }
            }
        }
        KC_NOGIL_END
    }
    /* without gamma (no affine transform) there are no parameter gradients */
    res = PyTuple_Pack(3, (PyObject *)dx, gamma ? (PyObject *)dgamma : Py_None,
                       gamma ? (PyObject *)dbeta : Py_None);
done:
    if (part) kc_scratch_give(part, got);
    Py_XDECREF(g); Py_XDECREF(x); Py_XDECREF(gamma); Py_XDECREF(mean); Py_XDECREF(inv);
    Py_XDECREF(dx); Py_XDECREF(dgamma); Py_XDECREF(dbeta);
    return res;
}
