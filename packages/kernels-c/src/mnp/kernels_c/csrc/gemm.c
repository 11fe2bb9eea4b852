/* GEMM: the blocked SIMD core for float32/float64 and the gemm / matmul kernels. */
#include "kc.h"
#include <math.h>
#include "kc_simd.h"

#define T float
#define SFX s
#include "gemm_impl.h"
#undef T
#undef SFX

#define T double
#define SFX d
#include "gemm_impl.h"
#undef T
#undef SFX

void kc_sgemm(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const float *A, Py_ssize_t rsa,
              Py_ssize_t csa, const float *B, Py_ssize_t rsb, Py_ssize_t csb, float *C,
              Py_ssize_t ldc, int accumulate, int nthreads) {
    kc_gemm_s(M, N, K, A, rsa, csa, B, rsb, csb, C, ldc, accumulate, nthreads, NULL);
}

void kc_dgemm(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const double *A, Py_ssize_t rsa,
              Py_ssize_t csa, const double *B, Py_ssize_t rsb, Py_ssize_t csb, double *C,
              Py_ssize_t ldc, int accumulate, int nthreads) {
    kc_gemm_d(M, N, K, A, rsa, csa, B, rsb, csb, C, ldc, accumulate, nthreads, NULL);
}

/* threads for a product of M*N*K multiply-adds */
static int gemm_threads(double mnk) { return kc_threads_for(mnk, GEMM_THREADS_FROM); }

/* element strides of a 2-d array, or 0 if a stride is not a multiple of the item size */
static int elem_strides(PyArrayObject *a, Py_ssize_t *rs, Py_ssize_t *cs) {
    npy_intp isz = PyArray_ITEMSIZE(a);
    npy_intp s0 = PyArray_STRIDE(a, 0), s1 = PyArray_STRIDE(a, 1);
    if (s0 % isz || s1 % isz) return 0;
    *rs = s0 / isz;
    *cs = s1 / isz;
    return 1;
}

static void run_gemm(int t, Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const char *a,
                     Py_ssize_t rsa, Py_ssize_t csa, const char *b, Py_ssize_t rsb,
                     Py_ssize_t csb, char *c, Py_ssize_t ldc, int nthreads, const char *bias) {
    if (t == NPY_FLOAT)
        kc_gemm_s(M, N, K, (const float *)a, rsa, csa, (const float *)b, rsb, csb, (float *)c,
                  ldc, 0, nthreads, (const float *)bias);
    else
        kc_gemm_d(M, N, K, (const double *)a, rsa, csa, (const double *)b, rsb, csb,
                  (double *)c, ldc, 0, nthreads, (const double *)bias);
}

/* op(a) @ op(b) (+ bias, N values added to every row in the product's last pass over C, when
 * bias_arg is not NULL) on nthreads threads, or on as many as the work earns (`force` 0) */
static PyObject *product(const char *op, PyObject *ao, PyObject *bo, int ta, int tb,
                         int nthreads, int force, PyObject *bias_arg) {
    int t = kc_ftype(ao);
    if (t < 0 || t != kc_ftype(bo) || (bias_arg && kc_ftype(bias_arg) != t)) KC_DECLINE;
    PyArrayObject *a = (PyArrayObject *)ao, *b = (PyArrayObject *)bo;
    char s1[64], s2[64];
    if (PyArray_NDIM(a) != 2 || PyArray_NDIM(b) != 2)
        return kc_shape_error(op, "expected 2-d arrays, got shapes %s and %s",
                              kc_shape_str(a, s1, 64), kc_shape_str(b, s2, 64));
    Py_ssize_t M = PyArray_DIM(a, ta ? 1 : 0), K = PyArray_DIM(a, ta ? 0 : 1);
    Py_ssize_t K2 = PyArray_DIM(b, tb ? 1 : 0), N = PyArray_DIM(b, tb ? 0 : 1);
    if (K != K2)
        return kc_shape_error(op, "shapes %s%s and %s%s are not aligned: %zd != %zd",
                              kc_shape_str(a, s1, 64), ta ? ".T" : "", kc_shape_str(b, s2, 64),
                              tb ? ".T" : "", K, K2);
    /* a bias other than one value per column (a broadcast the reference does) is declined */
    if (bias_arg && (PyArray_NDIM((PyArrayObject *)bias_arg) != 1 ||
                     PyArray_DIM((PyArrayObject *)bias_arg, 0) != N))
        KC_DECLINE;
    double work = (double)M * N * K;
    PyArrayObject *bias = bias_arg ? kc_contig(bias_arg, t) : NULL;
    if (bias_arg && !bias) return NULL;
    Py_INCREF(a);
    Py_INCREF(b);
    Py_ssize_t rsa = 0, csa = 0, rsb = 0, csb = 0;
    if (!elem_strides(a, &rsa, &csa)) {
        Py_SETREF(a, kc_contig((PyObject *)a, t));
        if (!a) { Py_DECREF(b); Py_XDECREF(bias); return NULL; }
        elem_strides(a, &rsa, &csa);
    }
    if (!elem_strides(b, &rsb, &csb)) {
        Py_SETREF(b, kc_contig((PyObject *)b, t));
        if (!b) { Py_DECREF(a); Py_XDECREF(bias); return NULL; }
        elem_strides(b, &rsb, &csb);
    }
    if (ta) { Py_ssize_t x = rsa; rsa = csa; csa = x; }
    if (tb) { Py_ssize_t x = rsb; rsb = csb; csb = x; }
    npy_intp dims[2] = {M, N};
    PyArrayObject *c = (PyArrayObject *)PyArray_SimpleNew(2, dims, t);
    if (c) {
        int nt = nthreads > 1 ? (force ? nthreads : gemm_threads(work)) : 1;
        KC_NOGIL_BEGIN(work > 32768.0)
        run_gemm(t, M, N, K, PyArray_DATA(a), rsa, csa, PyArray_DATA(b), rsb, csb,
                 PyArray_DATA(c), N, nt, bias ? PyArray_DATA(bias) : NULL);
        KC_NOGIL_END
    }
    Py_DECREF(a);
    Py_DECREF(b);
    Py_XDECREF(bias);
    return (PyObject *)c;
}

