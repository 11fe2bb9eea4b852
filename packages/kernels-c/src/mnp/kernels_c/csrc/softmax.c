/* softmax, log_softmax and their backwards along one axis, float32/float64. The input is
 * copied to C order if needed and seen as (outer, L, inner): the last axis runs slice by slice
 * (max, exp, sum, scale), another axis in blocks of neighbouring slices. Other inputs (0-d,
 * empty, a bad axis, shapes that broadcast) go to the numpy reference. */
#include "kc.h"
#include "kc_math.h"
#include "kc_vexp.h"
#include <math.h>


enum { SM_SOFTMAX, SM_LOG, SM_BWD, SM_LOG_BWD };

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

static inline void kc_expd_n(const double *in, double *out, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) out[i] = kc_expd(in[i]);
}

#define T float
#define SFX _f
#define EXP kc_expf
#define EXP_N kc_vexpf_n
#define LOG logf
#include "softmax_impl.h"
#undef T
#undef SFX
#undef EXP
#undef EXP_N
#undef LOG
#define T double
#define SFX _d
#define EXP kc_expd
#define EXP_N kc_expd_n
#define LOG log
#include "softmax_impl.h"
#undef T
#undef SFX
#undef EXP
#undef EXP_N
#undef LOG
#include "softmax_vec.h"

static void sm_range(int t, int kind, const void *a, const void *b, void *out, Py_ssize_t L,
                     Py_ssize_t inner, Py_ssize_t lo, Py_ssize_t hi) {
    if (t == NPY_FLOAT && inner == 1 && L >= KC_VF_LEN) smv_rows(kind, a, b, out, L, lo, hi);
    else if (t == NPY_FLOAT) sm_range_f(kind, a, b, out, L, inner, lo, hi);
    else sm_range_d(kind, a, b, out, L, inner, lo, hi);
}

/* the axis as 0 <= axis < nd, or -1 if it is not an int in range (the reference decides) */
static int sm_axis(PyObject *o, int nd) {
    if (!PyLong_Check(o)) return -1;
    long ax = PyLong_AsLong(o);
    if (ax == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    if (ax < 0) ax += nd;
    return ax >= 0 && ax < nd ? (int)ax : -1;
}

/* softmax(x, axis), log_softmax(x, axis), softmax_backward(g, y, axis),
 * log_softmax_backward(g, y, axis) */
static PyObject *sm_call(const char *op, int kind, PyObject *const *args, Py_ssize_t nargs) {
    const int bwd = kind >= SM_BWD;
    KC_ENTER(op, 2 + bwd, 2 + bwd, 0)
    PyArrayObject *a0 = (PyArrayObject *)args[0];
    const int nd = PyArray_NDIM(a0);
    if (nd == 0 || PyArray_SIZE(a0) == 0) KC_DECLINE;
    if (bwd) {
        PyArrayObject *b0 = (PyArrayObject *)args[1];
        if (kc_ftype(args[1]) != t || !kc_same_shape(a0, b0))
            KC_DECLINE;
    }
    const int axis = sm_axis(args[1 + bwd], nd);
    if (axis < 0) KC_DECLINE;
    Py_ssize_t outer = 1, inner = 1, L = PyArray_DIM(a0, axis);
    for (int i = 0; i < axis; i++) outer *= PyArray_DIM(a0, i);
    for (int i = axis + 1; i < nd; i++) inner *= PyArray_DIM(a0, i);
    PyArrayObject *a = kc_contig(args[0], t), *b = NULL, *out = NULL;
    if (!a || (bwd && !(b = kc_contig(args[1], t)))) goto done;
    if (!(out = (PyArrayObject *)PyArray_SimpleNew(nd, PyArray_DIMS(a0), t))) goto done;
    {
        const Py_ssize_t size = PyArray_SIZE(a0);
        const Py_ssize_t tasks = inner == 1 ? outer : outer * ((inner + SM_BLOCK - 1) / SM_BLOCK);
        int nt = kc_threads_for((double)size, SM_THREADS_FROM);
        if (nt > tasks) nt = (int)tasks;
        const void *pa = PyArray_DATA(a), *pb = b ? PyArray_DATA(b) : NULL;
        void *po = PyArray_DATA(out);
        KC_NOGIL_BEGIN(size >= 16384)
        KC_SPLIT(nt, tasks, lo, hi, sm_range(t, kind, pa, pb, po, L, inner, lo, hi));
        KC_NOGIL_END
    }
done:
    Py_XDECREF(a);
    Py_XDECREF(b);
    return (PyObject *)out;
}

KC_DECL(softmax) { return sm_call("softmax", SM_SOFTMAX, args, nargs); }
KC_DECL(log_softmax) { return sm_call("log_softmax", SM_LOG, args, nargs); }
KC_DECL(softmax_backward) { return sm_call("softmax_backward", SM_BWD, args, nargs); }
KC_DECL(log_softmax_backward) { return sm_call("log_softmax_backward", SM_LOG_BWD, args, nargs); }
