/* Elementwise arithmetic: add/sub/mul/div/maximum/minimum with numpy broadcasting over any
 * strides, and sqrt/neg/abs/sign; `kc_map_unary`, the loop every unary kernel runs (the
 * activations too). (exp and log stay with numpy, whose SIMD versions measured faster from
 * 64 x 64 on.) float32/float64; anything else is declined. */
#include "kc.h"
#include "kc_math.h"


enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MAX, OP_MIN };

typedef void (*bin_fn)(Py_ssize_t n, const char *a, Py_ssize_t ia, const char *b, Py_ssize_t ib,
                       char *o);

/* out[i] = a[i*ia] OP b[i*ib], with the unit/zero stride cases written out to vectorize */
#define BIN_INNER(NAME, T, EXPR)                                                                  \
    static void NAME(Py_ssize_t n, const char *pa, Py_ssize_t ia, const char *pb, Py_ssize_t ib, \
                     char *po) {                                                                  \
        const T *restrict a = (const T *)pa;                                                      \
        const T *restrict b = (const T *)pb;                                                      \
        T *restrict o = (T *)po;                                                                  \
        if (ia == 1 && ib == 1) {                                                                 \
            for (Py_ssize_t i = 0; i < n; i++) { T x = a[i], y = b[i]; o[i] = (EXPR); }           \
        } else if (ia == 1 && ib == 0) {                                                          \
            const T y = b[0];                                                                     \
            for (Py_ssize_t i = 0; i < n; i++) { T x = a[i]; o[i] = (EXPR); }                     \
        } else if (ia == 0 && ib == 1) {                                                          \
            const T x = a[0];                                                                     \
            for (Py_ssize_t i = 0; i < n; i++) { T y = b[i]; o[i] = (EXPR); }                     \
        } else {                                                                                  \
            for (Py_ssize_t i = 0; i < n; i++) { T x = a[i * ia], y = b[i * ib]; o[i] = (EXPR); } \
        }                                                                                         \
    }

BIN_INNER(add_f, float, x + y)
BIN_INNER(sub_f, float, x - y)
BIN_INNER(mul_f, float, x * y)
BIN_INNER(div_f, float, x / y)
BIN_INNER(add_d, double, x + y)
BIN_INNER(sub_d, double, x - y)
BIN_INNER(mul_d, double, x * y)
BIN_INNER(div_d, double, x / y)
/* numpy's maximum/minimum: NaN if either operand is NaN */
BIN_INNER(max_f, float, (x >= y || x != x) ? x : y)
BIN_INNER(min_f, float, (x <= y || x != x) ? x : y)
BIN_INNER(max_d, double, (x >= y || x != x) ? x : y)
BIN_INNER(min_d, double, (x <= y || x != x) ? x : y)

static const bin_fn BIN[2][6] = {{add_f, sub_f, mul_f, div_f, max_f, min_f},
                                 {add_d, sub_d, mul_d, div_d, max_d, min_d}};

/* flat output elements [lo, hi) of a coalesced broadcast loop: k dims `cd`, element strides
 * `ca`/`cb` (0 where broadcast), output C-contiguous */
static void bin_range(bin_fn fn, int k, const Py_ssize_t *cd, const Py_ssize_t *ca,
                      const Py_ssize_t *cb, const char *pa, const char *pb, char *po,
                      Py_ssize_t isz, Py_ssize_t lo, Py_ssize_t hi) {
    Py_ssize_t inner = cd[k - 1], ia = ca[k - 1], ib = cb[k - 1];
    for (Py_ssize_t f = lo; f < hi;) {
        Py_ssize_t o = f / inner, i = f % inner, rem = o, offa = 0, offb = 0;
        for (int d = k - 2; d >= 0; d--) {
            Py_ssize_t idx = rem % cd[d];
            rem /= cd[d];
            offa += idx * ca[d];
            offb += idx * cb[d];
        }
        Py_ssize_t cnt = inner - i < hi - f ? inner - i : hi - f;
        fn(cnt, pa + (offa + i * ia) * isz, ia, pb + (offb + i * ib) * isz, ib, po + f * isz);
        f += cnt;
    }
}

static void bin_run(bin_fn fn, int k, const Py_ssize_t *cd, const Py_ssize_t *ca,
                    const Py_ssize_t *cb, const char *pa, const char *pb, char *po,
                    Py_ssize_t isz, Py_ssize_t size) {
    int nt = kc_threads_for((double)size, EW_THREADS_FROM);
    KC_NOGIL_BEGIN(size >= EW_NOGIL_FROM)
    KC_SPLIT(nt, size, lo, hi, bin_range(fn, k, cd, ca, cb, pa, pb, po, isz, lo, hi));
    KC_NOGIL_END
}

