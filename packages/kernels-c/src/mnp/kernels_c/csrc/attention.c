/* Fused softmax attention, float32 and float64 (accumulating in the element type):
 *   attention_forward(q, k, v, mask, is_causal, scale, drop=None) -> (out, lse)
 *   attention_backward(g, q, k, v, out, lse, mask, is_causal, scale, drop=None) -> (dq, dk, dv)
 * q (B, L, E), k (B, S, E), v (B, S, Ev); mask None or an additive float array of shape
 * (B|1, L|1, S|1) (any strides); lse (B, L). Tiled (ATT_BR x ATT_BC) with an online
 * softmax and the tiles' products on the C GEMM: nothing of size L x S is built, and the
 * causal case skips the tiles above the diagonal. Threads split the batch B in contiguous
 * shares; each batch index is computed the same way on whichever thread, so results do not
 * depend on the thread count. A dropout multiplier (`drop`), other dtypes or shapes go to the
 * numpy reference. */
#if defined(__GNUC__) && !defined(__clang__)
/* comparisons that may not trap let GCC turn the selects of kc_math.h's exp into vector
 * blends: without this the exp loops of the tiles stay scalar */
#pragma GCC optimize("no-trapping-math")
#endif
#include "kc.h"
#include "kc_math.h"
#include "kc_vexp.h"
#include <math.h>

/* tile sizes (-D to try others: 32 x 32 and 64 x 64 measured slower than 48 x 48 on a GPT's
 * 64-position heads) */
#ifndef ATT_BR
#define ATT_BR 48                       /* query rows per tile */
#endif
#ifndef ATT_BC
#define ATT_BC 48                       /* keys per tile */
#endif
#define ATT_LANES 16                    /* partial sums in a row reduction */
#define ATT_THREADS_FROM (1 << 18)      /* multiply-adds from which the batch is split */

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

/* e^(x - m) over a float32 row in SIMD vectors (kc_vexp.h), and its sum; a tail shorter than a
 * vector one value at a time */
static inline float att_rowexp_vf(float *x, Py_ssize_t n, float m) {
    const kc_vf vm = kc_vf_splat(m);
    kc_vf s = kc_vf_splat(0.0f);
    Py_ssize_t j = 0;
    for (; j + KC_VF_LEN <= n; j += KC_VF_LEN) {
        const kc_vf e = kc_vexpf(kc_vf_load(x + j) - vm);
        kc_vf_store(x + j, e);
        s += e;
    }
    float b[KC_VF_LEN], t = 0;
    kc_vf_store(b, s);
    for (int u = 0; u < (int)KC_VF_LEN; u++) t += b[u];
    for (; j < n; j++) t += x[j] = kc_expf_nonpos(x[j] - m);
    return t;
}

#define T float
#define SFX _f
#define ROWMAX kc_vf_max_n
#define ROWEXP att_rowexp_vf
#define GEMM kc_sgemm
#define EXP kc_expf_nonpos
#define LOG logf
#include "attention_impl.h"
#undef T
#undef SFX
#undef EXP
#undef GEMM
#undef LOG
#undef ROWMAX
#undef ROWEXP
#define T double
#define SFX _d
#define ROWMAX att_max_d
#define ROWEXP att_rowexp_d
#define GEMM kc_dgemm
#define EXP kc_expd
#define LOG log
#include "attention_impl.h"
#undef T
#undef SFX
#undef EXP
#undef GEMM
#undef LOG

/* the sizes of q, k, v as (B, L, E), (B, S, E), (B, S, Ev) of type t; -1 if they do not fit */
static int att_dims(int t, PyObject *q, PyObject *k, PyObject *v, Py_ssize_t d[5]) {
    if (kc_ftype(q) != t || kc_ftype(k) != t || kc_ftype(v) != t) return -1;
    PyArrayObject *a = (PyArrayObject *)q, *b = (PyArrayObject *)k, *c = (PyArrayObject *)v;
    if (PyArray_NDIM(a) != 3 || PyArray_NDIM(b) != 3 || PyArray_NDIM(c) != 3) return -1;
    const npy_intp *x = PyArray_DIMS(a), *y = PyArray_DIMS(b), *z = PyArray_DIMS(c);
    if (y[0] != x[0] || z[0] != x[0] || y[2] != x[2] || z[1] != y[1]) return -1;
    d[0] = x[0], d[1] = x[1], d[2] = y[1], d[3] = x[2], d[4] = z[2];
    for (int i = 0; i < 5; i++)
        if (d[i] < 1) return -1;
    return 0;
}

