/* Shared declarations of the mnp C kernels: argument helpers, errors, threads. */
#ifndef MNP_KC_H
#define MNP_KC_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL MNP_KC_ARRAY_API
#ifndef MNP_KC_MODULE_MAIN
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kc_limits.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- errors and declines (module.c) ----------------------------------------------- */
extern PyObject *kc_ShapeError;  /* mnp.core.errors.ShapeError */
extern PyObject *kc_DTypeError;  /* mnp.core.errors.DTypeError */
extern int kc_num_threads;       /* threads a large kernel may use */

/* Decline an input this kernel does not take: return NotImplemented, and mnp's dispatch runs
 * the kernel's declared fallback (the numpy reference) instead. */
#define KC_DECLINE Py_RETURN_NOTIMPLEMENTED
/* Set ShapeError "op: msg" and return NULL. */
PyObject *kc_shape_error(const char *op, const char *fmt, ...);
PyObject *kc_dtype_error(const char *op, const char *fmt, ...);
/* Check the argument count; sets a TypeError and returns -1 if wrong. */
int kc_nargs(const char *op, Py_ssize_t nargs, Py_ssize_t lo, Py_ssize_t hi);
/* "(2, 3)" for an array's shape, into buf. */
const char *kc_shape_str(PyArrayObject *a, char *buf, size_t size);

/* NPY_FLOAT / NPY_DOUBLE if `o` is an aligned native float32/float64 ndarray, else -1. */
static inline int kc_ftype(PyObject *o) {
    if (!PyArray_Check(o)) return -1;
    PyArray_Descr *d = PyArray_DESCR((PyArrayObject *)o);
    if (d->type_num != NPY_FLOAT && d->type_num != NPY_DOUBLE) return -1;
    if (!PyArray_ISNOTSWAPPED((PyArrayObject *)o) || !PyArray_ISALIGNED((PyArrayObject *)o))
        return -1;
    return d->type_num;
}

/* True when `a` and `b` have the same shape (same number of dimensions, same sizes). */
static inline int kc_same_shape(PyArrayObject *a, PyArrayObject *b) {
    return PyArray_NDIM(a) == PyArray_NDIM(b) &&
           PyArray_CompareLists(PyArray_DIMS(a), PyArray_DIMS(b), PyArray_NDIM(a));
}

/* A C-contiguous, aligned view or copy of `o` with type `t` (new reference). */
static inline PyArrayObject *kc_contig(PyObject *o, int t) {
    if (PyArray_Check(o)) {
        PyArrayObject *a = (PyArrayObject *)o;
        if (PyArray_TYPE(a) == t && PyArray_IS_C_CONTIGUOUS(a) && PyArray_ISALIGNED(a) &&
            PyArray_ISNOTSWAPPED(a)) { /* the common case, without numpy's conversion machinery */
            Py_INCREF(o);
            return a;
        }
    }
    return (PyArrayObject *)PyArray_FROM_OTF(o, t, NPY_ARRAY_IN_ARRAY);
}

/* Every kernel opens with this: the argument count (TypeError if wrong), then `const int t`,
 * the float type of args[I]; any other input is declined. */
#define KC_ENTER(op, lo, hi, I)                                                             \
    if (kc_nargs(op, nargs, lo, hi)) return NULL;                                           \
    const int t = kc_ftype(args[I]);                                                        \
    if (t < 0) KC_DECLINE;

/* fn_f(...) for float32 (t == NPY_FLOAT), else fn_d(...): the two instantiations of a kernel
 * (scalar arguments convert to each one's parameter types) */
#define KC_TYPED(t, fn, ...) ((t) == NPY_FLOAT ? fn##_f(__VA_ARGS__) : fn##_d(__VA_ARGS__))

/* KC_TYPED(t, fn, ..., nt) on nt = kc_threads_for(work, threshold) threads, the GIL released
 * when work > 16384 */
#define KC_RUN(t, work, threshold, fn, ...)                                                 \
    do {                                                                                    \
        const double kc_run_work = (double)(work);                                          \
        const int kc_run_nt = kc_threads_for(kc_run_work, threshold);                       \
        KC_NOGIL_BEGIN(kc_run_work > 16384)                                                 \
        KC_TYPED(t, fn, __VA_ARGS__, kc_run_nt);                                            \
        KC_NOGIL_END                                                                        \
    } while (0)

