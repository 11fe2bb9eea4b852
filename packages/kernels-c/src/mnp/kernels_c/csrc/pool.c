/* Max and average pooling over NCHW planes, forward and backward (float32/float64).
 * Max: padding acts as -inf, the first maximum of a window wins, NaN propagates; indices are
 * flat positions in each input (H, W) plane. Average: padding counted (PyTorch's default). */
#include "kc.h"
#include "conv.h"

#define POOL_THREADS_FROM (1 << 16)

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
        Py_ssize_t h0 = oh * SH - PH, h1 = h0 + KH;                                             \
        if (h0 < 0) h0 = 0;                                                                     \
        if (h1 > H) h1 = H;                                                                     \
        for (Py_ssize_t ow = 0; ow < OW; ow++) {                                                \
            Py_ssize_t w0 = ow * SW - PW;                                                       \
            m[ow] = (T)-INFINITY;                                                               \
            at[ow] = h0 * W + (w0 < 0 ? 0 : w0);                                                \
        }                                                                                       \
        for (Py_ssize_t h = h0; h < h1; h++)                                                    \
            for (Py_ssize_t j = 0; j < KW; j++) {                                               \
                Py_ssize_t off = j - PW; /* iw = ow * SW + off */                               \
                Py_ssize_t ow0 = off >= 0 ? 0 : (-off + SW - 1) / SW;                           \
                Py_ssize_t ow1 = W - off > 0 ? (W - off + SW - 1) / SW : 0;                     \
                if (ow1 > OW) ow1 = OW;                                                         \
                const T *restrict xr = xp + h * W + off;                                        \
                const int64_t base = h * W + off;                                               \
                for (Py_ssize_t ow = ow0; ow < ow1; ow++) {                                     \
                    T v = xr[ow * SW], cur = m[ow];                                             \
                    int take = (v > cur) | ((v != v) & (cur == cur));                           \
                    m[ow] = take ? v : cur;                                                     \
                    at[ow] = take ? base + ow * SW : at[ow];                                    \
                }                                                                               \
            }                                                                                   \
    }                                                                                           \
    static void CAT(maxpool_fwd, SFX)(const T *x, const conv_geom *G, T *y, int64_t *idx,      \
                                      int nt) {                                                 \
        const Py_ssize_t planes = G->N * G->C, H = G->H, W = G->W, OH = G->OH, OW = G->OW;      \
        const Py_ssize_t KH = G->KH, KW = G->KW, SH = G->SH, SW = G->SW, PH = G->PH, PW = G->PW; \
        KC_PROBE_START                                                                          \
        _Pragma("omp parallel num_threads(nt) if (nt > 1)") {                                   \
            KC_PROBE                                                                            \
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
                Py_ssize_t h0 = oh * G->SH - G->PH, h1 = h0 + G->KH;                            \
                if (h0 < 0) h0 = 0;                                                             \
                if (h1 > G->H) h1 = G->H;                                                       \
                for (Py_ssize_t ow = 0; ow < G->OW; ow++) {                                     \
                    Py_ssize_t w0 = ow * G->SW - G->PW, w1 = w0 + G->KW;                        \
                    if (w0 < 0) w0 = 0;                                                         \
                    if (w1 > G->W) w1 = G->W;                                                   \
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
                Py_ssize_t h0 = oh * G->SH - G->PH, h1 = h0 + G->KH;                            \
                if (h0 < 0) h0 = 0;                                                             \
                if (h1 > G->H) h1 = G->H;                                                       \
                for (Py_ssize_t ow = 0; ow < G->OW; ow++) {                                     \
                    Py_ssize_t w0 = ow * G->SW - G->PW, w1 = w0 + G->KW;                        \
                    if (w0 < 0) w0 = 0;                                                         \
                    if (w1 > G->W) w1 = G->W;                                                   \
                    T v = gp[oh * G->OW + ow] * scale;                                          \
                    for (Py_ssize_t h = h0; h < h1; h++)                                        \
                        for (Py_ssize_t w = w0; w < w1; w++) dp[h * G->W + w] += v;             \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }

POOL_FUNCS(_f, float)
POOL_FUNCS(_d, double)

/* x checks and window parameters shared by the forward kernels */
static PyArrayObject *pool_input(const char *op, PyObject *const *args, int t, conv_geom *G,
                                 int *fallback) {
    *fallback = 0;
    PyArrayObject *x0 = (PyArrayObject *)args[0];
    char s1[128];
    if (PyArray_NDIM(x0) != 4) {
        kc_shape_error(op, "expected x of shape (N, C, H, W), got %s", kc_shape_str(x0, s1, 128));
        return NULL;
    }
    G->N = PyArray_DIM(x0, 0); G->C = PyArray_DIM(x0, 1);
    G->H = PyArray_DIM(x0, 2); G->W = PyArray_DIM(x0, 3);
    PyObject *stride = args[2] == Py_None ? args[1] : args[2];
    if (kc_conv_params(op, args[1], stride, args[3], NULL, G)) return NULL;
    if (2 * G->PH > G->KH || 2 * G->PW > G->KW) { /* windows wholly in padding */
        *fallback = 1;
        return NULL;
    }
    return kc_contig(args[0], t);
}

static PyArrayObject *new4(const Py_ssize_t d[4], int t) {
    npy_intp dims[4] = {d[0], d[1], d[2], d[3]};
    return (PyArrayObject *)PyArray_SimpleNew(4, dims, t);
}

KC_DECL(max_pool2d_forward) {
    const char *op = "max_pool2d_forward";
    if (kc_nargs(op, nargs, 4, 4)) return NULL;
    int t = kc_ftype(args[0]);
    if (t < 0) return kc_fallback(op, args, nargs);
    conv_geom G;
    int fb;
    PyArrayObject *x = pool_input(op, args, t, &G, &fb);
    if (fb) return kc_fallback(op, args, nargs);
    if (!x) return NULL;
    Py_ssize_t od[4] = {G.N, G.C, G.OH, G.OW};
    PyArrayObject *y = new4(od, t), *idx = y ? new4(od, NPY_INT64) : NULL;
    PyObject *res = NULL;
    if (idx) {
        Py_ssize_t size = PyArray_SIZE(y) * G.KH * G.KW;
        int nt = kc_threads_for((double)size, POOL_THREADS_FROM);
        KC_NOGIL_BEGIN(size > 16384)
        if (t == NPY_FLOAT) maxpool_fwd_f(PyArray_DATA(x), &G, PyArray_DATA(y), PyArray_DATA(idx), nt);
        else maxpool_fwd_d(PyArray_DATA(x), &G, PyArray_DATA(y), PyArray_DATA(idx), nt);
        KC_NOGIL_END
        res = PyTuple_Pack(2, (PyObject *)y, (PyObject *)idx);
    }
    Py_DECREF(x);
    Py_XDECREF(y);
    Py_XDECREF(idx);
    return res;
}

KC_DECL(max_pool2d_backward) {
    const char *op = "max_pool2d_backward";
    if (kc_nargs(op, nargs, 3, 3)) return NULL;
    int t = kc_ftype(args[0]);
    if (t < 0 || !PyArray_Check(args[1])) return kc_fallback(op, args, nargs);
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
        dx = new4(xs, t);
        if (dx) {
            Py_ssize_t planes = xs[0] * xs[1], OHW = PyArray_DIM(g, 2) * PyArray_DIM(g, 3);
            int nt = kc_threads_for((double)(n + planes * HW), POOL_THREADS_FROM);
            KC_NOGIL_BEGIN(n > 16384)
            if (t == NPY_FLOAT) maxpool_bwd_f(PyArray_DATA(g), ip, planes, OHW, HW, PyArray_DATA(dx), nt);
            else maxpool_bwd_d(PyArray_DATA(g), ip, planes, OHW, HW, PyArray_DATA(dx), nt);
            KC_NOGIL_END
        }
    }
done:
    Py_XDECREF(g);
    Py_XDECREF(idx);
    return (PyObject *)dx;
}

KC_DECL(avg_pool2d_forward) {
    const char *op = "avg_pool2d_forward";
    if (kc_nargs(op, nargs, 4, 4)) return NULL;
    int t = kc_ftype(args[0]);
    if (t < 0) return kc_fallback(op, args, nargs);
    conv_geom G;
    int fb;
    PyArrayObject *x = pool_input(op, args, t, &G, &fb);
    if (fb) return kc_fallback(op, args, nargs);
    if (!x) return NULL;
    Py_ssize_t od[4] = {G.N, G.C, G.OH, G.OW};
    PyArrayObject *y = new4(od, t);
    if (y) {
        Py_ssize_t size = PyArray_SIZE(y) * G.KH * G.KW;
        int nt = kc_threads_for((double)size, POOL_THREADS_FROM);
        KC_NOGIL_BEGIN(size > 16384)
        if (t == NPY_FLOAT) avgpool_fwd_f(PyArray_DATA(x), &G, PyArray_DATA(y), nt);
        else avgpool_fwd_d(PyArray_DATA(x), &G, PyArray_DATA(y), nt);
        KC_NOGIL_END
    }
    Py_DECREF(x);
    return (PyObject *)y;
}

KC_DECL(avg_pool2d_backward) {
    const char *op = "avg_pool2d_backward";
    if (kc_nargs(op, nargs, 5, 5)) return NULL;
    int t = kc_ftype(args[0]);
    if (t < 0) return kc_fallback(op, args, nargs);
    Py_ssize_t xs[4];
    if (kc_shape4(op, args[1], xs)) return NULL;
    conv_geom G = {xs[0], xs[1], xs[2], xs[3]};
    PyObject *stride = args[3] == Py_None ? args[2] : args[3];
    if (kc_conv_params(op, args[2], stride, args[4], NULL, &G)) return NULL;
    PyArrayObject *g0 = (PyArrayObject *)args[0];
    char s1[128];
    if (PyArray_NDIM(g0) != 4 || PyArray_DIM(g0, 0) != G.N || PyArray_DIM(g0, 1) != G.C ||
        PyArray_DIM(g0, 2) != G.OH || PyArray_DIM(g0, 3) != G.OW)
        return kc_shape_error(op, "gradient of shape %s does not match the output shape "
                              "(%zd, %zd, %zd, %zd)", kc_shape_str(g0, s1, 128), G.N, G.C,
                              G.OH, G.OW);
    PyArrayObject *g = kc_contig(args[0], t);
    if (!g) return NULL;
    PyArrayObject *dx = new4(xs, t);
    if (dx) {
        Py_ssize_t size = PyArray_SIZE(g) * G.KH * G.KW;
        int nt = kc_threads_for((double)size, POOL_THREADS_FROM);
        KC_NOGIL_BEGIN(size > 16384)
        if (t == NPY_FLOAT) avgpool_bwd_f(PyArray_DATA(g), &G, PyArray_DATA(dx), nt);
        else avgpool_bwd_d(PyArray_DATA(g), &G, PyArray_DATA(dx), nt);
        KC_NOGIL_END
    }
    Py_DECREF(g);
    return (PyObject *)dx;
}
