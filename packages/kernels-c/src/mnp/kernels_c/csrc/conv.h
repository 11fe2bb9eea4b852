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

#endif
