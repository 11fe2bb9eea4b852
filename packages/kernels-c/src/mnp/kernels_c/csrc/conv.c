/* 2-d convolution: im2col, col2im, conv2d_forward, conv2d_backward (NCHW, float32/float64). */
#include "kc.h"
#include "conv.h"
#include "kc_simd.h"

static int conv_is_pointwise(const conv_geom *G) {
    return G->KH == 1 && G->KW == 1 && G->SH == 1 && G->SW == 1 && G->PH == 0 && G->PW == 0;
}

#define T float
#define IT int32_t
#define SFX _f
#define GEMM kc_sgemm
#define DOTS kc_gemm_dots_s
#include "conv_impl.h"
#undef T
#undef IT
#undef SFX
#undef GEMM
#undef DOTS
#define T double
#define IT int64_t
#define SFX _d
#define GEMM kc_dgemm
#define DOTS kc_gemm_dots_d
#include "conv_impl.h"
#undef T
#undef IT
#undef SFX
#undef GEMM
#undef DOTS


int kc_conv_params(const char *op, PyObject *ks, PyObject *st, PyObject *pd, PyObject *dl,
                   conv_geom *G) {
    Py_ssize_t k[2], s[2], p[2], d[2] = {1, 1};
    if (ks && kc_pair(op, "kernel_size", ks, k)) return -1;
    if (kc_pair(op, "stride", st, s) || kc_pair(op, "padding", pd, p)) return -1;
    if (dl && kc_pair(op, "dilation", dl, d)) return -1;
    if (ks) { G->KH = k[0]; G->KW = k[1]; }
    G->SH = s[0]; G->SW = s[1]; G->PH = p[0]; G->PW = p[1]; G->DH = d[0]; G->DW = d[1];
    const Py_ssize_t big = (Py_ssize_t)1 << 31; /* keeps the size arithmetic below 2^63 */
    if (G->KH > big || G->KW > big || G->SH > big || G->SW > big || G->DH > big ||
        G->DW > big || G->PH > big || G->PW > big || G->H > big || G->W > big) {
        kc_shape_error(op, "kernel_size, stride, padding, dilation and the input size must be "
                       "below 2**31");
        return -1;
    }
    if (G->KH < 1 || G->KW < 1 || G->SH < 1 || G->SW < 1 || G->DH < 1 || G->DW < 1 ||
        G->PH < 0 || G->PW < 0) {
        kc_shape_error(op, "kernel_size (%zd, %zd), stride (%zd, %zd) and dilation (%zd, %zd) "
                       "must be positive and padding (%zd, %zd) non-negative",
                       G->KH, G->KW, G->SH, G->SW, G->DH, G->DW, G->PH, G->PW);
        return -1;
    }
    G->OH = (G->H + 2 * G->PH - G->DH * (G->KH - 1) - 1);
    G->OW = (G->W + 2 * G->PW - G->DW * (G->KW - 1) - 1);
    if (G->OH < 0 || G->OW < 0) {
        kc_shape_error(op, "input (%zd, %zd) with padding (%zd, %zd) is smaller than the "
                       "dilated kernel (%zd, %zd)", G->H, G->W, G->PH, G->PW,
                       G->DH * (G->KH - 1) + 1, G->DW * (G->KW - 1) + 1);
        return -1;
    }
    G->OH = G->OH / G->SH + 1;
    G->OW = G->OW / G->SW + 1;
    return 0;
}

int kc_shape4(const char *op, PyObject *o, Py_ssize_t out[4]) {
    PyObject *seq = PySequence_Fast(o, "");
    if (!seq || PySequence_Fast_GET_SIZE(seq) != 4) {
        Py_XDECREF(seq);
        PyErr_Clear();
        kc_shape_error(op, "x_shape must be a 4-tuple (N, C, H, W)");
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        out[i] = PyNumber_AsSsize_t(PySequence_Fast_GET_ITEM(seq, i), PyExc_OverflowError);
        if (out[i] == -1 && PyErr_Occurred()) {
            Py_DECREF(seq);
            return -1;
        }
        if (out[i] < 0 || out[i] > ((Py_ssize_t)1 << 31)) {
            Py_DECREF(seq);
            kc_shape_error(op, "x_shape sizes must be in [0, 2**31]");
            return -1;
        }
    }
    Py_DECREF(seq);
    return 0;
}

int kc_check_nchw(const char *op, PyArrayObject *x) {
    if (PyArray_NDIM(x) == 4) return 0;
    char s1[128];
    kc_shape_error(op, "expected x of shape (N, C, H, W), got %s", kc_shape_str(x, s1, 128));
    return -1;
}

