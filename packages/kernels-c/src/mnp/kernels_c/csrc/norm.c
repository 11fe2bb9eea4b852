/* Normalization, forward and backward, float32/float64: batch norm (statistics over N and M
 * of x (N, C, M)) and layer norm (per row of x (B, D)).
 *
 * Layer norm (rows in layernorm_impl.h): gamma and beta (D,) or None. The mean is taken of x
 * shifted by the row's first element, so a constant row gives exactly 0 (no cancellation),
 * and the variance in a second pass over x - mean. Rows are independent and split over
 * threads; the backward's dgamma/dbeta are summed per block of rows (blocks fixed by the
 * shape), then the blocks' partial sums added in block order, by columns: the same bits on
 * any number of threads. */
#include "kc.h"
#include "kc_math.h"
#include "kc_simd.h"
#include <string.h>
#include <math.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

/* ---- batch norm ------------------------------------------------------------------------ */
#define BN_FUNCS(SFX, T)                                                                       \
    static void CAT(bn_fwd, SFX)(const T *x, const T *gamma, const T *beta, Py_ssize_t N,      \
                                 Py_ssize_t C, Py_ssize_t M, double eps, T *y, T *mean,         \
                                 T *invstd, int nt) {                                           \
        _Pragma("omp parallel for num_threads(nt) if (nt > 1) schedule(static)")               \
        for (Py_ssize_t c = 0; c < C; c++) {                                                    \
            /* the mean of x shifted by its first element (a constant channel gives exactly   \
             * its value), the variance of x - mean, and y = (x - mean) scale + shift: no      \
             * cancellation when the mean is large against the spread */                      \
            const T x0 = isfinite(x[c * M]) ? x[c * M] : (T)0;                                  \
            double s = 0, q = 0;                                                                \
            for (Py_ssize_t n = 0; n < N; n++) {                                                \
                const T *xr = x + (n * C + c) * M;                                              \
                T a = 0;                                                                        \
                for (Py_ssize_t m = 0; m < M; m++) a += xr[m] - x0;                             \
                s += a;                                                                         \
            }                                                                                   \
            double mu = (double)x0 + s / (double)(N * M);                                       \
            for (Py_ssize_t n = 0; n < N; n++) {                                                \
                const T *xr = x + (n * C + c) * M;                                              \
                double a = 0;                                                                   \
                for (Py_ssize_t m = 0; m < M; m++) {                                            \
                    double d = (double)xr[m] - mu;                                              \
                    a += d * d;                                                                 \
                }                                                                               \
                q += a;                                                                         \
            }                                                                                   \
            double is = 1.0 / sqrt(q / (double)(N * M) + eps);                                  \
            const T mt = (T)mu;                                                                 \
            mean[c] = mt;                                                                       \
            invstd[c] = (T)is;                                                                  \
            T scale = (T)(is * (gamma ? (double)gamma[c] : 1.0));                               \
            T shift = beta ? beta[c] : (T)0;                                                    \
            for (Py_ssize_t n = 0; n < N; n++) {                                                \
                const T *xr = x + (n * C + c) * M;                                              \
                T *yr = y + (n * C + c) * M;                                                    \
                for (Py_ssize_t m = 0; m < M; m++) yr[m] = (xr[m] - mt) * scale + shift;        \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
    static void CAT(bn_bwd, SFX)(const T *g, const T *x, const T *gamma, const T *mean,        \
                                 const T *invstd, Py_ssize_t N, Py_ssize_t C, Py_ssize_t M,     \
                                 T *dx, T *dgamma, T *dbeta, int nt) {                          \
        _Pragma("omp parallel for num_threads(nt) if (nt > 1) schedule(static)")               \
        for (Py_ssize_t c = 0; c < C; c++) {                                                    \
            const T mu = mean[c], is = invstd[c];                                               \
            double sg = 0, sgx = 0;                                                             \
            for (Py_ssize_t n = 0; n < N; n++) {                                                \
                const T *gr = g + (n * C + c) * M, *xr = x + (n * C + c) * M;                   \
                T a = 0, b = 0;                                                                 \
                for (Py_ssize_t m = 0; m < M; m++) {                                            \
                    a += gr[m];                                                                 \
                    b += gr[m] * (xr[m] - mu);                                                  \
                }                                                                               \
                sg += a;                                                                        \
                sgx += b;                                                                       \
            }                                                                                   \
            double dgam = sgx * is, cnt = (double)(N * M);                                      \
            dbeta[c] = (T)sg;                                                                   \
            dgamma[c] = (T)dgam;                                                                \
            double k = (gamma ? (double)gamma[c] : 1.0) * is;                                   \
            T a1 = (T)k, a0 = (T)(-k * sg / cnt), a2 = (T)(-k * dgam * is / cnt);              \
            for (Py_ssize_t n = 0; n < N; n++) {                                                \
                const T *gr = g + (n * C + c) * M, *xr = x + (n * C + c) * M;                   \
                T *dr = dx + (n * C + c) * M;                                                   \
                for (Py_ssize_t m = 0; m < M; m++) dr[m] = a1 * gr[m] + a0 + a2 * (xr[m] - mu);  \
            }                                                                                   \
        }                                                                                       \
    }

BN_FUNCS(_f, float)
BN_FUNCS(_d, double)

/* x of ndim >= 2 seen as (N, C, M), M the product of the trailing dims */
static int bn_dims(const char *op, PyArrayObject *x, Py_ssize_t *N, Py_ssize_t *C, Py_ssize_t *M) {
    char s1[128];
    if (PyArray_NDIM(x) < 2) {
        kc_shape_error(op, "expected x of shape (N, C, M), got %s", kc_shape_str(x, s1, 128));
        return -1;
    }
    *N = PyArray_DIM(x, 0);
    *C = PyArray_DIM(x, 1);
    *M = 1;
    for (int i = 2; i < PyArray_NDIM(x); i++) *M *= PyArray_DIM(x, i);
    return 0;
}

/* threads for a batch-norm pass over (N, C, M): at most one per channel */
static int bn_threads(Py_ssize_t N, Py_ssize_t C, Py_ssize_t M) {
    int nt = kc_threads_for((double)N * C * M, NN_THREADS_FROM);
    return nt > C ? (C > 0 ? (int)C : 1) : nt;
}

/* a per-channel vector (C,) or None */
static int bn_vec(const char *op, const char *what, PyObject *o, int t, Py_ssize_t C,
                  PyArrayObject **out) {
    *out = NULL;
    if (o == Py_None) return 0;
    char s1[128];
    if (kc_ftype(o) != t) {
        kc_dtype_error(op, "%s must have the dtype of x", what);
        return -1;
    }
    if (PyArray_SIZE((PyArrayObject *)o) != C) {
        kc_shape_error(op, "%s of shape %s does not match %zd channels", what,
                       kc_shape_str((PyArrayObject *)o, s1, 128), C);
        return -1;
    }
    *out = kc_contig(o, t);
    return *out ? 0 : -1;
}

/* batch_norm_forward(x, gamma, beta, eps) -> (y, mean, invstd) */
KC_DECL(batch_norm_forward) {
    const char *op = "batch_norm_forward";
    KC_ENTER(op, 4, 4, 0)
    if ((args[1] != Py_None && kc_ftype(args[1]) != t) ||
        (args[2] != Py_None && kc_ftype(args[2]) != t))
        KC_DECLINE;
    double eps;
    if (kc_double(args[3], &eps)) return NULL;
    Py_ssize_t N, C, M;
    if (bn_dims(op, (PyArrayObject *)args[0], &N, &C, &M)) return NULL;
    if (N * M == 0) KC_DECLINE;
    PyArrayObject *gamma, *beta = NULL, *x = NULL, *y = NULL, *mean = NULL, *invstd = NULL;
    PyObject *res = NULL;
    if (bn_vec(op, "gamma", args[1], t, C, &gamma) || bn_vec(op, "beta", args[2], t, C, &beta))
        goto done;
    if (!(x = kc_contig(args[0], t))) goto done;
    npy_intp d1[1] = {C};
    if (!(y = (PyArrayObject *)PyArray_SimpleNew(PyArray_NDIM(x), PyArray_DIMS(x), t)) ||
        !(mean = (PyArrayObject *)PyArray_SimpleNew(1, d1, t)) ||
        !(invstd = (PyArrayObject *)PyArray_SimpleNew(1, d1, t)))
        goto done;
    {
        int nt = bn_threads(N, C, M);
        KC_NOGIL_BEGIN(N * C * M > 16384)
        KC_TYPED(t, bn_fwd, PyArray_DATA(x), gamma ? PyArray_DATA(gamma) : NULL,
                 beta ? PyArray_DATA(beta) : NULL, N, C, M, eps, PyArray_DATA(y),
                 PyArray_DATA(mean), PyArray_DATA(invstd), nt);
        KC_NOGIL_END
    }
    res = PyTuple_Pack(3, (PyObject *)y, (PyObject *)mean, (PyObject *)invstd);
done:
    Py_XDECREF(gamma); Py_XDECREF(beta); Py_XDECREF(x);
    Py_XDECREF(y); Py_XDECREF(mean); Py_XDECREF(invstd);
    return res;
}

/* batch_norm_backward(g, x, gamma, mean, invstd) -> (dx, dgamma, dbeta) */
KC_DECL(batch_norm_backward) {
    const char *op = "batch_norm_backward";
    KC_ENTER(op, 5, 5, 1)
    if (kc_ftype(args[0]) != t || (args[2] != Py_None && kc_ftype(args[2]) != t) ||
        kc_ftype(args[3]) != t || kc_ftype(args[4]) != t)
        KC_DECLINE;
    Py_ssize_t N, C, M;
    PyArrayObject *x0 = (PyArrayObject *)args[1], *g0 = (PyArrayObject *)args[0];
    if (bn_dims(op, x0, &N, &C, &M)) return NULL;
    char s1[128], s2[128];
    if (!kc_same_shape(g0, x0))
        return kc_shape_error(op, "gradient of shape %s does not match x of shape %s",
                              kc_shape_str(g0, s1, 128), kc_shape_str(x0, s2, 128));
    PyArrayObject *gamma = NULL, *mean = NULL, *invstd = NULL, *g = NULL, *x = NULL;
    PyArrayObject *dx = NULL, *dgamma = NULL, *dbeta = NULL;
    PyObject *res = NULL;
    if (bn_vec(op, "gamma", args[2], t, C, &gamma) || bn_vec(op, "mean", args[3], t, C, &mean) ||
        bn_vec(op, "invstd", args[4], t, C, &invstd))
        goto done;
    if (!(g = kc_contig(args[0], t)) || !(x = kc_contig(args[1], t))) goto done;
    npy_intp d1[1] = {C};
    if (!(dx = (PyArrayObject *)PyArray_SimpleNew(PyArray_NDIM(x), PyArray_DIMS(x), t)) ||
        !(dgamma = (PyArrayObject *)PyArray_SimpleNew(1, d1, t)) ||
        !(dbeta = (PyArrayObject *)PyArray_SimpleNew(1, d1, t)))
        goto done;
    {
        int nt = bn_threads(N, C, M);
        KC_NOGIL_BEGIN(N * C * M > 16384)
        KC_TYPED(t, bn_bwd, PyArray_DATA(g), PyArray_DATA(x), gamma ? PyArray_DATA(gamma) : NULL,
                 PyArray_DATA(mean), PyArray_DATA(invstd), N, C, M, PyArray_DATA(dx),
                 PyArray_DATA(dgamma), PyArray_DATA(dbeta), nt);
        KC_NOGIL_END
    }
    /* without gamma (no affine transform) there are no parameter gradients */
    res = PyTuple_Pack(3, (PyObject *)dx, gamma ? (PyObject *)dgamma : Py_None,
                       gamma ? (PyObject *)dbeta : Py_None);
done:
    Py_XDECREF(gamma); Py_XDECREF(mean); Py_XDECREF(invstd); Py_XDECREF(g); Py_XDECREF(x);
    Py_XDECREF(dx); Py_XDECREF(dgamma); Py_XDECREF(dbeta);
    return res;
}

#define T float
#define SFX _f
#define SQRT sqrtf
#include "layernorm_impl.h"
#undef T
#undef SFX
#undef SQRT

#define T double
#define SFX _d
#define SQRT sqrt
#include "layernorm_impl.h"
#undef T
#undef SFX
#undef SQRT

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
        /* rows go in pairs (0-1, 2-3, ...), the same on any number of threads */
        const Py_ssize_t pairs = (B + 1) / 2;
        int nt = kc_threads_for((double)B * D, LN_THREADS_FROM);
        if (nt > pairs) nt = (int)pairs;
        const void *px = PyArray_DATA(x), *pg = gamma ? PyArray_DATA(gamma) : NULL;
        const void *pb = beta ? PyArray_DATA(beta) : NULL;
        void *py = PyArray_DATA(y), *pm = PyArray_DATA(mean), *pi = PyArray_DATA(inv);
        KC_NOGIL_BEGIN(B * D > 16384)
        KC_SPLIT(nt, pairs, lo, hi,
                 KC_TYPED(t, ln_fwd, px, pg, pb, D, eps, py, pm, pi, 2 * lo, 2 * hi < B ? 2 * hi : B));
        KC_NOGIL_END
    }
    res = PyTuple_Pack(3, (PyObject *)y, (PyObject *)mean, (PyObject *)inv);
done:
    Py_XDECREF(x); Py_XDECREF(gamma); Py_XDECREF(beta);
    Py_XDECREF(y); Py_XDECREF(mean); Py_XDECREF(inv);
    return res;
}

/* rows per block of the backward's dgamma/dbeta partial sums: about LN_CHUNK elements, at
 * most LN_BLOCKS blocks (from the shape alone, so the sums' order is the same on any number
 * of threads) */
static Py_ssize_t ln_block_rows(Py_ssize_t B, Py_ssize_t D) {
    Py_ssize_t rows = D < LN_CHUNK ? LN_CHUNK / D : 1;
    if ((B + rows - 1) / rows > LN_BLOCKS) rows = (B + LN_BLOCKS - 1) / LN_BLOCKS;
    return rows;
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
        const Py_ssize_t rows = ln_block_rows(B, D), nb = (B + rows - 1) / rows;
        int nt = kc_threads_for((double)B * D, LN_THREADS_FROM);
        if (nt > nb) nt = (int)nb;
        const size_t isz = (size_t)PyArray_ITEMSIZE(x);
        if (gamma) { /* dgamma and dbeta partial sums (2 x D) per block */
            part = kc_scratch_take((size_t)nb * 2 * (size_t)D * isz, &got);
            if (!part) {
                PyErr_NoMemory();
                goto done;
            }
        }
        const void *pg = PyArray_DATA(g), *px = PyArray_DATA(x);
        const void *pgam = gamma ? PyArray_DATA(gamma) : NULL;
        const void *pm = PyArray_DATA(mean), *pi = PyArray_DATA(inv);
        void *pdx = PyArray_DATA(dx);
        void *pdg = dgamma ? PyArray_DATA(dgamma) : NULL, *pdb = dbeta ? PyArray_DATA(dbeta) : NULL;
        /* columns are shared out in whole cache lines */
        const Py_ssize_t line = 64 / (Py_ssize_t)isz, lines = (D + line - 1) / line;
        KC_NOGIL_BEGIN(B * D > 16384)
        if (nt == 1) {
            KC_TYPED(t, ln_bwd_blocks, pg, px, pgam, pm, pi, B, D, rows, pdx, part, 0, nb);
            if (gamma) KC_TYPED(t, ln_bwd_cols, part, nb, D, pdg, pdb, 0, D);
        } else { /* blocks of rows, then (one region: one wake-up) dgamma/dbeta by columns */
#pragma omp parallel num_threads(nt)
            {
                const int tid = kc_tid(), team = kc_team();
                KC_TYPED(t, ln_bwd_blocks, pg, px, pgam, pm, pi, B, D, rows, pdx, part,
                         nb * tid / team, nb * (tid + 1) / team);
                if (gamma) {
#pragma omp barrier
                    Py_ssize_t lo = lines * tid / team * line, hi = lines * (tid + 1) / team * line;
                    KC_TYPED(t, ln_bwd_cols, part, nb, D, pdg, pdb, lo < D ? lo : D,
                             hi < D ? hi : D);
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