/* Parse an int or a pair of ints ("(sh, sw)") into out[2]; -1 with TypeError on failure. */
int kc_pair(const char *op, const char *what, PyObject *o, Py_ssize_t out[2]);
/* Truthiness of a Python object (-1 on error). */
static inline int kc_bool(PyObject *o) { return PyObject_IsTrue(o); }
int kc_double(PyObject *o, double *out);

/* ---- threads ----------------------------------------------------------------------------
 * How a kernel splits its work depends only on the shapes and kc_num_threads; every kernel's
 * result is the same for any thread count (README, "Determinism"). */
extern int kc_deterministic;     /* use_deterministic_algorithms(True): never hand over to BLAS */

/* Threads worth using for `work` elementary operations (1 below the threshold). */
static inline int kc_threads_for(double work, double threshold) {
    if (kc_num_threads <= 1 || work < threshold) return 1;
    return kc_num_threads;
}

/* this thread's number in its OpenMP team, and the team's size (0 and 1 without OpenMP) */
static inline int kc_tid(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}
static inline int kc_team(void) {
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

/* Run CALL over [0, n): on this thread when nt is 1, else in nt equal shares, one per OpenMP
 * thread; CALL sees its share as [LO, HI) (the names given). */
#define KC_SPLIT(nt, n, LO, HI, CALL)                                                       \
    do {                                                                                    \
        const int kc_split_nt = (nt);                                                       \
        const Py_ssize_t kc_split_n = (n);                                                  \
        if (kc_split_nt > 1) {                                                              \
            _Pragma("omp parallel num_threads(kc_split_nt)") {                              \
                int kc_split_tid = kc_tid(), kc_split_team = kc_team();                     \
                Py_ssize_t LO = kc_split_n * kc_split_tid / kc_split_team;                  \
                Py_ssize_t HI = kc_split_n * (kc_split_tid + 1) / kc_split_team;            \
                CALL;                                                                       \
            }                                                                               \
        } else {                                                                            \
            Py_ssize_t LO = 0, HI = kc_split_n;                                             \
            CALL;                                                                           \
        }                                                                                   \
    } while (0)

void *kc_aligned_alloc(size_t bytes);
void kc_aligned_free(void *p);
/* A reusable 64-byte aligned scratch buffer (or a fresh one); give it back with its flag. */
void *kc_scratch_take(size_t bytes, size_t *got);
void kc_scratch_give(void *p, size_t got);

/* Release the GIL only when the work pays for it. */
#define KC_NOGIL_BEGIN(big) { PyThreadState *_kc_save = (big) ? PyEval_SaveThread() : NULL;
#define KC_NOGIL_END if (_kc_save) PyEval_RestoreThread(_kc_save); }

/* y = f(x) elementwise for every non-0-d float array x (elementwise.c): lf / ld(op, x, y, n)
 * run over shares of the elements, on threads from `threads_from` elements */
typedef void (*kc_loop_f)(int op, const float *x, float *y, Py_ssize_t n);
typedef void (*kc_loop_d)(int op, const double *x, double *y, Py_ssize_t n);
PyObject *kc_map_unary(const char *name, int op, kc_loop_f lf, kc_loop_d ld,
                       double threads_from, PyObject *const *args, Py_ssize_t nargs);

/* ---- the kernels: kc_<name> in csrc/<family>.c, as listed in manifest.py --------------- */
#define KC_DECL(name) PyObject *kc_##name(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
#include "kc_kernels.h" /* generated at build time from manifest.py */

/* ---- GEMM core (gemm.c): C[M,N] (=|+=) op(A) op(B), strides in elements -------------- */
void kc_sgemm(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K,
              const float *A, Py_ssize_t rsa, Py_ssize_t csa,
              const float *B, Py_ssize_t rsb, Py_ssize_t csb,
              float *C, Py_ssize_t ldc, int accumulate, int nthreads);
void kc_dgemm(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K,
              const double *A, Py_ssize_t rsa, Py_ssize_t csa,
              const double *B, Py_ssize_t rsb, Py_ssize_t csb,
              double *C, Py_ssize_t ldc, int accumulate, int nthreads);
/* The same for A's rows and B's columns contiguous along k (rsa, csb), on this thread:
 * blocks of dot products read in place, the shape of a weight gradient. */
void kc_gemm_dots_s(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const float *A, Py_ssize_t rsa,
                    const float *B, Py_ssize_t csb, float *C, Py_ssize_t ldc, int accumulate);
void kc_gemm_dots_d(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const double *A, Py_ssize_t rsa,
                    const double *B, Py_ssize_t csb, double *C, Py_ssize_t ldc, int accumulate);

#endif
