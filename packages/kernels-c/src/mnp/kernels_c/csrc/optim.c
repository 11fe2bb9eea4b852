/* Optimizer steps in place over parameter buffers (PyTorch's update rules), float32/float64:
 * SGD, Adam/AdamW, RMSprop (plain and centered), Adagrad.
 * Buffers that are not writeable, contiguous, of one dtype and one size go to numpy. */
#include "kc.h"
#include <math.h>


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

/* rmsprop: ga (grad_avg) is NULL unless centered, buf NULL without momentum; w = 1 - alpha.
 * The centered mean moves as PyTorch's lerp_ (two-sided form), like the numpy reference. */
#define RMS_FUNCS(SFX, T, SQRT)                                                                \
    static void CAT(rmsprop, SFX)(T *p, const T *g, T *sa, T *ga, T *buf, Py_ssize_t n, T lr,  \
                                  T alpha, T w, T eps, T mom, T wd, int nt) {                   \
        const int lerp_low = (double)w < 0.5;                                                   \
        const T w1 = (T)(1.0 - (double)w);                                                      \
        _Pragma("omp parallel for num_threads(nt) if (nt > 1) schedule(static)")               \
        for (Py_ssize_t i = 0; i < n; i++) {                                                    \
            T gi = g[i];                                                                        \
            if (wd != 0) gi += p[i] * wd;                                                       \
            T s = sa[i] * alpha + gi * gi * w;                                                  \
            sa[i] = s;                                                                          \
            if (ga) {                                                                           \
                T a = ga[i], diff = gi - a;                                                     \
                a = lerp_low ? a + diff * w : gi - diff * w1;                                   \
                ga[i] = a;                                                                      \
                s -= a * a;                                                                     \
            }                                                                                   \
            T d = gi / (SQRT(s) + eps);                                                         \
            if (buf) {                                                                          \
                d = buf[i] * mom + d;                                                           \
                buf[i] = d;                                                                     \
            }                                                                                   \
            p[i] -= d * lr;                                                                     \
        }                                                                                       \
    }                                                                                           \
    static void CAT(adagrad, SFX)(T *p, const T *g, T *sum, Py_ssize_t n, T clr, T eps, T wd,  \
                                  int nt) {                                                     \
        _Pragma("omp parallel for num_threads(nt) if (nt > 1) schedule(static)")               \
        for (Py_ssize_t i = 0; i < n; i++) {                                                    \
            T gi = g[i];                                                                        \
            if (wd != 0) gi += p[i] * wd;                                                       \
            T s = sum[i] + gi * gi;                                                             \
            sum[i] = s;                                                                         \
            p[i] -= gi / (SQRT(s) + eps) * clr;                                                 \
        }                                                                                       \
    }

OPT_FUNCS(_f, float, sqrtf)
OPT_FUNCS(_d, double, sqrt)
RMS_FUNCS(_f, float, sqrtf)
RMS_FUNCS(_d, double, sqrt)

/* sgd_step(param, grad, buf, lr, momentum, dampening, nesterov, weight_decay, first) */
KC_DECL(sgd_step) {
    const char *op = "sgd_step";
    KC_ENTER(op, 9, 9, 0)
    Py_ssize_t n = PyArray_SIZE((PyArrayObject *)args[0]);
    PyArrayObject *p = buffer(args[0], t, n);
    PyArrayObject *b = buffer(args[2], t, n);
    if (!p || kc_ftype(args[1]) != t || (args[2] != Py_None && !b))
        KC_DECLINE;
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
        KC_DECLINE;
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

/* rmsprop_step(param, grad, square_avg, buf, lr, alpha, eps, momentum, weight_decay) and
 * rmsprop_centered_step(param, grad, square_avg, grad_avg, buf, lr, alpha, eps, momentum,
 * weight_decay): `buf` is used only with momentum > 0 */
static PyObject *rmsprop_call(const char *op, int centered, PyObject *const *args,
                              Py_ssize_t nargs) {
    const int k = centered;   /* the scalars start at args[5 + k] */
    KC_ENTER(op, 9 + k, 9 + k, 0)
    Py_ssize_t n = PyArray_SIZE((PyArrayObject *)args[0]);
    double lr, alpha, eps, mom, wd;
    if (kc_double(args[4 + k], &lr) || kc_double(args[5 + k], &alpha) ||
        kc_double(args[6 + k], &eps) || kc_double(args[7 + k], &mom) ||
        kc_double(args[8 + k], &wd))
        return NULL;
    PyArrayObject *p = buffer(args[0], t, n), *sa = buffer(args[2], t, n);
    PyArrayObject *ga = centered ? buffer(args[3], t, n) : NULL;
    PyArrayObject *b = mom > 0 ? buffer(args[3 + k], t, n) : NULL;
    if (!p || !sa || (centered && !ga) || (mom > 0 && !b) || kc_ftype(args[1]) != t)
        KC_DECLINE;
    PyArrayObject *g = grad_for(op, args[1], p, t);
    if (!g) return NULL;
    KC_RUN(t, n, OPT_THREADS_FROM / 4, rmsprop, PyArray_DATA(p), PyArray_DATA(g),
           PyArray_DATA(sa), ga ? PyArray_DATA(ga) : NULL, b ? PyArray_DATA(b) : NULL, n, lr,
           alpha, 1.0 - alpha, eps, mom, wd);
    Py_DECREF(g);
    Py_RETURN_NONE;
}

KC_DECL(rmsprop_step) { return rmsprop_call("rmsprop_step", 0, args, nargs); }
KC_DECL(rmsprop_centered_step) { return rmsprop_call("rmsprop_centered_step", 1, args, nargs); }

/* adagrad_step(param, grad, sum_, step, lr, lr_decay, eps, weight_decay) */
KC_DECL(adagrad_step) {
    const char *op = "adagrad_step";
    KC_ENTER(op, 8, 8, 0)
    Py_ssize_t n = PyArray_SIZE((PyArrayObject *)args[0]);
    PyArrayObject *p = buffer(args[0], t, n), *sum = buffer(args[2], t, n);
    if (!p || !sum || kc_ftype(args[1]) != t) KC_DECLINE;
    double step, lr, lr_decay, eps, wd;
    if (kc_double(args[3], &step) || kc_double(args[4], &lr) || kc_double(args[5], &lr_decay) ||
        kc_double(args[6], &eps) || kc_double(args[7], &wd))
        return NULL;
    PyArrayObject *g = grad_for(op, args[1], p, t);
    if (!g) return NULL;
    double clr = lr / (1 + (step - 1) * lr_decay);
    KC_RUN(t, n, OPT_THREADS_FROM / 4, adagrad, PyArray_DATA(p), PyArray_DATA(g),
           PyArray_DATA(sum), n, clr, eps, wd);
    Py_DECREF(g);
    Py_RETURN_NONE;
}