/* the mask's strides in elements (0 along its size-1 dimensions); -1 if it does not fit */
static int att_mask(int t, PyObject *o, const Py_ssize_t d[5], Py_ssize_t st[3]) {
    if (o == Py_None) {
        st[0] = st[1] = st[2] = 0;
        return 0;
    }
    if (kc_ftype(o) != t || PyArray_NDIM((PyArrayObject *)o) != 3) return -1;
    PyArrayObject *m = (PyArrayObject *)o;
    const Py_ssize_t want[3] = {d[0], d[1], d[2]}, isz = PyArray_ITEMSIZE(m);
    for (int i = 0; i < 3; i++) {
        const npy_intp n = PyArray_DIM(m, i), s = PyArray_STRIDE(m, i);
        if ((n != want[i] && n != 1) || s % isz) return -1;
        st[i] = n == 1 ? 0 : s / isz;
    }
    return 0;
}

/* is_causal and scale; -1 with an exception set on failure */
static int att_flags(PyObject *causal, PyObject *scale, int *c, double *sc) {
    *c = kc_bool(causal);
    if (*c < 0) return -1;
    return kc_double(scale, sc);
}

static void att_fwd(int t, const void *q, const void *k, const void *v, const void *mask,
                    const Py_ssize_t st[3], const Py_ssize_t d[5], int causal, double scale,
                    void *out, void *lse, char *scratch, size_t per, Py_ssize_t lo,
                    Py_ssize_t hi) {
    void *mine = scratch + (size_t)kc_tid() * per;
    if (t == NPY_FLOAT)
        att_fwd_range_f(q, k, v, mask, st[0], st[1], st[2], d[1], d[2], d[3], d[4], causal,
                        scale, out, lse, mine, lo, hi);
    else
        att_fwd_range_d(q, k, v, mask, st[0], st[1], st[2], d[1], d[2], d[3], d[4], causal,
                        scale, out, lse, mine, lo, hi);
}

static void att_bwd(int t, const void *g, const void *q, const void *k, const void *v,
                    const void *out, const void *lse, const void *mask, const Py_ssize_t st[3],
                    const Py_ssize_t d[5], int causal, double scale, void *dq, void *dk, void *dv,
                    char *scratch, size_t per, Py_ssize_t lo, Py_ssize_t hi) {
    void *mine = scratch + (size_t)kc_tid() * per;
    if (t == NPY_FLOAT)
        att_bwd_range_f(g, q, k, v, out, lse, mask, st[0], st[1], st[2], d[1], d[2], d[3], d[4],
                        causal, scale, dq, dk, dv, mine, lo, hi);
    else
        att_bwd_range_d(g, q, k, v, out, lse, mask, st[0], st[1], st[2], d[1], d[2], d[3], d[4],
                        causal, scale, dq, dk, dv, mine, lo, hi);
}

/* threads for the batch of d, and the scratch bytes per thread (64-byte multiples) */
static int att_threads(const Py_ssize_t d[5], size_t elems, size_t isz, size_t *per) {
    int nt = kc_threads_for((double)d[0] * d[1] * d[2] * (d[3] + d[4]), ATT_THREADS_FROM);
    if (nt > d[0]) nt = (int)d[0];
    *per = (elems * isz + 63) / 64 * 64;
    return nt;
}

KC_DECL(attention_forward) {
    const char *op = "attention_forward";
    KC_ENTER(op, 6, 7, 0)
    Py_ssize_t d[5], st[3];
    int causal;
    double scale;
    if (att_dims(t, args[0], args[1], args[2], d) || att_mask(t, args[3], d, st) ||
        (nargs == 7 && args[6] != Py_None))
        KC_DECLINE;
    if (att_flags(args[4], args[5], &causal, &scale)) return NULL;
    PyArrayObject *q = NULL, *k = NULL, *v = NULL, *out = NULL, *lse = NULL;
    PyObject *res = NULL;
    char *scratch = NULL;
    size_t got = 0, per;
    if (!(q = kc_contig(args[0], t)) || !(k = kc_contig(args[1], t)) ||
        !(v = kc_contig(args[2], t)))
        goto done;
    npy_intp od[3] = {d[0], d[1], d[4]}, ld[2] = {d[0], d[1]};
    if (!(out = (PyArrayObject *)PyArray_SimpleNew(3, od, t)) ||
        !(lse = (PyArrayObject *)PyArray_SimpleNew(2, ld, t)))
        goto done;
    {
        const size_t isz = (size_t)PyArray_ITEMSIZE(q);
        const size_t elems = (size_t)(d[3] * d[2] + ATT_BR * (ATT_BC + d[4] + 2));
        const int nt = att_threads(d, elems, isz, &per);
        if (!(scratch = kc_scratch_take((size_t)nt * per, &got))) {
            PyErr_NoMemory();
            goto done;
        }
        const void *pq = PyArray_DATA(q), *pk = PyArray_DATA(k), *pv = PyArray_DATA(v);
        const void *pm = args[3] == Py_None ? NULL : PyArray_DATA((PyArrayObject *)args[3]);
        void *po = PyArray_DATA(out), *pl = PyArray_DATA(lse);
        KC_NOGIL_BEGIN(d[0] * d[1] * d[2] * d[3] > 16384)
        KC_SPLIT(nt, d[0], lo, hi,
                 att_fwd(t, pq, pk, pv, pm, st, d, causal, scale, po, pl, scratch, per, lo, hi));
        KC_NOGIL_END
    }
    res = PyTuple_Pack(2, (PyObject *)out, (PyObject *)lse);
done:
    if (scratch) kc_scratch_give(scratch, got);
    Py_XDECREF(q); Py_XDECREF(k); Py_XDECREF(v); Py_XDECREF(out); Py_XDECREF(lse);
    return res;
}

