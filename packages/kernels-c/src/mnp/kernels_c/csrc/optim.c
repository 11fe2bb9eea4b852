/* Optimizer steps in place over parameter buffers (PyTorch's update rules), float32/float64.
 * Buffers that are not writeable, contiguous, of one dtype and one size go to numpy. */
#include "kc.h"
#include <math.h>

#define OPT_THREADS_FROM (1 << 17)

/* a writeable C-contiguous float array of type t and `size` elements, or NULL */
static PyArrayObject *buffer(PyObject *o, int t, Py_ssize_t size) {
    if (o == Py_None || kc_ftype(o) != t) return NULL;
    PyArrayObject *a = (PyArrayObject *)o;
    if (!PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISWRITEABLE(a) || PyArray_SIZE(a) != size)
        return NULL;
    return a;
}

/* grad `o` as a C-contiguous array of type t with param p's size (new reference), or NULL
 * with an error */
static PyArrayObject *grad_for(const char *op, PyObject *o, PyArrayObject *p, int t) {
    PyArrayObject *g = kc_contig(o, t);
    if (g && PyArray_SIZE(g) != PyArray_SIZE(p)) {
        char s1[128], s2[128];
        kc_shape_error(op, "param of shape %s and grad of shape %s differ",
                       kc_shape_str(p, s1, 128), kc_shape_str(g, s2, 128));
        Py_CLEAR(g);
    }
    return g;
}

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#define OPT_FUNCS(SFX, T, SQRT)                                                                \
    static void CAT(sgd, SFX)(T *p, const T *g, T *buf, Py_ssize_t n, T lr, T mom, T damp,     \
                              int nesterov, T wd, int first, int nt) {                          \
        _Pragma("omp parallel for num_threads(nt) if (nt > 1) schedule(static)")               \
        for (Py_ssize_t i = 0; i < n; i++) {                                                    \
            T d = g[i];                                                                         \
            if (wd != 0) d += wd * p[i];                                                        \
            if (buf) {                                                                          \
                T b = first ? d : mom * buf[i] + (1 - damp) * d;                                \
                buf[i] = b;                                                                     \
                d = nesterov ? d + mom * b : b;                                                 \
            }                                                                                   \
            p[i] -= lr * d;                                                                     \
        }                                                                                       \
    }                                                                                           \
    static void CAT(adam, SFX)(T *p, const T *g, T *m, T *v, T *vmax, Py_ssize_t n, T lr,      \
                               T b1, T b2, T eps, T wd, int decoupled, T step_size,             \
                               T bc2_sqrt, int nt) {                                            \
        _Pragma("omp parallel for num_threads(nt) if (nt > 1) schedule(static)")               \
        for (Py_ssize_t i = 0; i < n; i++) {                                                    \
            T gi = g[i], pi = p[i];                                                             \
            if (wd != 0) {                                                                      \
                if (decoupled) pi *= 1 - lr * wd;                                               \
                else gi += wd * pi;                                                             \
            }                                                                                   \
            T mi = b1 * m[i] + (1 - b1) * gi;                                                   \
            T vi = b2 * v[i] + (1 - b2) * gi * gi;                                              \
            m[i] = mi;                                                                          \
            v[i] = vi;                                                                          \
            if (vmax) {                                                                         \
                vi = vmax[i] > vi ? vmax[i] : vi;                                               \
                vmax[i] = vi;                                                                   \
            }                                                                                   \
            p[i] = pi - step_size * mi / (SQRT(vi) / bc2_sqrt + eps);                           \
        }                                                                                       \
    }

OPT_FUNCS(_f, float, sqrtf)
OPT_FUNCS(_d, double, sqrt)

/* sgd_step(param, grad, buf, lr, momentum, dampening, nesterov, weight_decay, first) */
KC_DECL(sgd_step) {
    const char *op = "sgd_step";
    KC_ENTER(op, 9, 9, 0)
    Py_ssize_t n = PyArray_SIZE((PyArrayObject *)args[0]);
    PyArrayObject *p = buffer(args[0], t, n);
    PyArrayObject *b = buffer(args[2], t, n);
    if (!p || kc_ftype(args[1]) != t || (args[2] != Py_None && !b))
        return kc_fallback(op, args, nargs);
    PyArrayObject *g = grad_for(op, args[1], p, t);
    if (!g) return NULL;
    double lr, mom, damp, wd;
    int nesterov, first;
    if (kc_double(args[3], &lr) || kc_double(args[4], &mom) || kc_double(args[5], &damp) ||
        (nesterov = kc_bool(args[6])) < 0 || kc_double(args[7], &wd) ||
        (first = kc_bool(args[8])) < 0) {
        Py_DECREF(g);
        return NULL;
    }
    if (mom == 0) b = NULL; /* no momentum: no buffer, as PyTorch */
    KC_RUN(t, n, OPT_THREADS_FROM, sgd, PyArray_DATA(p), PyArray_DATA(g),
           b ? PyArray_DATA(b) : NULL, n, lr, mom, damp, nesterov, wd, first);
    Py_DECREF(g);
    Py_RETURN_NONE;
}

/* adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps,
 *           weight_decay, decoupled, amsgrad) */
KC_DECL(adam_step) {
    const char *op = "adam_step";
    KC_ENTER(op, 13, 13, 0)
    Py_ssize_t n = PyArray_SIZE((PyArrayObject *)args[0]);
    PyArrayObject *p = buffer(args[0], t, n);
    PyArrayObject *m = buffer(args[2], t, n), *v = buffer(args[3], t, n);
    int amsgrad = kc_bool(args[12]);
    if (amsgrad < 0) return NULL;
    PyArrayObject *vmax = buffer(args[4], t, n);
    if (!p || !m || !v || (amsgrad && !vmax) || kc_ftype(args[1]) != t)
        return kc_fallback(op, args, nargs);
    PyArrayObject *g = grad_for(op, args[1], p, t);
    if (!g) return NULL;
    double step, lr, b1, b2, eps, wd;
    int decoupled;
    if (kc_double(args[5], &step) || kc_double(args[6], &lr) || kc_double(args[7], &b1) ||
        kc_double(args[8], &b2) || kc_double(args[9], &eps) || kc_double(args[10], &wd) ||
        (decoupled = kc_bool(args[11])) < 0) {
        Py_DECREF(g);
        return NULL;
    }
    double bc1 = 1 - pow(b1, step), bc2 = 1 - pow(b2, step);
    double step_size = lr / bc1, bc2_sqrt = sqrt(bc2);
    KC_RUN(t, n, OPT_THREADS_FROM / 4, adam, PyArray_DATA(p), PyArray_DATA(g), PyArray_DATA(m),
           PyArray_DATA(v), amsgrad ? PyArray_DATA(vmax) : NULL, n, lr, b1, b2, eps, wd,
           decoupled, step_size, bc2_sqrt);
    Py_DECREF(g);
    Py_RETURN_NONE;
}
