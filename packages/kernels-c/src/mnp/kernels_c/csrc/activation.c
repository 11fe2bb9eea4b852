/* Activations and their backwards: relu, sigmoid, tanh (relu_backward(g, x),
 * sigmoid_backward(g, y), tanh_backward(g, y)); and with a parameter: leaky_relu(x, slope),
 * leaky_relu_backward(g, x, slope), gelu(x, approximate), gelu_backward(g, x, approximate),
 * approximate "none" (erf) or "tanh"; and erf(x), the exact GELU's building block. float32/float64, the reference's formulas and NaN/inf
 * results; 0-d inputs, other dtypes, broadcasting backwards and unknown arguments are declined.
 *
 * float32 erf is the reference's Chebyshev fit (Numerical Recipes' erfc, relative error
 * < 1.2e-7) over the vectorised kc_expf, so whole loops vectorise; the erf kernel itself takes
 * its Taylor series below |x| = 0.5, where 1 - t exp(...) loses the small result's digits to
 * cancellation. float32 GELU "none" forms Phi(-|x|) = kc_normal_tail(|x|) kc_exp_halfsq(x)
 * (kc_math.h), relative to the result at every x, and takes x Phi(-|x|) for x <= 0 and
 * x (1 - Phi(-|x|)) above: no 1 + erf cancellation for negative x, one exp shared by the
 * backward's cdf and pdf, within 4e-7 of the float64 result wherever it is a normal float.
 * float64 uses libm's erf and exp. GELU "tanh" uses 1 + tanh(u) = 2 sigmoid(2u) (exact
 * identity, no cancellation for negative u). */
#include "kc.h"
#include "kc_math.h"


enum { A_LEAKY, A_GELU, A_GELU_TANH, A_ERF };

/* the loops below stay out of line: the calls on whole and on padded groups run one code */
#if defined(__GNUC__) && !defined(__clang__)
#define ACT_OUTLINE __attribute__((noipa))
#else
#define ACT_OUTLINE __attribute__((noinline))
#endif
#define ACT_PAD 16

static const double SQRT1_2 = 0.70710678118654752440;     /* 1 / sqrt(2) */
static const double SQRT_2_OVER_PI = 0.79788456080286535588;
static const double INV_SQRT_2PI = 0.39894228040143267794; /* 1 / sqrt(2 pi) */
static const double GELU_C = 0.044715;

/* erf for float32: the reference's fit, 1 - t exp(-z^2 + P(t)), t = 1 / (1 + z/2), z = |x| */
static inline float act_erff(float x) {
    const float z = fabsf(x), t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    const float e = 1.0f - t * kc_expf(-z * z + p);
    return x >= 0 ? e : -e;
}

/* erf for float32 accurate relative to small results: x P(x^2) (Taylor, to x^15: truncation
 * < 1e-9 relative) for |x| < 0.5, the fit above */
static inline float act_erff_small(float x) {
    const float x2 = x * x;
    float p = -1.0f / 75600.0f;
    p = p * x2 + 1.0f / 9360.0f;
    p = p * x2 - 1.0f / 1320.0f;
    p = p * x2 + 1.0f / 216.0f;
    p = p * x2 - 1.0f / 42.0f;
    p = p * x2 + 1.0f / 10.0f;
    p = p * x2 - 1.0f / 3.0f;
    p = p * x2 + 1.0f;
    const float small = 1.12837916709551257f * x * p; /* 2 / sqrt(pi) */
    const float big = act_erff(x);
    return fabsf(x) < 0.5f ? small : big;
}

/* sigmoid for double over the vectorised exp */
static inline double act_sigmoidd(double x) {
    const double e = kc_expd(-fabs(x)), inv = 1.0 / (1.0 + e);
    return x >= 0 ? inv : e * inv;
}

/* s = sigmoid(x) and s (1 - s) = e / (1 + e)^2, e = exp(-|x|): no cancellation in 1 - s */
static inline float act_sigmoid2f(float x, float *ds) {
    const float e = kc_expf_nonpos(-fabsf(x)), inv = 1.0f / (1.0f + e);
    *ds = e * inv * inv;
    return x >= 0 ? inv : e * inv;
}

