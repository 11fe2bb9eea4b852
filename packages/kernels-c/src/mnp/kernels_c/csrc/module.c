/* The extension module mnp.kernels_c._ext: method table, errors, threads. */
#define MNP_KC_MODULE_MAIN
#include "kc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#if defined(_OPENMP) && !defined(_WIN32)
#include <pthread.h>
#endif

PyObject *kc_ShapeError = NULL;
PyObject *kc_DTypeError = NULL;
int kc_num_threads = 1;

static PyObject *kc_error(PyObject *type, const char *op, const char *fmt, va_list ap) {
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    PyErr_Format(type, "%s: %s", op, msg);
    return NULL;
}

PyObject *kc_shape_error(const char *op, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    kc_error(kc_ShapeError ? kc_ShapeError : PyExc_ValueError, op, fmt, ap);
    va_end(ap);
    return NULL;
}

PyObject *kc_dtype_error(const char *op, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    kc_error(kc_DTypeError ? kc_DTypeError : PyExc_TypeError, op, fmt, ap);
    va_end(ap);
    return NULL;
}

int kc_nargs(const char *op, Py_ssize_t nargs, Py_ssize_t lo, Py_ssize_t hi) {
    if (nargs < lo || nargs > hi) {
        if (lo == hi)
            PyErr_Format(PyExc_TypeError, "%s: takes %zd arguments, got %zd", op, lo, nargs);
        else
            PyErr_Format(PyExc_TypeError, "%s: takes %zd to %zd arguments, got %zd", op, lo, hi,
                         nargs);
        return -1;
    }
    return 0;
}

const char *kc_shape_str(PyArrayObject *a, char *buf, size_t size) {
    int nd = PyArray_NDIM(a);
    size_t n = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < nd && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%zd", i ? ", " : "",
                              (Py_ssize_t)PyArray_DIM(a, i));
    if (n < size) snprintf(buf + n, size - n, nd == 1 ? ",)" : ")");
    return buf;
}

int kc_pair(const char *op, const char *what, PyObject *o, Py_ssize_t out[2]) {
    if (PyLong_Check(o)) {
        Py_ssize_t v = PyLong_AsSsize_t(o);
        if (v == -1 && PyErr_Occurred()) return -1;
        out[0] = out[1] = v;
        return 0;
    }
    PyObject *seq = PySequence_Fast(o, "");
    if (!seq || PySequence_Fast_GET_SIZE(seq) != 2) {
        Py_XDECREF(seq);
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s: %s must be an int or a pair of ints", op, what);
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        PyObject *it = PySequence_Fast_GET_ITEM(seq, i);
        Py_ssize_t v = PyNumber_Check(it) ? PyNumber_AsSsize_t(it, PyExc_OverflowError) : -1;
        if (v == -1 && PyErr_Occurred()) {
            Py_DECREF(seq);
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "%s: %s must be an int or a pair of ints", op, what);
            return -1;
        }
        out[i] = v;
    }
    Py_DECREF(seq);
    return 0;
}

int kc_double(PyObject *o, double *out) {
    double v = PyFloat_AsDouble(o);
    if (v == -1.0 && PyErr_Occurred()) return -1;
    *out = v;
    return 0;
}

void *kc_aligned_alloc(size_t bytes) {
    void *p = NULL;
    if (bytes == 0) bytes = 64;
    if (posix_memalign(&p, 64, bytes) != 0) return NULL;
    return p;
}

void kc_aligned_free(void *p) { free(p); }

/* A few cached scratch blocks: large packing buffers are reused instead of being returned
 * to the system and faulted in again on the next call. Each slot is taken atomically; a
 * caller that finds every slot taken allocates its own. `*got` is the slot + 1, or 0. */
#define KC_SCRATCH_SLOTS 8
static void *scratch_ptr[KC_SCRATCH_SLOTS];
static size_t scratch_size[KC_SCRATCH_SLOTS];
static int scratch_busy[KC_SCRATCH_SLOTS];

void *kc_scratch_take(size_t bytes, size_t *got) {
    for (int s = 0; s < KC_SCRATCH_SLOTS; s++) {
        if (__atomic_exchange_n(&scratch_busy[s], 1, __ATOMIC_ACQUIRE) != 0) continue;
        if (scratch_size[s] < bytes) {
            free(scratch_ptr[s]);
            scratch_ptr[s] = kc_aligned_alloc(bytes);
            scratch_size[s] = scratch_ptr[s] ? bytes : 0;
        }
        if (scratch_ptr[s]) {
            *got = (size_t)s + 1;
            return scratch_ptr[s];
        }
        __atomic_store_n(&scratch_busy[s], 0, __ATOMIC_RELEASE);
        break;
    }
    *got = 0;
    return kc_aligned_alloc(bytes);
}

void kc_scratch_give(void *p, size_t got) {
    if (got) __atomic_store_n(&scratch_busy[got - 1], 0, __ATOMIC_RELEASE);
    else free(p);
}

int kc_deterministic = 0;

/* ---- module-level functions ------------------------------------------------------------ */
static int max_threads(void) {
#ifdef _OPENMP
    return omp_get_num_procs();
#else
    return 1;
#endif
}