/* gemm(a, b, trans_a, trans_b[, threads]); `force` (gemm_blocked): the thread count given */
static PyObject *gemm_impl(const char *op, PyObject *const *args, Py_ssize_t nargs, int force) {
    if (kc_nargs(op, nargs, 2, force ? 5 : 4)) return NULL;
    int ta = 0, tb = 0, nthreads = kc_num_threads;
    if (nargs > 2 && (ta = kc_bool(args[2])) < 0) return NULL;
    if (nargs > 3 && (tb = kc_bool(args[3])) < 0) return NULL;
    if (nargs > 4 && args[4] != Py_None) {
        long n = PyLong_AsLong(args[4]);
        if (n == -1 && PyErr_Occurred()) return NULL;
        nthreads = n < 1 ? 1 : (int)n;
    }
    return product(op, args[0], args[1], ta, tb, nthreads, force, NULL);
}

KC_DECL(gemm) { return gemm_impl("gemm", args, nargs, 0); }
KC_DECL(gemm_blocked) { return gemm_impl("gemm_blocked", args, nargs, 1); }

/* addmm(bias, a, b, trans_a=False, trans_b=False): bias + op(a) @ op(b), a bias of one value
 * per column added in the product's last pass over C (no second pass, no second array) */
KC_DECL(addmm) {
    if (kc_nargs("addmm", nargs, 3, 5)) return NULL;
    int ta = 0, tb = 0;
    if (nargs > 3 && (ta = kc_bool(args[3])) < 0) return NULL;
    if (nargs > 4 && (tb = kc_bool(args[4])) < 0) return NULL;
    return product("addmm", args[1], args[2], ta, tb, kc_num_threads, 0, args[0]);
}

/* M*N*K of gemm(a, b, trans_a=False, trans_b=False) or of one product of matmul(a, b), the
 * work dispatch's size rule compares with GEMM_BLAS_FROM (plugin.py); 0.0 for operands the
 * kernel rejects or declines, so that it is the kernel that answers them */
static PyObject *product_work(PyObject *const *args, Py_ssize_t nargs, int matmul) {
    if (nargs < 2 || !PyArray_Check(args[0]) || !PyArray_Check(args[1])) return PyFloat_FromDouble(0.0);
    PyArrayObject *a = (PyArrayObject *)args[0], *b = (PyArrayObject *)args[1];
    int na = PyArray_NDIM(a), nb = PyArray_NDIM(b), ta = 0, tb = 0;
    if (matmul ? (na < 2 || nb < 2) : (na != 2 || nb != 2)) return PyFloat_FromDouble(0.0);
    if (!matmul && ((nargs > 2 && (ta = PyObject_IsTrue(args[2])) < 0) ||
                    (nargs > 3 && (tb = PyObject_IsTrue(args[3])) < 0))) {
        PyErr_Clear();
        return PyFloat_FromDouble(0.0);
    }
    Py_ssize_t M = PyArray_DIM(a, ta ? na - 1 : na - 2), K = PyArray_DIM(a, ta ? na - 2 : na - 1);
    Py_ssize_t K2 = PyArray_DIM(b, tb ? nb - 1 : nb - 2), N = PyArray_DIM(b, tb ? nb - 2 : nb - 1);
    return PyFloat_FromDouble(K == K2 ? (double)M * N * K : 0.0);
}

KC_DECL(gemm_work) { return product_work(args, nargs, 0); }
KC_DECL(matmul_work) { return product_work(args, nargs, 1); }

/* matmul(a, b): numpy semantics for a.ndim, b.ndim >= 2 with broadcast batch dimensions;
 * 1-d operands and other dtypes go to numpy */
