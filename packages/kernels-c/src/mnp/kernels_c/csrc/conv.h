/* Geometry of a 2-d sliding window (convolution, pooling) over NCHW input. */
#ifndef MNP_KC_CONV_H
#define MNP_KC_CONV_H

#include "kc.h"

typedef struct {
    Py_ssize_t N, C, H, W;     /* input */
    Py_ssize_t OC, KH, KW;     /* output channels (convolution), window */
    Py_ssize_t SH, SW, PH, PW, DH, DW;
    Py_ssize_t OH, OW;         /* output */
} conv_geom;

/* Parse kernel_size (NULL: already in G), stride, padding, dilation (NULL: 1) and compute
 * OH/OW from G's H/W; ShapeError for non-positive sizes or a window larger than the input. */
int kc_conv_params(const char *op, PyObject *ks, PyObject *st, PyObject *pd, PyObject *dl,
                   conv_geom *G);
/* Parse an (N, C, H, W) shape. */
int kc_shape4(const char *op, PyObject *o, Py_ssize_t out[4]);
/* ShapeError unless `x` is 4-d: "op: expected x of shape (N, C, H, W), got ..." */
int kc_check_nchw(const char *op, PyArrayObject *x);
/* ShapeError unless the gradient `g` has the output shape (N, C, OH, OW) */
int kc_check_grad4(const char *op, PyArrayObject *g, Py_ssize_t N, Py_ssize_t C, Py_ssize_t OH,
                   Py_ssize_t OW);

/* A new (a, b, c, d) array of type t. */
static inline PyArrayObject *kc_new4(Py_ssize_t a, Py_ssize_t b, Py_ssize_t c, Py_ssize_t d,
                                     int t) {
    npy_intp dims[4] = {a, b, c, d};
    return (PyArrayObject *)PyArray_SimpleNew(4, dims, t);
}

/* The outputs [*o0, *o1) of a row of OW whose input column o * S + off is inside [0, W). */
static inline void kc_inside_cols(Py_ssize_t off, Py_ssize_t S, Py_ssize_t W, Py_ssize_t OW,
                                  Py_ssize_t *o0, Py_ssize_t *o1) {
    Py_ssize_t lo = off >= 0 ? 0 : (-off + S - 1) / S;
    Py_ssize_t hi = W - off > 0 ? (W - off + S - 1) / S : 0;
    if (hi > OW) hi = OW;
    if (lo > hi) lo = hi;
    *o0 = lo;
    *o1 = hi;
}

#endif