static PyObject *binary(const char *name, int op, PyObject *const *args, Py_ssize_t nargs) {
    KC_ENTER(name, 2, 2, 0)
    if (t != kc_ftype(args[1])) KC_DECLINE;
    PyArrayObject *a = (PyArrayObject *)args[0], *b = (PyArrayObject *)args[1];
    int na = PyArray_NDIM(a), nb = PyArray_NDIM(b);
    if ((na == 0 && nb == 0) || na > 32 || nb > 32) KC_DECLINE;
    bin_fn fn = BIN[t == NPY_FLOAT ? 0 : 1][op];
    Py_ssize_t isz = PyArray_ITEMSIZE(a);
    /* the common case first: equal shapes, both C-contiguous */
    if (na == nb && PyArray_IS_C_CONTIGUOUS(a) && PyArray_IS_C_CONTIGUOUS(b) &&
        PyArray_CompareLists(PyArray_DIMS(a), PyArray_DIMS(b), na)) {
        PyArrayObject *out = (PyArrayObject *)PyArray_SimpleNew(na, PyArray_DIMS(a), t);
        if (!out) return NULL;
        Py_ssize_t size = PyArray_SIZE(a), one = 1, cd[1] = {size};
        if (size) bin_run(fn, 1, cd, &one, &one, PyArray_DATA(a), PyArray_DATA(b),
                          PyArray_DATA(out), isz, size);
        return (PyObject *)out;
    }
    int nd = na > nb ? na : nb;
    npy_intp dims[32];
    Py_ssize_t sa[32], sb[32];
    for (int i = 0; i < nd; i++) {
        int ia = i - (nd - na), ib = i - (nd - nb);
        npy_intp da = ia >= 0 ? PyArray_DIM(a, ia) : 1, db = ib >= 0 ? PyArray_DIM(b, ib) : 1;
        if (da != db && da != 1 && db != 1) {
            char s1[128], s2[128];
            return kc_shape_error(name, "shapes %s and %s cannot be broadcast together",
                                  kc_shape_str(a, s1, 128), kc_shape_str(b, s2, 128));
        }
        dims[i] = da == 1 ? db : da;
        npy_intp ta = (ia >= 0 && da != 1) ? PyArray_STRIDE(a, ia) : 0;
        npy_intp tb = (ib >= 0 && db != 1) ? PyArray_STRIDE(b, ib) : 0;
        if (ta % isz || tb % isz) KC_DECLINE;
        sa[i] = ta / isz;
        sb[i] = tb / isz;
    }
    PyArrayObject *out = (PyArrayObject *)PyArray_SimpleNew(nd, dims, t);
    if (!out) return NULL;
    Py_ssize_t size = PyArray_SIZE(out);
    if (size == 0) return (PyObject *)out;
    /* drop unit dims, merge neighbours that are contiguous in both inputs */
    Py_ssize_t cd[32], ca[32], cb[32];
    int k = 0;
    for (int i = 0; i < nd; i++) {
        if (dims[i] == 1) continue;
        if (k > 0 && ca[k - 1] == sa[i] * dims[i] && cb[k - 1] == sb[i] * dims[i]) {
            cd[k - 1] *= dims[i];
            ca[k - 1] = sa[i];
            cb[k - 1] = sb[i];
        } else {
            cd[k] = dims[i];
            ca[k] = sa[i];
            cb[k] = sb[i];
            k++;
        }
    }
    if (k == 0) {
        cd[0] = 1;
        ca[0] = cb[0] = 0;
        k = 1;
    }
    bin_run(fn, k, cd, ca, cb, PyArray_DATA(a), PyArray_DATA(b), PyArray_DATA(out), isz, size);
    return (PyObject *)out;
}

KC_DECL(add) { return binary("add", OP_ADD, args, nargs); }
KC_DECL(sub) { return binary("sub", OP_SUB, args, nargs); }
KC_DECL(mul) { return binary("mul", OP_MUL, args, nargs); }
KC_DECL(div) { return binary("div", OP_DIV, args, nargs); }
KC_DECL(maximum) { return binary("maximum", OP_MAX, args, nargs); }
KC_DECL(minimum) { return binary("minimum", OP_MIN, args, nargs); }