KC_DECL(matmul) {
    if (kc_nargs("matmul", nargs, 2, 2)) return NULL;
    int t = kc_ftype(args[0]);
    if (t < 0 || t != kc_ftype(args[1])) KC_DECLINE;
    PyArrayObject *a = (PyArrayObject *)args[0], *b = (PyArrayObject *)args[1];
    int na = PyArray_NDIM(a), nb = PyArray_NDIM(b);
    if (na < 2 || nb < 2 || na > 32 || nb > 32) KC_DECLINE;
    char s1[128], s2[128];
    Py_ssize_t M = PyArray_DIM(a, na - 2), K = PyArray_DIM(a, na - 1);
    Py_ssize_t K2 = PyArray_DIM(b, nb - 2), N = PyArray_DIM(b, nb - 1);
    if (K != K2)
        return kc_shape_error("matmul", "shapes %s and %s are not aligned: %zd != %zd",
                              kc_shape_str(a, s1, 128), kc_shape_str(b, s2, 128), K, K2);
    int nd = na > nb ? na : nb, nbatch = nd - 2;
    npy_intp dims[32], sa[32], sb[32];
    Py_ssize_t isz = PyArray_ITEMSIZE(a);
    for (int i = 0; i < nbatch; i++) {
        int ia = i - (nd - na), ib = i - (nd - nb);
        npy_intp da = ia >= 0 ? PyArray_DIM(a, ia) : 1, db = ib >= 0 ? PyArray_DIM(b, ib) : 1;
        if (da != db && da != 1 && db != 1)
            return kc_shape_error("matmul", "shapes %s and %s cannot be broadcast together",
                                  kc_shape_str(a, s1, 128), kc_shape_str(b, s2, 128));
        dims[i] = da == 1 ? db : da; /* numpy's rule: 1 broadcasts, even against 0 */
        sa[i] = (ia >= 0 && da != 1) ? PyArray_STRIDE(a, ia) : 0;
        sb[i] = (ib >= 0 && db != 1) ? PyArray_STRIDE(b, ib) : 0;
        if (sa[i] % isz || sb[i] % isz) KC_DECLINE;
    }
    dims[nbatch] = M;
    dims[nbatch + 1] = N;
    double work = (double)M * N * K;
    Py_ssize_t rsa, csa, rsb, csb;
    npy_intp ta0 = PyArray_STRIDE(a, na - 2), ta1 = PyArray_STRIDE(a, na - 1);
    npy_intp tb0 = PyArray_STRIDE(b, nb - 2), tb1 = PyArray_STRIDE(b, nb - 1);
    if (ta0 % isz || ta1 % isz || tb0 % isz || tb1 % isz) KC_DECLINE;
    rsa = ta0 / isz; csa = ta1 / isz; rsb = tb0 / isz; csb = tb1 / isz;
    PyArrayObject *c = (PyArrayObject *)PyArray_SimpleNew(nd, dims, t);
    if (!c) return NULL;
    Py_ssize_t batch = 1;
    for (int i = 0; i < nbatch; i++) batch *= dims[i];
    const char *pa = PyArray_DATA(a), *pb = PyArray_DATA(b);
    char *pc = PyArray_DATA(c);
    Py_ssize_t cstep = M * N * isz;
    double total = work * (double)batch;
    int nt = kc_threads_for(total, GEMM_THREADS_FROM);
    /* many small products: one thread per product; few large ones: threads inside each */
    int outer = nt > 1 && batch >= 2 * nt && work < 256.0 * 256 * 256;
    KC_NOGIL_BEGIN(total > 32768.0)
    if (batch == 1) /* without a parallel region: it costs more than a small product */
        run_gemm(t, M, N, K, pa, rsa, csa, pb, rsb, csb, pc, N, nt, NULL);
    else
#pragma omp parallel for num_threads(nt) if (outer) schedule(static)
    for (Py_ssize_t bi = 0; bi < batch; bi++) {
        Py_ssize_t rem = bi, oa = 0, ob = 0;
        for (int i = nbatch - 1; i >= 0; i--) {
            Py_ssize_t idx = rem % dims[i];
            rem /= dims[i];
            oa += idx * sa[i];
            ob += idx * sb[i];
        }
        run_gemm(t, M, N, K, pa + oa, rsa, csa, pb + ob, rsb, csb, pc + bi * cstep, N,
                 outer ? 1 : nt, NULL);
    }
    KC_NOGIL_END
    return (PyObject *)c;
}

/* tuning hook: _set_gemm_blocking(kc, mc, nc, dtype_is_double) */
KC_DECL(_set_gemm_blocking) {
    if (kc_nargs("_set_gemm_blocking", nargs, 4, 4)) return NULL;
    Py_ssize_t v[3];
    for (int i = 0; i < 3; i++) {
        v[i] = PyLong_AsSsize_t(args[i]);
        if (v[i] == -1 && PyErr_Occurred()) return NULL;
        if (v[i] < 16) {
            PyErr_SetString(PyExc_ValueError, "_set_gemm_blocking: sizes must be >= 16");
            return NULL;
        }
    }
    int dbl = PyObject_IsTrue(args[3]);
    if (dbl < 0) return NULL;
    if (dbl) { KC_d = v[0]; MC_d = v[1]; NC_d = v[2]; }
    else { KC_s = v[0]; MC_s = v[1]; NC_s = v[2]; }
    Py_RETURN_NONE;
}