static inline double act_sigmoid2d(double x, double *ds) {
    const double e = kc_expd(-fabs(x)), inv = 1.0 / (1.0 + e);
    *ds = e * inv * inv;
    return x >= 0 ? inv : e * inv;
}

/* ---- y = f(x) ---------------------------------------------------------------------------- */
ACT_OUTLINE static void fwd_f(int op, float slope, const float *restrict x, float *restrict y, Py_ssize_t n) {
    const float c = (float)SQRT_2_OVER_PI, k = (float)GELU_C;
    if (op == A_LEAKY)
        for (Py_ssize_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : x[i] * slope;
    else if (op == A_ERF)
        for (Py_ssize_t i = 0; i < n; i++) y[i] = act_erff_small(x[i]);
    else if (op == A_GELU)
        for (Py_ssize_t i = 0; i < n; i++) {
            const float v = x[i];
            float sc;
            const float p = kc_normal_tail(fabsf(v)) * kc_exp_halfsq(v, &sc); /* Phi(-|v|) / sc */
            y[i] = v <= 0 ? (v * p) * sc : v * (1.0f - p);
        }
    else
        for (Py_ssize_t i = 0; i < n; i++) {
            const float v = x[i], u = c * (v + k * v * v * v);
            y[i] = v * kc_sigmoidf(2.0f * u);
        }
}

ACT_OUTLINE static void fwd_d(int op, double slope, const double *restrict x, double *restrict y,
                  Py_ssize_t n) {
    if (op == A_LEAKY)
        for (Py_ssize_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : x[i] * slope;
    else if (op == A_ERF)
        for (Py_ssize_t i = 0; i < n; i++) y[i] = erf(x[i]);
    else if (op == A_GELU)
        for (Py_ssize_t i = 0; i < n; i++) y[i] = 0.5 * x[i] * (1.0 + erf(x[i] * SQRT1_2));
    else
        for (Py_ssize_t i = 0; i < n; i++) {
            const double v = x[i], u = SQRT_2_OVER_PI * (v + GELU_C * v * v * v);
            y[i] = v * act_sigmoidd(2.0 * u);
        }
}

/* ---- dx = g f'(x) -------------------------------------------------------------------------
 * gelu: cdf + x pdf; gelu "tanh": with s = sigmoid(2u), 0.5 (1 + tanh u) = s and
 * 0.5 (1 - tanh^2 u) = 2 s (1 - s), so f' = s + 2 x s (1 - s) u'(x), s (1 - s) formed as
 * e / (1 + e)^2 (7x closer to the exact derivative than the reference's float32 1 - tanh^2). */
ACT_OUTLINE static void bwd_f(int op, float slope, const float *restrict g, const float *restrict x,
                  float *restrict o, Py_ssize_t n) {
    const float c = (float)SQRT_2_OVER_PI, k = (float)GELU_C;
    const float p0 = (float)INV_SQRT_2PI;
    if (op == A_LEAKY)
        for (Py_ssize_t i = 0; i < n; i++) o[i] = g[i] * (x[i] > 0 ? 1.0f : slope);
    else if (op == A_GELU)
        for (Py_ssize_t i = 0; i < n; i++) {
            const float v = x[i];
            float sc;
            const float e = kc_exp_halfsq(v, &sc), p = kc_normal_tail(fabsf(v)) * e;
            const float vpdf = v * (e * p0);
            o[i] = v <= 0 ? (g[i] * (p + vpdf)) * sc : g[i] * ((1.0f - p) + vpdf);
        }
    else
        for (Py_ssize_t i = 0; i < n; i++) {
            const float v = x[i], u = c * (v + k * v * v * v), du = c * (1.0f + 3.0f * k * v * v);
            float ds;
            const float s = act_sigmoid2f(2.0f * u, &ds);
            o[i] = g[i] * (s + 2.0f * v * ds * du);
        }
}

ACT_OUTLINE static void bwd_d(int op, double slope, const double *restrict g, const double *restrict x,
                  double *restrict o, Py_ssize_t n) {
    if (op == A_LEAKY)
        for (Py_ssize_t i = 0; i < n; i++) o[i] = g[i] * (x[i] > 0 ? 1.0 : slope);
    else if (op == A_GELU)
        for (Py_ssize_t i = 0; i < n; i++) {
            const double v = x[i];
            const double cdf = 0.5 * (1.0 + erf(v * SQRT1_2));
            o[i] = g[i] * (cdf + v * (exp(-0.5 * v * v) * INV_SQRT_2PI));
        }
    else
        for (Py_ssize_t i = 0; i < n; i++) {
            const double v = x[i], u = SQRT_2_OVER_PI * (v + GELU_C * v * v * v);
            const double du = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_C * v * v);
            double ds;
            const double s = act_sigmoid2d(2.0 * u, &ds);
            o[i] = g[i] * (s + 2.0 * v * ds * du);
        }
}

/* n elements from byte pointers: g == NULL for a forward */
static void act_span(int op, int t, double slope, const char *pg, const char *px, char *po,
                     Py_ssize_t n) {
    if (t == NPY_FLOAT) {
        if (pg) bwd_f(op, (float)slope, (const float *)pg, (const float *)px, (float *)po, n);
        else fwd_f(op, (float)slope, (const float *)px, (float *)po, n);
    } else {
        if (pg) bwd_d(op, slope, (const double *)pg, (const double *)px, (double *)po, n);
        else fwd_d(op, slope, (const double *)px, (double *)po, n);
    }
}

/* [lo, hi) of one call: whole ACT_PAD-element groups in place, the rest through zero-padded
 * buffers of ACT_PAD, so that every element takes the compiler's vector loop (never its scalar
 * remainder, which may round differently) and gets the same bits wherever it lies */
static void act_range(int op, int t, double slope, const char *pg, const char *px, char *po,
                      Py_ssize_t lo, Py_ssize_t hi) {
    const Py_ssize_t es = t == NPY_FLOAT ? 4 : 8, m = lo + (hi - lo) / ACT_PAD * ACT_PAD;
    if (m > lo) act_span(op, t, slope, pg ? pg + lo * es : NULL, px + lo * es, po + lo * es, m - lo);
    if (hi > m) {
        double gb[ACT_PAD] = {0}, xb[ACT_PAD] = {0}, ob[ACT_PAD];
        memcpy(xb, px + m * es, (size_t)((hi - m) * es));
        if (pg) memcpy(gb, pg + m * es, (size_t)((hi - m) * es));
        act_span(op, t, slope, pg ? (const char *)gb : NULL, (const char *)xb, (char *)ob, ACT_PAD);
        memcpy(po + m * es, ob, (size_t)((hi - m) * es));
    }
}

/* the loop over n elements of g (or NULL) and x into o, threaded above the op's threshold. The
 * threads split at multiples of ACT_BLOCK elements: the compiler's vector loop and its scalar
 * remainder may round differently, and only the array's last n % ACT_BLOCK elements then take
 * the remainder, whatever the thread count. */
static void act_run(int op, int t, double slope, PyArrayObject *g, PyArrayObject *x,
                    PyArrayObject *o) {
    const Py_ssize_t n = PyArray_SIZE(x), nb = (n + ACT_BLOCK - 1) / ACT_BLOCK;
    const char *pg = g ? PyArray_DATA(g) : NULL, *px = PyArray_DATA(x);
    char *po = PyArray_DATA(o);
    int nt = kc_threads_for((double)n, op == A_LEAKY ? ACT_THREADS_FROM : ACT_HEAVY_THREADS_FROM);
    KC_NOGIL_BEGIN(n >= ACT_NOGIL_FROM)
    KC_SPLIT(nt, nb, lo, hi,
             act_range(op, t, slope, pg, px, po, lo * ACT_BLOCK, hi == nb ? n : hi * ACT_BLOCK));
    KC_NOGIL_END
}

/* the slope as a double; 0 with no error set if it is not a number (the reference decides) */
static int act_slope(PyObject *o, double *slope) {
    if (kc_double(o, slope) == 0) return 1;
    PyErr_Clear();
    return 0;
}

/* A_GELU or A_GELU_TANH for `approximate` ("none" / "tanh"), -1 for anything else */
static int act_approximate(PyObject *o) {
    if (!PyUnicode_Check(o)) return -1;
    if (PyUnicode_CompareWithASCIIString(o, "none") == 0) return A_GELU;
    if (PyUnicode_CompareWithASCIIString(o, "tanh") == 0) return A_GELU_TANH;
    return -1;
}

/* y = f(x) for kind A_LEAKY, A_GELU or A_ERF: args[0] is x, args[1] the parameter (the slope;
 * approximate, absent for "none"; none for erf) */
static PyObject *act_forward(const char *name, int kind, PyObject *const *args,
                             Py_ssize_t nargs) {
    KC_ENTER(name, kind == A_LEAKY ? 2 : 1, kind == A_ERF ? 1 : 2, 0)
    double slope = 0;
    int op = kind;
    if (kind == A_LEAKY) {
        if (!act_slope(args[1], &slope)) KC_DECLINE;
    } else if (kind == A_GELU && (op = nargs > 1 ? act_approximate(args[1]) : A_GELU) < 0) {
        KC_DECLINE;
    }
    if (PyArray_NDIM((PyArrayObject *)args[0]) == 0) KC_DECLINE;
    PyArrayObject *x = kc_contig(args[0], t);
    if (!x) return NULL;
    PyArrayObject *y = (PyArrayObject *)PyArray_SimpleNew(PyArray_NDIM(x), PyArray_DIMS(x), t);
    if (y) act_run(op, t, slope, NULL, x, y);
    Py_DECREF(x);
    return (PyObject *)y;
}

/* dx = g f'(x): args are g, x and the parameter; equal shapes (else the reference broadcasts) */
static PyObject *act_backward(const char *name, int leaky, PyObject *const *args,
                              Py_ssize_t nargs) {
    KC_ENTER(name, leaky ? 3 : 2, 3, 0)
    if (t != kc_ftype(args[1])) KC_DECLINE;
    double slope = 0;
    int op = A_LEAKY;
    if (leaky) {
        if (!act_slope(args[2], &slope)) KC_DECLINE;
    } else if ((op = nargs > 2 ? act_approximate(args[2]) : A_GELU) < 0) {
        KC_DECLINE;
    }
    PyArrayObject *g0 = (PyArrayObject *)args[0], *x0 = (PyArrayObject *)args[1];
    int nd = PyArray_NDIM(g0);
    if (nd == 0 || !kc_same_shape(g0, x0))
        KC_DECLINE;
    PyArrayObject *g = kc_contig(args[0], t), *x = g ? kc_contig(args[1], t) : NULL;
    PyArrayObject *o = x ? (PyArrayObject *)PyArray_SimpleNew(nd, PyArray_DIMS(g0), t) : NULL;
    if (o) act_run(op, t, slope, g, x, o);
    Py_XDECREF(g);
    Py_XDECREF(x);
    return (PyObject *)o;
}

KC_DECL(leaky_relu) { return act_forward("leaky_relu", A_LEAKY, args, nargs); }
KC_DECL(gelu) { return act_forward("gelu", A_GELU, args, nargs); }
KC_DECL(erf) { return act_forward("erf", A_ERF, args, nargs); }
KC_DECL(leaky_relu_backward) { return act_backward("leaky_relu_backward", 1, args, nargs); }
KC_DECL(gelu_backward) { return act_backward("gelu_backward", 0, args, nargs); }

/* ---- relu, sigmoid, tanh: y = f(x) (kc_map_unary's loop) -------------------------------- */
enum { U_RELU, U_SIGMOID, U_TANH };

static void simple_f(int op, const float *restrict x, float *restrict y, Py_ssize_t n) {
    switch (op) {
    case U_RELU:
        for (Py_ssize_t i = 0; i < n; i++) y[i] = x[i] <= 0 ? 0.0f : x[i]; /* +0 for -0, NaN kept */
        break;
    case U_SIGMOID:
        for (Py_ssize_t i = 0; i < n; i++) y[i] = kc_sigmoidf(x[i]);
        break;
    default:
        for (Py_ssize_t i = 0; i < n; i++) y[i] = kc_tanhf(x[i]);
    }
}

static void simple_d(int op, const double *restrict x, double *restrict y, Py_ssize_t n) {
    switch (op) {
    case U_RELU:
        for (Py_ssize_t i = 0; i < n; i++) y[i] = x[i] <= 0 ? 0.0 : x[i];
        break;
    case U_SIGMOID:
        for (Py_ssize_t i = 0; i < n; i++) y[i] = kc_sigmoidd(x[i]);
        break;
    default:
        for (Py_ssize_t i = 0; i < n; i++) y[i] = tanh(x[i]);
    }
}

KC_DECL(relu) { return kc_map_unary("relu", U_RELU, simple_f, simple_d, EW_THREADS_FROM, args, nargs); }
KC_DECL(sigmoid) {
    return kc_map_unary("sigmoid", U_SIGMOID, simple_f, simple_d, EW_HEAVY_THREADS_FROM, args, nargs);
}
KC_DECL(tanh) { return kc_map_unary("tanh", U_TANH, simple_f, simple_d, EW_HEAVY_THREADS_FROM, args, nargs); }

/* ---- relu, sigmoid, tanh backward: dx = g * f'(x or y), equal shapes --------------------- */
#define BWD_LOOP(T, EXPR)                                                                    \
    {                                                                                        \
        const T *restrict g = (const T *)pg + lo, *restrict v = (const T *)pv + lo;          \
        T *restrict o = (T *)po + lo;                                                        \
        for (Py_ssize_t i = 0; i < hi - lo; i++) { T gi = g[i], vi = v[i]; o[i] = (EXPR); } \
    }

static void backward_range(int op, int t, const char *pg, const char *pv, char *po, Py_ssize_t lo,
                           Py_ssize_t hi) {
    if (t == NPY_FLOAT) {
        if (op == U_RELU) BWD_LOOP(float, gi * (float)(vi > 0))
        else if (op == U_SIGMOID) BWD_LOOP(float, gi * vi * (1.0f - vi))
        else BWD_LOOP(float, gi * (1.0f - vi * vi))
    } else {
        if (op == U_RELU) BWD_LOOP(double, gi * (double)(vi > 0))
        else if (op == U_SIGMOID) BWD_LOOP(double, gi * vi * (1.0 - vi))
        else BWD_LOOP(double, gi * (1.0 - vi * vi))
    }
}

static PyObject *backward(const char *name, int op, PyObject *const *args, Py_ssize_t nargs) {
    KC_ENTER(name, 2, 2, 0)
    if (t != kc_ftype(args[1])) KC_DECLINE;
    PyArrayObject *g0 = (PyArrayObject *)args[0], *v0 = (PyArrayObject *)args[1];
    int nd = PyArray_NDIM(g0);
    if (nd == 0 || !kc_same_shape(g0, v0))
        KC_DECLINE; /* broadcasting: the reference handles it */
    PyArrayObject *g = kc_contig(args[0], t), *v = g ? kc_contig(args[1], t) : NULL;
    PyArrayObject *o = v ? (PyArrayObject *)PyArray_SimpleNew(nd, PyArray_DIMS(g0), t) : NULL;
    if (o) {
        Py_ssize_t n = PyArray_SIZE(g);
        int nt = kc_threads_for((double)n, EW_THREADS_FROM);
        const char *pg = PyArray_DATA(g), *pv = PyArray_DATA(v);
        char *po = PyArray_DATA(o);
        KC_NOGIL_BEGIN(n >= EW_NOGIL_FROM)
        KC_SPLIT(nt, n, lo, hi, backward_range(op, t, pg, pv, po, lo, hi));
        KC_NOGIL_END
    }
    Py_XDECREF(g);
    Py_XDECREF(v);
    return (PyObject *)o;
}

KC_DECL(relu_backward) { return backward("relu_backward", U_RELU, args, nargs); }
KC_DECL(sigmoid_backward) { return backward("sigmoid_backward", U_SIGMOID, args, nargs); }
KC_DECL(tanh_backward) { return backward("tanh_backward", U_TANH, args, nargs); }
