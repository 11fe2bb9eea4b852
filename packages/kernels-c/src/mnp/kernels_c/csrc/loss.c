/* Softmax cross-entropy with label smoothing, forward and backward, float32/float64. Targets
 * that are not int64 class indices in [0, C) are declined. */
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