static PyObject *set_num_threads(PyObject *self, PyObject *arg) {
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) return NULL;
    if (n < 1) {
        PyErr_Format(PyExc_ValueError, "set_num_threads: n must be >= 1, got %ld", n);
        return NULL;
    }
#ifdef _OPENMP
    kc_num_threads = (int)n;
#else
    kc_num_threads = 1;
#endif
    Py_RETURN_NONE;
}

static PyObject *get_num_threads(PyObject *self, PyObject *unused) {
    return PyLong_FromLong(kc_num_threads);
}

static PyObject *set_deterministic(PyObject *self, PyObject *arg) {
    int on = PyObject_IsTrue(arg);
    if (on < 0) return NULL;
    kc_deterministic = on;
    Py_RETURN_NONE;
}

static PyObject *get_deterministic(PyObject *self, PyObject *unused) {
    return PyBool_FromLong(kc_deterministic);
}

/* {kernel: (sizes...)}: where each kernel changes path (kc_limits.h, via manifest.py) */
static PyObject *thresholds(PyObject *self, PyObject *unused) {
    static const struct { const char *name; long long v[6]; } table[] = {KC_THRESHOLD_ROWS};
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        int n = 0;
        while (n < 6 && table[i].v[n]) n++;
        PyObject *vals = PyTuple_New(n);
        if (!vals) { Py_DECREF(d); return NULL; }
        for (int k = 0; k < n; k++) {
            PyObject *v = PyLong_FromLongLong(table[i].v[k]);
            if (!v) { Py_DECREF(vals); Py_DECREF(d); return NULL; }
            PyTuple_SET_ITEM(vals, k, v);
        }
        if (PyDict_SetItemString(d, table[i].name, vals) < 0) { Py_DECREF(vals); Py_DECREF(d); return NULL; }
        Py_DECREF(vals);
    }
    return d;
}

static PyObject *build_info(PyObject *self, PyObject *unused) {
#if defined(__AVX512F__)
    const char *simd = "avx512f";
#elif defined(__AVX2__) && defined(__FMA__)
    const char *simd = "avx2+fma";
#elif defined(__AVX__)
    const char *simd = "avx";
#elif defined(__SSE2__)
    const char *simd = "sse2";
#elif defined(__ARM_NEON)
    const char *simd = "neon";
#else
    const char *simd = "generic";
#endif
#ifdef _OPENMP
    int omp = 1;
#else
    int omp = 0;
#endif
    return Py_BuildValue("{s:s,s:O,s:i,s:d,s:d}", "simd", simd, "openmp", omp ? Py_True : Py_False,
                         "max_threads", max_threads(), "gemm_blas_from_f32", (double)GEMM_BLAS_FROM,
                         "gemm_blas_from_f64", (double)GEMM_BLAS_FROM);
}

#define KC_FAST(name, doc) {#name, (PyCFunction)(void (*)(void))kc_##name, METH_FASTCALL, doc}

static PyMethodDef methods[] = {
    KC_KERNEL_METHODS /* every kernel and GEMM helper of manifest.py */
    {"set_num_threads", set_num_threads, METH_O, "threads large kernels may use"},
    {"get_num_threads", get_num_threads, METH_NOARGS, "threads large kernels may use"},
    {"build_info", build_info, METH_NOARGS, "compile-time features of this build"},
    {"set_deterministic", set_deterministic, METH_O,
     "True: every kernel gives the same bits for any thread count (no BLAS hand-over)"},
    {"get_deterministic", get_deterministic, METH_NOARGS, "the set_deterministic flag"},
    {"thresholds", thresholds, METH_NOARGS,
     "{kernel: sizes at which it changes path} (threads, blocking, GEMM algorithm, BLAS)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_ext", "mnp's C kernels (numpy C-API, OpenMP)", -1, methods,
};

#if defined(_OPENMP) && !defined(_WIN32)
/* GNU OpenMP's thread pool does not survive fork(): a forked child (a multiprocessing worker)
 * that entered a parallel region could hang, so children run the kernels on one thread. */
static void after_fork_in_child(void) { kc_num_threads = 1; }
#endif

PyMODINIT_FUNC PyInit__ext(void) {
    import_array();
    PyObject *errors = PyImport_ImportModule("mnp.core.errors");
    if (errors) {
        kc_ShapeError = PyObject_GetAttrString(errors, "ShapeError");
        kc_DTypeError = PyObject_GetAttrString(errors, "DTypeError");
        Py_DECREF(errors);
    }
    if (!kc_ShapeError || !kc_DTypeError) return NULL;
    kc_num_threads = max_threads();
    const char *env = getenv("MNP_NUM_THREADS");
    if (env && *env) {
        long n = strtol(env, NULL, 10);
        if (n >= 1) kc_num_threads = (int)n;
    }
#ifndef _OPENMP
    kc_num_threads = 1;
#elif !defined(_WIN32)
    pthread_atfork(NULL, NULL, after_fork_in_child);
#endif
    return PyModule_Create(&moduledef);
}
