/* Max and average pooling over NCHW planes, forward and backward (float32/float64).
 * Max: padding acts as -inf, the first maximum of a window wins, the last NaN wins; indices are
 * flat positions in each input (H, W) plane. Average: padding counted (PyTorch's default). */
#include "kc.h"
#include "conv.h"


/* the input span [*a, *b) of window o (stride S, padding P, size K), clipped to [0, n) */
static inline void pool_span(Py_ssize_t o, Py_ssize_t S, Py_ssize_t P, Py_ssize_t K, Py_ssize_t n,
                             Py_ssize_t *a, Py_ssize_t *b) {
    Py_ssize_t lo = o * S - P, hi = lo + K;
    *a = lo < 0 ? 0 : lo;
    *b = hi > n ? n : hi;
}

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#define POOL_FUNCS(SFX, T)                                                                      \
    /* one output row: every window position (h, j) is applied to all ow at once, in window    \
     * order, so the first maximum wins as in a plain scan; vectorizes over ow */               \
    static void CAT(maxpool_row, SFX)(const T *restrict xp, Py_ssize_t H, Py_ssize_t W,        \
                                      Py_ssize_t OW, Py_ssize_t KH, Py_ssize_t KW,              \
                                      Py_ssize_t SH, Py_ssize_t SW, Py_ssize_t PH,              \
                                      Py_ssize_t PW, Py_ssize_t oh, T *restrict m,              \
                                      int64_t *restrict at) {                                   \
        Py_ssize_t h0, h1;                                                                      \
        pool_span(oh, SH, PH, KH, H, &h0, &h1);                                                 \
        for (Py_ssize_t ow = 0; ow < OW; ow++) {                                                \
            Py_ssize_t w0 = ow * SW - PW;                                                       \
            m[ow] = (T)-INFINITY;                                                               \
            at[ow] = h0 * W + (w0 < 0 ? 0 : w0);                                                \
        }                                                                                       \
        for (Py_ssize_t h = h0; h < h1; h++)                                                    \
            for (Py_ssize_t j = 0; j < KW; j++) {                                               \
                Py_ssize_t off = j - PW, ow0, ow1; /* iw = ow * SW + off */                     \
                kc_inside_cols(off, SW, W, OW, &ow0, &ow1);                                     \
                const T *restrict xr = xp + h * W + off;                                        \
                const int64_t base = h * W + off;                                               \
                for (Py_ssize_t ow = ow0; ow < ow1; ow++) {                                     \
                    T v = xr[ow * SW], cur = m[ow];                                             \
                    int take = (v > cur) | (v != v); /* the last NaN wins, as in PyTorch */     \
                    m[ow] = take ? v : cur;                                                     \
                    at[ow] = take ? base + ow * SW : at[ow];                                    \
                }                                                                               \
            }                                                                                   \
    }                                                                                           \
    static void CAT(maxpool_fwd, SFX)(const T *x, const conv_geom *G, T *y, int64_t *idx,      \
                                      int nt) {                                                 \
        const Py_ssize_t planes = G->N * G->C, H = G->H, W = G->W, OH = G->OH, OW = G->OW;      \
        const Py_ssize_t KH = G->KH, KW = G->KW, SH = G->SH, SW = G->SW, PH = G->PH, PW = G->PW; \
        _Pragma("omp parallel num_threads(nt) if (nt > 1)") {                                   \
            _Pragma("omp for schedule(static)")                                                 \
            for (Py_ssize_t pl = 0; pl < planes; pl++)                                          \
                for (Py_ssize_t oh = 0; oh < OH; oh++)                                          \
                    CAT(maxpool_row, SFX)(x + pl * H * W, H, W, OW, KH, KW, SH, SW, PH, PW, oh, \
                                          y + (pl * OH + oh) * OW, idx + (pl * OH + oh) * OW);  \
        }                                                                                       \
    }                                                                                           \
    static void CAT(maxpool_bwd, SFX)(const T *g, const int64_t *idx, Py_ssize_t planes,       \
                                      Py_ssize_t OHW, Py_ssize_t HW, T *dx, int nt) {           \
        _Pragma("omp parallel for num_threads(nt) if (nt > 1) schedule(static)")               \
        for (Py_ssize_t pl = 0; pl < planes; pl++) {                                            \
            T *dp = dx + pl * HW;                                                               \
            memset(dp, 0, HW * sizeof(T));                                                      \
            for (Py_ssize_t k = 0; k < OHW; k++) dp[idx[pl * OHW + k]] += g[pl * OHW + k];      \
        }                                                                                       \
    }                                                                                           \
    static void CAT(avgpool_fwd, SFX)(const T *x, const conv_geom *G, T *y, int nt) {          \
        Py_ssize_t planes = G->N * G->C, HW = G->H * G->W, OHW = G->OH * G->OW;                 \
        const T scale = (T)1 / (T)(G->KH * G->KW);                                              \
        _Pragma("omp parallel for num_threads(nt) if (nt > 1) schedule(static)")               \
        for (Py_ssize_t pl = 0; pl < planes; pl++) {                                            \
            const T *xp = x + pl * HW;                                                          \
            T *yp = y + pl * OHW;                                                               \
            for (Py_ssize_t oh = 0; oh < G->OH; oh++) {                                         \
                Py_ssize_t h0, h1, w0, w1;                                                      \
                pool_span(oh, G->SH, G->PH, G->KH, G->H, &h0, &h1);                             \
                for (Py_ssize_t ow = 0; ow < G->OW; ow++) {                                     \
                    pool_span(ow, G->SW, G->PW, G->KW, G->W, &w0, &w1);                         \
                    T s = 0;                                                                    \
                    for (Py_ssize_t h = h0; h < h1; h++)                                        \
                        for (Py_ssize_t w = w0; w < w1; w++) s += xp[h * G->W + w];             \
                    yp[oh * G->OW + ow] = s * scale;                                            \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
    static void CAT(avgpool_bwd, SFX)(const T *g, const conv_geom *G, T *dx, int nt) {         \
        Py_ssize_t planes = G->N * G->C, HW = G->H * G->W, OHW = G->OH * G->OW;                 \
        const T scale = (T)1 / (T)(G->KH * G->KW);                                              \
        _Pragma("omp parallel for num_threads(nt) if (nt > 1) schedule(static)")               \
        for (Py_ssize_t pl = 0; pl < planes; pl++) {                                            \
            T *dp = dx + pl * HW;                                                               \
            const T *gp = g + pl * OHW;                                                         \
            memset(dp, 0, HW * sizeof(T));                                                      \
            for (Py_ssize_t oh = 0; oh < G->OH; oh++) {                                         \
                Py_ssize_t h0, h1, w0, w1;                                                      \
                pool_span(oh, G->SH, G->PH, G->KH, G->H, &h0, &h1);                             \
                for (Py_ssize_t ow = 0; ow < G->OW; ow++) {                                     \
                    pool_span(ow, G->SW, G->PW, G->KW, G->W, &w0, &w1);                         \
                    T v = gp[oh * G->OW + ow] * scale;                                          \
                    for (Py_ssize_t h = h0; h < h1; h++)                                        \
                        for (Py_ssize_t w = w0; w < w1; w++) dp[h * G->W + w] += v;             \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }

POOL_FUNCS(_f, float)
POOL_FUNCS(_d, double)

/* the window (kernel_size, stride (None: kernel_size), padding) over a shape (N, C, H, W) in G */
static int pool_window(const char *op, PyObject *ks, PyObject *st, PyObject *pd, conv_geom *G) {
    return kc_conv_params(op, ks, st == Py_None ? ks : st, pd, NULL, G);
}

/* max_pool2d_forward(x, kernel_size, stride, padding) -> (y, indices) and
 * avg_pool2d_forward(x, kernel_size, stride, padding) -> y */
static PyObject *pool_forward(const char *op, int is_max, PyObject *const *args,
                              Py_ssize_t nargs) {
    KC_ENTER(op, 4, 4, 0)
    PyArrayObject *x0 = (PyArrayObject *)args[0];
    if (kc_check_nchw(op, x0)) return NULL;
    conv_geom G = {PyArray_DIM(x0, 0), PyArray_DIM(x0, 1), PyArray_DIM(x0, 2), PyArray_DIM(x0, 3)};
    if (pool_window(op, args[1], args[2], args[3], &G)) return NULL;
    if (2 * G.PH > G.KH || 2 * G.PW > G.KW) /* windows wholly in padding */
        KC_DECLINE;
    PyArrayObject *x = kc_contig(args[0], t);
    if (!x) return NULL;
    PyArrayObject *y = kc_new4(G.N, G.C, G.OH, G.OW, t), *idx = NULL;
    PyObject *res = NULL;
    if (y && is_max && (idx = kc_new4(G.N, G.C, G.OH, G.OW, NPY_INT64))) {
        KC_RUN(t, PyArray_SIZE(y) * G.KH * G.KW, POOL_THREADS_FROM, maxpool_fwd, PyArray_DATA(x),
               &G, PyArray_DATA(y), PyArray_DATA(idx));
        res = PyTuple_Pack(2, (PyObject *)y, (PyObject *)idx);
    } else if (y && !is_max) {
        KC_RUN(t, PyArray_SIZE(y) * G.KH * G.KW, POOL_THREADS_FROM, avgpool_fwd, PyArray_DATA(x),
               &G, PyArray_DATA(y));
        res = (PyObject *)y;
        Py_INCREF(res);
    }
    Py_DECREF(x);
    Py_XDECREF(y);
    Py_XDECREF(idx);
    return res;
}

KC_DECL(max_pool2d_forward) { return pool_forward("max_pool2d_forward", 1, args, nargs); }
KC_DECL(avg_pool2d_forward) { return pool_forward("avg_pool2d_forward", 0, args, nargs); }

KC_DECL(max_pool2d_backward) {
    const char *op = "max_pool2d_backward";
    KC_ENTER(op, 3, 3, 0)
    if (!PyArray_Check(args[1])) KC_DECLINE;
    Py_ssize_t xs[4];
    if (kc_shape4(op, args[2], xs)) return NULL;
    PyArrayObject *g0 = (PyArrayObject *)args[0], *i0 = (PyArrayObject *)args[1];
    char s1[128], s2[128];
    if (PyArray_NDIM(g0) != 4 || PyArray_NDIM(i0) != 4 ||
        !PyArray_CompareLists(PyArray_DIMS(g0), PyArray_DIMS(i0), 4) ||
        PyArray_DIM(g0, 0) != xs[0] || PyArray_DIM(g0, 1) != xs[1])
        return kc_shape_error(op, "gradient %s and indices %s must both be (N, C, OH, OW) with N, "
                              "C of x_shape (%zd, %zd, %zd, %zd)", kc_shape_str(g0, s1, 128),
                              kc_shape_str(i0, s2, 128), xs[0], xs[1], xs[2], xs[3]);
    if (!PyArray_ISINTEGER(i0)) return kc_dtype_error(op, "indices must be integers");
    PyArrayObject *g = kc_contig(args[0], t);
    PyArrayObject *idx = g ? (PyArrayObject *)PyArray_FROM_OTF(args[1], NPY_INT64, NPY_ARRAY_IN_ARRAY) : NULL;
    PyArrayObject *dx = NULL;
    if (idx) {
        const int64_t *ip = PyArray_DATA(idx);
        Py_ssize_t n = PyArray_SIZE(idx), HW = xs[2] * xs[3];
        for (Py_ssize_t k = 0; k < n; k++)
            if (ip[k] < 0 || ip[k] >= HW) {
                kc_shape_error(op, "index %lld is outside the (%zd, %zd) input plane",
                               (long long)ip[k], xs[2], xs[3]);
                goto done;
            }
        dx = kc_new4(xs[0], xs[1], xs[2], xs[3], t);
        if (dx) {
            Py_ssize_t planes = xs[0] * xs[1], OHW = PyArray_DIM(g, 2) * PyArray_DIM(g, 3);
            int nt = kc_threads_for((double)(n + planes * HW), POOL_THREADS_FROM);
            KC_NOGIL_BEGIN(n > 16384)
            KC_TYPED(t, maxpool_bwd, PyArray_DATA(g), ip, planes, OHW, HW, PyArray_DATA(dx), nt);
            KC_NOGIL_END
        }
    }
done:
    Py_XDECREF(g);
    Py_XDECREF(idx);
    return (PyObject *)dx;
}

KC_DECL(avg_pool2d_backward) {
    const char *op = "avg_pool2d_backward";
    KC_ENTER(op, 5, 5, 0)
    Py_ssize_t xs[4];
    if (kc_shape4(op, args[1], xs)) return NULL;
    conv_geom G = {xs[0], xs[1], xs[2], xs[3]};
    if (pool_window(op, args[2], args[3], args[4], &G) ||
        kc_check_grad4(op, (PyArrayObject *)args[0], G.N, G.C, G.OH, G.OW))
        return NULL;
    PyArrayObject *g = kc_contig(args[0], t);
    if (!g) return NULL;
    PyArrayObject *dx = kc_new4(G.N, G.C, G.H, G.W, t);
    if (dx)
        KC_RUN(t, PyArray_SIZE(g) * G.KH * G.KW, POOL_THREADS_FROM, avgpool_bwd, PyArray_DATA(g),
               &G, PyArray_DATA(dx));
    Py_DECREF(g);
    return (PyObject *)dx;
}