int kc_check_grad4(const char *op, PyArrayObject *g, Py_ssize_t N, Py_ssize_t C, Py_ssize_t OH,
                   Py_ssize_t OW) {
    if (PyArray_NDIM(g) == 4 && PyArray_DIM(g, 0) == N && PyArray_DIM(g, 1) == C &&
        PyArray_DIM(g, 2) == OH && PyArray_DIM(g, 3) == OW)
        return 0;
    char s1[128];
    kc_shape_error(op, "gradient of shape %s does not match the output shape (%zd, %zd, %zd, %zd)",
                   kc_shape_str(g, s1, 128), N, C, OH, OW);
    return -1;
}

/* im2col(x, kernel_size, stride, padding, dilation) -> (N, C*KH*KW, OH*OW) */
KC_DECL(im2col) {
    KC_ENTER("im2col", 5, 5, 0)
    if (kc_check_nchw("im2col", (PyArrayObject *)args[0])) return NULL;
    PyArrayObject *x = kc_contig(args[0], t);
    if (!x) return NULL;
    conv_geom G = {PyArray_DIM(x, 0), PyArray_DIM(x, 1), PyArray_DIM(x, 2), PyArray_DIM(x, 3)};
    if (kc_conv_params("im2col", args[1], args[2], args[3], args[4], &G)) { Py_DECREF(x); return NULL; }
    npy_intp dims[3] = {G.N, G.C * G.KH * G.KW, G.OH * G.OW};
    PyArrayObject *cols = (PyArrayObject *)PyArray_SimpleNew(3, dims, t);
    if (cols)
        KC_RUN(t, PyArray_SIZE(cols), COLS_THREADS_FROM, im2col_all_, PyArray_DATA(x), &G, PyArray_DATA(cols));
    Py_DECREF(x);
    return (PyObject *)cols;
}

/* col2im(cols, x_shape, kernel_size, stride, padding, dilation) -> dx, overlaps summed */
KC_DECL(col2im) {
    KC_ENTER("col2im", 6, 6, 0)
    Py_ssize_t xs[4];
    if (kc_shape4("col2im", args[1], xs)) return NULL;
    conv_geom G = {xs[0], xs[1], xs[2], xs[3]};
    if (kc_conv_params("col2im", args[2], args[3], args[4], args[5], &G)) return NULL;
    PyArrayObject *c0 = (PyArrayObject *)args[0];
    char s1[128];
    if (PyArray_NDIM(c0) != 3 || PyArray_DIM(c0, 0) != G.N ||
        PyArray_DIM(c0, 1) != G.C * G.KH * G.KW || PyArray_DIM(c0, 2) != G.OH * G.OW)
        return kc_shape_error("col2im", "cols of shape %s do not match x_shape (%zd, %zd, %zd, "
                              "%zd): expected (%zd, %zd, %zd)", kc_shape_str(c0, s1, 128), G.N,
                              G.C, G.H, G.W, G.N, G.C * G.KH * G.KW, G.OH * G.OW);
    PyArrayObject *cols = kc_contig(args[0], t);
    if (!cols) return NULL;
    PyArrayObject *dx = kc_new4(G.N, G.C, G.H, G.W, t);
    if (dx)
        KC_RUN(t, PyArray_SIZE(cols), COLS_THREADS_FROM, col2im_all_, PyArray_DATA(cols), &G, PyArray_DATA(dx));
    Py_DECREF(cols);
    return (PyObject *)dx;
}

/* check x (N,C,H,W) and w (OC,C,KH,KW) [and g (N,OC,OH,OW)]; fills G */
static int conv_shapes(const char *op, PyArrayObject *x, PyArrayObject *w, conv_geom *G) {
    char s1[128], s2[128];
    if (PyArray_NDIM(x) != 4 || PyArray_NDIM(w) != 4) {
        kc_shape_error(op, "expected x (N, C, H, W) and w (OC, C, KH, KW), got shapes %s and %s",
                       kc_shape_str(x, s1, 128), kc_shape_str(w, s2, 128));
        return -1;
    }
    if (PyArray_DIM(x, 1) != PyArray_DIM(w, 1)) {
        kc_shape_error(op, "x of shape %s has %zd channels but w of shape %s expects %zd",
                       kc_shape_str(x, s1, 128), (Py_ssize_t)PyArray_DIM(x, 1),
                       kc_shape_str(w, s2, 128), (Py_ssize_t)PyArray_DIM(w, 1));
        return -1;
    }
    G->N = PyArray_DIM(x, 0); G->C = PyArray_DIM(x, 1);
    G->H = PyArray_DIM(x, 2); G->W = PyArray_DIM(x, 3);
    G->OC = PyArray_DIM(w, 0); G->KH = PyArray_DIM(w, 2); G->KW = PyArray_DIM(w, 3);
    return 0;
}

