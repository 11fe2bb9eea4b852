/* Fused layers: softmax cross-entropy with label smoothing, and batch normalization
 * (statistics over N and M of x (N, C, M)), forward and backward, float32/float64. */
#include "kc.h"
#include "kc_math.h"


/* ---- cross entropy -------------------------------------------------------------------- */
/* sum of a[0..n) in double, in 8 independent lanes (vectorised; exact enough for float32
 * rows of millions of classes, and the same whatever the thread count) */
#define CE_SUM(SFX, T)                                                                         \
    static double CAT(ce_sum, SFX)(const T *a, Py_ssize_t n) {                                 \
        double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                              \
        Py_ssize_t i = 0;                                                                      \
        for (; i + 8 <= n; i += 8)                                                             \
            for (int j = 0; j < 8; j++) acc[j] += (double)a[i + j];                           \
        for (int j = 0; i < n; i++, j++) acc[j] += (double)a[i];                               \
        return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7])); \
    }

#define CE_FUNCS(SFX, T, EXP)                                                                  \
    CE_SUM(SFX, T)                                                                              \
    static void CAT(ce_fwd, SFX)(const T *x, const int64_t *tg, Py_ssize_t N, Py_ssize_t C,    \
                                 double eps, T *loss, T *prob, int nt) {                        \
        _Pragma("omp parallel for num_threads(nt) if (nt > 1) schedule(static)")               \
        for (Py_ssize_t i = 0; i < N; i++) {                                                    \
            const T *xi = x + i * C;                                                            \
            T *pi = prob + i * C;                                                               \
            T m = xi[0];                                                                        \
            for (Py_ssize_t c = 1; c < C; c++) m = xi[c] > m ? xi[c] : m;                       \
            for (Py_ssize_t c = 0; c < C; c++) pi[c] = EXP(xi[c] - m);                          \
            const double s = CAT(ce_sum, SFX)(pi, C), sx = CAT(ce_sum, SFX)(xi, C);             \
            const T inv = (T)(1.0 / s);                                                         \
            for (Py_ssize_t c = 0; c < C; c++) pi[c] *= inv;                                    \
            const double lse = (double)m + log(s);                                              \
            const double nll = lse - (double)xi[tg[i]];                                         \
            loss[i] = (T)(eps > 0 ? (1 - eps) * nll + eps * (lse - sx / (double)C) : nll);      \
        }                                                                                       \
    }                                                                                           \
    static void CAT(ce_bwd, SFX)(const T *g, const T *p, const int64_t *tg, Py_ssize_t N,      \
                                 Py_ssize_t C, double eps, T *dx, int nt) {                     \
        const T off = (T)(eps / (double)C), on = (T)(1 - eps);                                  \
        _Pragma("omp parallel for num_threads(nt) if (nt > 1) schedule(static)")               \
        for (Py_ssize_t i = 0; i < N; i++) {                                                    \
            const T gi = g[i];                                                                  \
            for (Py_ssize_t c = 0; c < C; c++) dx[i * C + c] = gi * (p[i * C + c] - off);       \
            dx[i * C + tg[i]] -= gi * on;                                                       \
        }                                                                                       \
    }

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
CE_FUNCS(_f, float, kc_expf_nonpos)
CE_FUNCS(_d, double, exp)

/* targets as int64 (N,) with every value in [0, C); NULL with an error otherwise */
static PyArrayObject *ce_targets(const char *op, PyObject *o, Py_ssize_t N, Py_ssize_t C) {
    PyArrayObject *tg = (PyArrayObject *)PyArray_FROM_OTF(o, NPY_INT64, NPY_ARRAY_IN_ARRAY);
    if (!tg) return NULL;
    char s1[128];
    if (PyArray_NDIM(tg) != 1 || PyArray_DIM(tg, 0) != N) {
        kc_shape_error(op, "targets of shape %s do not match %zd samples",
                       kc_shape_str(tg, s1, 128), N);
        Py_DECREF(tg);
        return NULL;
    }
    const int64_t *t = PyArray_DATA(tg);
    for (Py_ssize_t i = 0; i < N; i++)
        if (t[i] < 0 || t[i] >= C) {
            kc_shape_error(op, "target %lld at sample %zd is out of range for %zd classes",
                           (long long)t[i], i, C);
            Py_DECREF(tg);
            return NULL;
        }
    return tg;
}

