/* Reductions, float32/float64: sum / max / min over axes (a tuple or None) with keepdims, and
 * argmax / argmin over one axis. */
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

/* ---- argmax / argmin ---------------------------------------------------------------------
 * argmax / argmin (x, axis, keepdims) with axis an int or None, float32/float64 -> int64.
 * numpy's rules: the first extreme wins a tie, the first NaN wins over everything. x is copied
 * to C order if needed and seen as (outer, L, inner); along the last axis vector lanes
 * keep their extreme and its position, in one pass. Empty or 0-d inputs are declined. */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#define ARG_FUNCS(SFX, T, IT)                                                                  \
    /* one pass: each of NA lanes keeps its extreme and where it was (IT indices), and a sum of   \
     * x * 0 that turns NaN at a NaN (or an infinity: then a scan finds no NaN); the lanes are   \
     * merged, the smallest index winning a tie. Short or huge rows run a plain loop. */        \
    static int64_t CAT(arg_row, SFX)(const T *restrict x, Py_ssize_t n, int is_max) {          \
        enum { NA = 32 };   /* lanes: 2 float or 4 double vectors of 64 bytes */            \
        if (n < ARG_LANES_FROM || n > (Py_ssize_t)INT32_MAX) {                                          \
            T m = x[0];                                                                         \
            Py_ssize_t mi = 0;                                                                  \
            for (Py_ssize_t k = 1; k < n && m == m; k++) {                                      \
                T v = x[k];                                                                     \
                if (v != v || (is_max ? v > m : v < m)) { m = v; mi = k; }                      \
            }                                                                                   \
            return mi;                                                                          \
        }                                                                                       \
        T acc[NA], z[NA];                                                                       \
        IT idx[NA];                                                                             \
        for (int j = 0; j < NA; j++) { acc[j] = x[j]; idx[j] = (IT)j; z[j] = x[j] * (T)0; }     \
        Py_ssize_t i = NA;                                                                      \
        for (; i + NA <= n; i += NA) {                                                          \
            const IT base = (IT)i;                                                              \
            for (int j = 0; j < NA; j++) {                                                      \
                T v = x[i + j], b = acc[j];                                                     \
                int take = is_max ? v > b : v < b;                                              \
                acc[j] = take ? v : b;                                                          \
                idx[j] = take ? base + (IT)j : idx[j];                                          \
                z[j] += v * (T)0;   /* NaN for a NaN (or an infinity) */                        \
            }                                                                                   \
        }                                                                                       \
        if (i < n) { /* the last NA elements again (lane j's indices still increase) */        \
            const Py_ssize_t t0 = n - NA;                                                       \
            for (int j = 0; j < NA; j++) {                                                      \
                T v = x[t0 + j], b = acc[j];                                                    \
                int take = is_max ? v > b : v < b;                                              \
                acc[j] = take ? v : b;                                                          \
                idx[j] = take ? (IT)t0 + (IT)j : idx[j];                                        \
                z[j] += v * (T)0;                                                               \
            }                                                                                   \
        }                                                                                       \
        /* halving trees (they vectorize): z, then the (extreme, smallest index) pairs */       \
        for (int w = NA / 2; w > 0; w /= 2)                                                     \
            for (int j = 0; j < w; j++) {                                                       \
                z[j] += z[j + w];                                                               \
                T v = acc[j + w], b = acc[j];                                                   \
                int take = (is_max ? v > b : v < b) || (v == b && idx[j + w] < idx[j]);         \
                acc[j] = take ? v : b;                                                          \
                idx[j] = take ? idx[j + w] : idx[j];                                            \
            }                                                                                   \
        if (z[0] != z[0]) /* a NaN or an infinity: the first NaN, if any, wins */               \
            for (Py_ssize_t k = 0; k < n; k++)                                                  \
                if (x[k] != x[k]) return k;                                                     \
        const int64_t mi = idx[0];                                                              \
        return mi;                                                                              \
    }                                                                                           \
    /* nb <= ARG_BLOCK neighbouring slices of a non-last axis (element l of slice j at          \
     * l*inner + j) */                                                                          \
    static void CAT(arg_cols, SFX)(const T *restrict x, Py_ssize_t L, Py_ssize_t inner,        \
                                   Py_ssize_t nb, int is_max, int64_t *restrict out) {          \
        T best[ARG_BLOCK];                                                                      \
        for (Py_ssize_t j = 0; j < nb; j++) {                                                   \
            best[j] = x[j];                                                                     \
            out[j] = 0;                                                                         \
        }                                                                                       \
        for (Py_ssize_t l = 1; l < L; l++) {                                                    \
            const T *restrict xl = x + l * inner;                                               \
            for (Py_ssize_t j = 0; j < nb; j++) {                                               \
                T v = xl[j], b = best[j];                                                       \
                int take = (is_max ? v > b : v < b) || (v != v && b == b);                      \
                best[j] = take ? v : b;                                                         \
                out[j] = take ? (int64_t)l : out[j];                                            \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
    static void CAT(arg_range, SFX)(const T *x, Py_ssize_t L, Py_ssize_t inner, int is_max,    \
                                    int64_t *out, Py_ssize_t lo, Py_ssize_t hi) {               \
        if (inner == 1) {                                                                       \
            for (Py_ssize_t r = lo; r < hi; r++) out[r] = CAT(arg_row, SFX)(x + r * L, L, is_max); \
            return;                                                                             \
        }                                                                                       \
        const Py_ssize_t nblk = (inner + ARG_BLOCK - 1) / ARG_BLOCK;                            \
        for (Py_ssize_t k = lo; k < hi; k++) {                                                  \
            Py_ssize_t o = k / nblk, j0 = (k % nblk) * ARG_BLOCK;                               \
            Py_ssize_t nb = inner - j0 < ARG_BLOCK ? inner - j0 : ARG_BLOCK;                    \
            CAT(arg_cols, SFX)(x + o * L * inner + j0, L, inner, nb, is_max, out + o * inner + j0); \
        }                                                                                       \
    }

ARG_FUNCS(_f, float, int32_t)
ARG_FUNCS(_d, double, int64_t)

static void arg_range(int t, const void *x, Py_ssize_t L, Py_ssize_t inner, int is_max,
                      int64_t *out, Py_ssize_t lo, Py_ssize_t hi) {
    if (t == NPY_FLOAT) arg_range_f(x, L, inner, is_max, out, lo, hi);
    else arg_range_d(x, L, inner, is_max, out, lo, hi);
}

static PyObject *arg_call(const char *op, int is_max, PyObject *const *args, Py_ssize_t nargs) {
    KC_ENTER(op, 3, 3, 0)
    PyArrayObject *x0 = (PyArrayObject *)args[0];
    const int nd = PyArray_NDIM(x0);
    if (nd == 0 || PyArray_SIZE(x0) == 0) KC_DECLINE;
    int axis = -1;   /* -1: every element */
    if (args[1] != Py_None) {
        if (!PyLong_Check(args[1])) KC_DECLINE;
        long ax = PyLong_AsLong(args[1]);
        if (ax == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            KC_DECLINE;
        }
        if (ax < 0) ax += nd;
        if (ax < 0 || ax >= nd) KC_DECLINE;
        axis = (int)ax;
    }
    const int keepdims = kc_bool(args[2]);
    if (keepdims < 0) return NULL;
    Py_ssize_t outer = 1, inner = 1, L = PyArray_SIZE(x0);
    npy_intp dims[NPY_MAXDIMS];
    int ond = 0;
    if (axis >= 0) {
        L = PyArray_DIM(x0, axis);
        for (int i = 0; i < axis; i++) outer *= PyArray_DIM(x0, i);
        for (int i = axis + 1; i < nd; i++) inner *= PyArray_DIM(x0, i);
    }
    for (int i = 0; i < nd; i++) {
        const int reduced = axis < 0 || i == axis;
        if (!reduced) dims[ond++] = PyArray_DIM(x0, i);
        else if (keepdims) dims[ond++] = 1;
    }
    PyArrayObject *x = kc_contig(args[0], t);
    if (!x) return NULL;
    PyArrayObject *out = (PyArrayObject *)PyArray_SimpleNew(ond, dims, NPY_INT64);
    if (out) {
        const Py_ssize_t size = PyArray_SIZE(x0);
        const Py_ssize_t tasks = inner == 1 ? outer : outer * ((inner + ARG_BLOCK - 1) / ARG_BLOCK);
        int nt = kc_threads_for((double)size, ARG_THREADS_FROM);
        if (nt > tasks) nt = (int)tasks;
        const void *px = PyArray_DATA(x);
        int64_t *po = PyArray_DATA(out);
        KC_NOGIL_BEGIN(size >= 16384)
        KC_SPLIT(nt, tasks, lo, hi, arg_range(t, px, L, inner, is_max, po, lo, hi));
        KC_NOGIL_END
    }
    Py_DECREF(x);
    return (PyObject *)out;
}

KC_DECL(argmax) { return arg_call("argmax", 1, args, nargs); }
KC_DECL(argmin) { return arg_call("argmin", 0, args, nargs); }