/* conv2d_forward(x, w, b, stride, padding, dilation) -> y (N, OC, OH, OW) */
KC_DECL(conv2d_forward) {
    const char *op = "conv2d_forward";
    KC_ENTER(op, 6, 6, 0)
    if (t != kc_ftype(args[1]) || (args[2] != Py_None && t != kc_ftype(args[2])))
        KC_DECLINE;
    conv_geom G;
    if (conv_shapes(op, (PyArrayObject *)args[0], (PyArrayObject *)args[1], &G)) return NULL;
    if (kc_conv_params(op, NULL, args[3], args[4], args[5], &G)) return NULL;
    char s1[128];
    if (args[2] != Py_None && (PyArray_NDIM((PyArrayObject *)args[2]) != 1 ||
                               PyArray_DIM((PyArrayObject *)args[2], 0) != G.OC))
        return kc_shape_error(op, "bias of shape %s does not match %zd output channels",
                              kc_shape_str((PyArrayObject *)args[2], s1, 128), G.OC);
    PyArrayObject *x = kc_contig(args[0], t), *w = x ? kc_contig(args[1], t) : NULL;
    PyArrayObject *b = (w && args[2] != Py_None) ? kc_contig(args[2], t) : NULL;
    PyArrayObject *y = (w && (b || args[2] == Py_None)) ? kc_new4(G.N, G.OC, G.OH, G.OW, t) : NULL;
    int rc = 0;
    if (y) {
        double work = (double)G.N * G.OC * G.C * G.KH * G.KW * G.OH * G.OW;
        int nt = kc_threads_for(work, CONV_THREADS_FROM);
        KC_NOGIL_BEGIN(work > 65536)
        rc = KC_TYPED(t, conv_forward_, PyArray_DATA(x), PyArray_DATA(w),
                      b ? PyArray_DATA(b) : NULL, &G, PyArray_DATA(y), nt);
        KC_NOGIL_END
        if (rc) { Py_CLEAR(y); PyErr_NoMemory(); }
    }
    Py_XDECREF(x);
    Py_XDECREF(w);
    Py_XDECREF(b);
    return (PyObject *)y;
}

/* conv2d_backward(g, x, w, stride, padding, dilation, need_x, need_w, need_b) -> (dx, dw, db) */
KC_DECL(conv2d_backward) {
    const char *op = "conv2d_backward";
    KC_ENTER(op, 9, 9, 0)
    if (t != kc_ftype(args[1]) || t != kc_ftype(args[2]))
        KC_DECLINE;
    int need[3];
    for (int i = 0; i < 3; i++)
        if ((need[i] = kc_bool(args[6 + i])) < 0) return NULL;
    conv_geom G;
    if (conv_shapes(op, (PyArrayObject *)args[1], (PyArrayObject *)args[2], &G)) return NULL;
    if (kc_conv_params(op, NULL, args[3], args[4], args[5], &G)) return NULL;
    if (kc_check_grad4(op, (PyArrayObject *)args[0], G.N, G.OC, G.OH, G.OW)) return NULL;
    PyArrayObject *g = kc_contig(args[0], t), *x = NULL, *w = NULL, *dx = NULL, *dw = NULL,
                  *db = NULL;
    PyObject *res = NULL;
    if (!g || !(x = kc_contig(args[1], t)) || !(w = kc_contig(args[2], t))) goto done;
    if (need[0] && !(dx = kc_new4(G.N, G.C, G.H, G.W, t))) goto done;
    if (need[1] && !(dw = kc_new4(G.OC, G.C, G.KH, G.KW, t))) goto done;
    if (need[2]) {
        npy_intp d1[1] = {G.OC};
        if (!(db = (PyArrayObject *)PyArray_SimpleNew(1, d1, t))) goto done;
    }
    {
        double work = (double)G.N * G.OC * G.C * G.KH * G.KW * G.OH * G.OW * (need[0] + need[1]);
        int nt = kc_threads_for(work, CONV_THREADS_FROM), rc;
        KC_NOGIL_BEGIN(work > 65536)
        rc = KC_TYPED(t, conv_backward_, PyArray_DATA(g), PyArray_DATA(x), PyArray_DATA(w), &G,
                      dx ? PyArray_DATA(dx) : NULL, dw ? PyArray_DATA(dw) : NULL,
                      db ? PyArray_DATA(db) : NULL, nt);
        KC_NOGIL_END
        if (rc) { PyErr_NoMemory(); goto done; }
    }
    res = PyTuple_Pack(3, dx ? (PyObject *)dx : Py_None, dw ? (PyObject *)dw : Py_None,
                       db ? (PyObject *)db : Py_None);
done:
    Py_XDECREF(g); Py_XDECREF(x); Py_XDECREF(w);
    Py_XDECREF(dx); Py_XDECREF(dw); Py_XDECREF(db);
    return res;
}