KC_DECL(attention_backward) {
    const char *op = "attention_backward";
    KC_ENTER(op, 9, 10, 1)
    Py_ssize_t d[5], st[3];
    int causal;
    double scale;
    if (att_dims(t, args[1], args[2], args[3], d) || att_mask(t, args[6], d, st) ||
        (nargs == 10 && args[9] != Py_None) || kc_ftype(args[0]) != t ||
        kc_ftype(args[4]) != t || kc_ftype(args[5]) != t)
        KC_DECLINE;
    {
        PyArrayObject *g0 = (PyArrayObject *)args[0], *o0 = (PyArrayObject *)args[4];
        PyArrayObject *l0 = (PyArrayObject *)args[5];
        const npy_intp want[3] = {d[0], d[1], d[4]};
        if (PyArray_NDIM(g0) != 3 || PyArray_NDIM(o0) != 3 || PyArray_NDIM(l0) != 2 ||
            !PyArray_CompareLists(PyArray_DIMS(g0), want, 3) ||
            !PyArray_CompareLists(PyArray_DIMS(o0), want, 3) ||
            !PyArray_CompareLists(PyArray_DIMS(l0), want, 2))
            KC_DECLINE;
    }
    if (att_flags(args[7], args[8], &causal, &scale)) return NULL;
    PyArrayObject *g = NULL, *q = NULL, *k = NULL, *v = NULL, *out = NULL, *lse = NULL;
    PyArrayObject *dq = NULL, *dk = NULL, *dv = NULL;
    PyObject *res = NULL;
    char *scratch = NULL;
    size_t got = 0, per;
    if (!(g = kc_contig(args[0], t)) || !(q = kc_contig(args[1], t)) ||
        !(k = kc_contig(args[2], t)) || !(v = kc_contig(args[3], t)) ||
        !(out = kc_contig(args[4], t)) || !(lse = kc_contig(args[5], t)))
        goto done;
    if (!(dq = (PyArrayObject *)PyArray_SimpleNew(3, PyArray_DIMS(q), t)) ||
        !(dk = (PyArrayObject *)PyArray_SimpleNew(3, PyArray_DIMS(k), t)) ||
        !(dv = (PyArrayObject *)PyArray_SimpleNew(3, PyArray_DIMS(v), t)))
        goto done;
    {
        const size_t isz = (size_t)PyArray_ITEMSIZE(q);
        const size_t elems = (size_t)((d[3] + d[4]) * d[2] + 2 * ATT_BR * ATT_BC + d[1]);
        const int nt = att_threads(d, elems, isz, &per);
        if (!(scratch = kc_scratch_take((size_t)nt * per, &got))) {
            PyErr_NoMemory();
            goto done;
        }
        const void *pg = PyArray_DATA(g), *pq = PyArray_DATA(q), *pk = PyArray_DATA(k);
        const void *pv = PyArray_DATA(v), *po = PyArray_DATA(out), *pl = PyArray_DATA(lse);
        const void *pm = args[6] == Py_None ? NULL : PyArray_DATA((PyArrayObject *)args[6]);
        void *pdq = PyArray_DATA(dq), *pdk = PyArray_DATA(dk), *pdv = PyArray_DATA(dv);
        KC_NOGIL_BEGIN(d[0] * d[1] * d[2] * d[3] > 16384)
        KC_SPLIT(nt, d[0], lo, hi,
                 att_bwd(t, pg, pq, pk, pv, po, pl, pm, st, d, causal, scale, pdq, pdk, pdv,
                         scratch, per, lo, hi));
        KC_NOGIL_END
    }
    res = PyTuple_Pack(3, (PyObject *)dq, (PyObject *)dk, (PyObject *)dv);
done:
    if (scratch) kc_scratch_give(scratch, got);
    Py_XDECREF(g); Py_XDECREF(q); Py_XDECREF(k); Py_XDECREF(v); Py_XDECREF(out);
    Py_XDECREF(lse); Py_XDECREF(dq); Py_XDECREF(dk); Py_XDECREF(dv);
    return res;
}