static int int_targets(PyObject *o) {
    return PyArray_Check(o) && PyArray_ISINTEGER((PyArrayObject *)o);
}

/* cross_entropy_forward(logits (N, C), targets (N,), label_smoothing) -> (losses, probs) */
KC_DECL(cross_entropy_forward) {
    const char *op = "cross_entropy_forward";
    KC_ENTER(op, 2, 3, 0)
    if (!int_targets(args[1])) KC_DECLINE;
    double eps = 0;
    if (nargs > 2 && args[2] != Py_None && kc_double(args[2], &eps)) return NULL;
    PyArrayObject *x0 = (PyArrayObject *)args[0];
    char s1[128];
    if (PyArray_NDIM(x0) != 2 || PyArray_DIM(x0, 1) == 0)
        return kc_shape_error(op, "expected logits of shape (N, C) with C > 0, got %s",
                              kc_shape_str(x0, s1, 128));
    Py_ssize_t N = PyArray_DIM(x0, 0), C = PyArray_DIM(x0, 1);
    PyArrayObject *tg = ce_targets(op, args[1], N, C);
    if (!tg) return NULL;
    PyArrayObject *x = kc_contig(args[0], t);
    npy_intp d1[1] = {N};
    PyArrayObject *loss = x ? (PyArrayObject *)PyArray_SimpleNew(1, d1, t) : NULL;
    PyArrayObject *prob = loss ? (PyArrayObject *)PyArray_SimpleNew(2, PyArray_DIMS(x0), t) : NULL;
    PyObject *res = NULL;
    if (prob) {
        KC_RUN(t, N * C, NN_THREADS_FROM, ce_fwd, PyArray_DATA(x), PyArray_DATA(tg), N, C, eps,
               PyArray_DATA(loss), PyArray_DATA(prob));
        res = PyTuple_Pack(2, (PyObject *)loss, (PyObject *)prob);
    }
    Py_DECREF(tg);
    Py_XDECREF(x);
    Py_XDECREF(loss);
    Py_XDECREF(prob);
    return res;
}

/* cross_entropy_backward(g (N,), probs (N, C), targets (N,), label_smoothing) -> dlogits */
KC_DECL(cross_entropy_backward) {
    const char *op = "cross_entropy_backward";
    KC_ENTER(op, 3, 4, 1)
    if (t != kc_ftype(args[0]) || !int_targets(args[2]))
        KC_DECLINE;
    double eps = 0;
    if (nargs > 3 && args[3] != Py_None && kc_double(args[3], &eps)) return NULL;
    PyArrayObject *g0 = (PyArrayObject *)args[0], *p0 = (PyArrayObject *)args[1];
    char s1[128], s2[128];
    if (PyArray_NDIM(p0) != 2 || PyArray_DIM(p0, 1) == 0 || PyArray_NDIM(g0) != 1 ||
        PyArray_DIM(g0, 0) != PyArray_DIM(p0, 0))
        return kc_shape_error(op, "expected g (N,) and probs (N, C), got shapes %s and %s",
                              kc_shape_str(g0, s1, 128), kc_shape_str(p0, s2, 128));
    Py_ssize_t N = PyArray_DIM(p0, 0), C = PyArray_DIM(p0, 1);
    PyArrayObject *tg = ce_targets(op, args[2], N, C);
    if (!tg) return NULL;
    PyArrayObject *g = kc_contig(args[0], t), *p = g ? kc_contig(args[1], t) : NULL;
    PyArrayObject *dx = p ? (PyArrayObject *)PyArray_SimpleNew(2, PyArray_DIMS(p0), t) : NULL;
    if (dx)
        KC_RUN(t, N * C, NN_THREADS_FROM, ce_bwd, PyArray_DATA(g), PyArray_DATA(p),
               PyArray_DATA(tg), N, C, eps, PyArray_DATA(dx));
    Py_DECREF(tg);
    Py_XDECREF(g);
    Py_XDECREF(p);
    return (PyObject *)dx;
}

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
