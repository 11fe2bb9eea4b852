/* sum / max / min over axes (a tuple or None) with keepdims, float32/float64. */
#include "kc.h"
#include <math.h>
#include <stdlib.h>


enum { RED_SUM, RED_MAX, RED_MIN };

/* groups of dims, outermost first: length, reduced?, stride of x, stride of out (elements) */
typedef struct {
    int ng;
    Py_ssize_t len[32], sx[32], so[32];
    int red[32];
} red_groups;

#define T float
#define SFX _f
#include "reduce_impl.h"
#undef T
#undef SFX
#define T double
#define SFX _d
#include "reduce_impl.h"
#undef T
#undef SFX

/* reduced[i] for each axis in `axes` (None: all); -1 if axes is not a tuple/list of valid ints */
static int parse_axes(PyObject *axes, int nd, int *reduced) {
    if (axes == Py_None) {
        for (int i = 0; i < nd; i++) reduced[i] = 1;
        return nd > 0 ? 0 : -1;
    }
    for (int i = 0; i < nd; i++) reduced[i] = 0;
    if (PyLong_Check(axes)) {
        long ax = PyLong_AsLong(axes);
        if (ax == -1 && PyErr_Occurred()) { PyErr_Clear(); return -1; }
        if (ax < 0) ax += nd;
        if (ax < 0 || ax >= nd) return -1;
        reduced[ax] = 1;
        return 0;
    }
    if (!PyTuple_Check(axes) && !PyList_Check(axes)) return -1;
    PyObject *seq = PySequence_Fast(axes, "");
    if (!seq) { PyErr_Clear(); return -1; }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    int count = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *it = PySequence_Fast_GET_ITEM(seq, i);
        long ax = PyLong_Check(it) ? PyLong_AsLong(it) : -1000000;
        if (ax == -1 && PyErr_Occurred()) { PyErr_Clear(); ax = -1000000; }
        if (ax < 0) ax += nd;
        if (ax < 0 || ax >= nd || reduced[ax]) { Py_DECREF(seq); return -1; }
        reduced[ax] = 1;
        count++;
    }
    Py_DECREF(seq);
    return count > 0 ? 0 : -1;
}

static PyObject *reduce(const char *name, int op, PyObject *const *args, Py_ssize_t nargs) {
    KC_ENTER(name, 1, 3, 0)
    PyArrayObject *x0 = (PyArrayObject *)args[0];
    int nd = PyArray_NDIM(x0), reduced[32];
    int keepdims = 0;
    if (nargs > 2 && (keepdims = kc_bool(args[2])) < 0) return NULL;
    /* 0-d, empty, >32-d or unusual axes: numpy decides (and words the errors) */
    if (nd == 0 || nd > 32 || PyArray_SIZE(x0) == 0 ||
        parse_axes(nargs > 1 ? args[1] : Py_None, nd, reduced) < 0)
        KC_DECLINE;
    PyArrayObject *x = kc_contig(args[0], t);
    if (!x) return NULL;
    npy_intp odims[32];
    int ond = 0;
    for (int i = 0; i < nd; i++) {
        if (!reduced[i]) odims[ond++] = PyArray_DIM(x, i);
        else if (keepdims) odims[ond++] = 1;
    }
    PyArrayObject *out = (PyArrayObject *)PyArray_SimpleNew(ond, odims, t);
    if (!out) { Py_DECREF(x); return NULL; }
    /* group neighbouring dims of the same kind (size-1 dims join any group) */
    red_groups g;
    int ng = 0;
    for (int i = 0; i < nd; i++) {
        Py_ssize_t d = PyArray_DIM(x, i);
        if (d == 1) continue;
        if (ng > 0 && g.red[ng - 1] == reduced[i]) g.len[ng - 1] *= d;
        else { g.len[ng] = d; g.red[ng] = reduced[i]; ng++; }
    }
    if (ng == 0) { g.len[0] = 1; g.red[0] = 1; ng = 1; }
    g.ng = ng;
    Py_ssize_t sx = 1, so = 1;
    for (int i = ng - 1; i >= 0; i--) {
        g.sx[i] = sx; g.so[i] = so;
        sx *= g.len[i];
        if (!g.red[i]) so *= g.len[i];
    }
    Py_ssize_t size = PyArray_SIZE(x), nout = PyArray_SIZE(out);
    int nt = kc_threads_for((double)size, RED_THREADS_FROM);
    KC_NOGIL_BEGIN(size >= RED_THREADS_FROM)
    KC_TYPED(t, reduce_, op, &g, PyArray_DATA(x), PyArray_DATA(out), nout, size, nt);
    KC_NOGIL_END
    Py_DECREF(x);
    if (ond == 0) { /* a full reduction without keepdims: numpy returns a scalar */
        PyObject *s = PyArray_Return(out);
        return s;
    }
    return (PyObject *)out;
}

KC_DECL(sum) { return reduce("sum", RED_SUM, args, nargs); }
KC_DECL(max) { return reduce("max", RED_MAX, args, nargs); }
KC_DECL(min) { return reduce("min", RED_MIN, args, nargs); }