/* ---- unary: y = f(x) ------------------------------------------------------------------- */
static void ew_range(int op, int t, kc_loop_f lf, kc_loop_d ld, PyArrayObject *x,
                     PyArrayObject *y, Py_ssize_t lo, Py_ssize_t hi) {
    if (t == NPY_FLOAT)
        lf(op, (const float *)PyArray_DATA(x) + lo, (float *)PyArray_DATA(y) + lo, hi - lo);
    else
        ld(op, (const double *)PyArray_DATA(x) + lo, (double *)PyArray_DATA(y) + lo, hi - lo);
}

PyObject *kc_map_unary(const char *name, int op, kc_loop_f lf, kc_loop_d ld,
                       double threads_from, PyObject *const *args, Py_ssize_t nargs) {
    KC_ENTER(name, 1, 1, 0)
    if (PyArray_NDIM((PyArrayObject *)args[0]) == 0) KC_DECLINE;
    PyArrayObject *x = kc_contig(args[0], t);
    if (!x) return NULL;
    PyArrayObject *y = (PyArrayObject *)PyArray_SimpleNew(PyArray_NDIM(x), PyArray_DIMS(x), t);
    if (y) {
        Py_ssize_t n = PyArray_SIZE(x);
        int nt = kc_threads_for((double)n, threads_from);
        KC_NOGIL_BEGIN(n >= EW_NOGIL_FROM)
        KC_SPLIT(nt, n, lo, hi, ew_range(op, t, lf, ld, x, y, lo, hi));
        KC_NOGIL_END
    }
    Py_DECREF(x);
    return (PyObject *)y;
}

enum { U_SQRT, U_NEG, U_ABS, U_SIGN, U_LOG1P, U_EXPM1 };

static void unary_f(int op, const float *restrict x, float *restrict y, Py_ssize_t n) {
    switch (op) {
    case U_SQRT:
        for (Py_ssize_t i = 0; i < n; i++) y[i] = sqrtf(x[i]);
        break;
    case U_NEG:
        for (Py_ssize_t i = 0; i < n; i++) y[i] = -x[i];
        break;
    case U_SIGN: /* PyTorch's: +0 for either zero and for NaN */
        for (Py_ssize_t i = 0; i < n; i++)
            y[i] = x[i] > 0 ? 1.0f : (x[i] < 0 ? -1.0f : 0.0f);
        break;
    case U_LOG1P:
        for (Py_ssize_t i = 0; i < n; i++) y[i] = log1pf(x[i]);
        break;
    case U_EXPM1:
        for (Py_ssize_t i = 0; i < n; i++) y[i] = expm1f(x[i]);
        break;
    default:
        for (Py_ssize_t i = 0; i < n; i++) y[i] = fabsf(x[i]);
    }
}

static void unary_d(int op, const double *restrict x, double *restrict y, Py_ssize_t n) {
    switch (op) {
    case U_SQRT:
        for (Py_ssize_t i = 0; i < n; i++) y[i] = sqrt(x[i]);
        break;
    case U_NEG:
        for (Py_ssize_t i = 0; i < n; i++) y[i] = -x[i];
        break;
    case U_SIGN:
        for (Py_ssize_t i = 0; i < n; i++)
            y[i] = x[i] > 0 ? 1.0 : (x[i] < 0 ? -1.0 : 0.0);
        break;
    case U_LOG1P:
        for (Py_ssize_t i = 0; i < n; i++) y[i] = log1p(x[i]);
        break;
    case U_EXPM1:
        for (Py_ssize_t i = 0; i < n; i++) y[i] = expm1(x[i]);
        break;
    default:
        for (Py_ssize_t i = 0; i < n; i++) y[i] = fabs(x[i]);
    }
}

#define UNARY(name, op) kc_map_unary(name, op, unary_f, unary_d, EW_THREADS_FROM, args, nargs)
KC_DECL(sqrt) { return UNARY("sqrt", U_SQRT); }
KC_DECL(neg) { return UNARY("neg", U_NEG); }
KC_DECL(abs) { return UNARY("abs", U_ABS); }
KC_DECL(sign) { return UNARY("sign", U_SIGN); }
/* libm's log1p per element: threaded from the heavy-loop threshold */
KC_DECL(log1p) {
    return kc_map_unary("log1p", U_LOG1P, unary_f, unary_d, EW_HEAVY_THREADS_FROM, args, nargs);
}
/* libm's expm1 per element: threaded from the heavy-loop threshold */
KC_DECL(expm1) {
    return kc_map_unary("expm1", U_EXPM1, unary_f, unary_d, EW_HEAVY_THREADS_FROM, args, nargs);
}
