/* Fused softmax attention, float32 and float64 (accumulating in the element type):
 *   attention_forward(q, k, v, mask, is_causal, scale, drop=None) -> (out, lse)
 *   attention_backward(g, q, k, v, out, lse, mask, is_causal, scale, drop=None) -> (dq, dk, dv)
 * q (*batch, L, E), k (*batch, S, E), v (*batch, S, Ev) with one or two batch dimensions, each
 * at any strides (the heads of a (B, L, 3, H, E) projection are read where they lie); mask
 * None or an additive float array of shape (B|1, L|1, S|1) (any strides), B the batch's size
 * in C order; lse (*batch, L). out, dq, dk and dv come laid out as q, k and v are (q's heads
 * interleaved along L give an out whose (B, L, H * Ev) reshape costs nothing). Tiled (ATT_BR x
 * ATT_BC) with an online softmax and the tiles' products on the C GEMM: nothing of size L x S
 * is built, and the causal case skips the tiles above the diagonal. Threads split the batch
 * in contiguous shares; each batch index is computed the same way on whichever thread, so
 * results do not depend on the thread count. A dropout multiplier (`drop`), other dtypes or
 * shapes go to the numpy reference. */
/* 256-bit vectors here on an AVX-512 machine too (kc_simd.h): the tiles' products, a few
 * dozen rows and columns each, fill a 6 x 16 register tile where a 12 x 32 one is mostly
 * padding, and the row loops run whole vectors; on a GPT's heads (W7) this file built with
 * 512-bit vectors took 1.3-1.5x as long */
#define KC_NARROW
#if defined(__GNUC__) && !defined(__clang__)
/* comparisons that may not trap let GCC turn the selects of kc_math.h's exp into vector
 * blends: without this the exp loops of the tiles stay scalar */
#pragma GCC optimize("no-trapping-math")
#endif
#include "kc.h"
#include "kc_math.h"
#include "kc_vexp.h"
#include <math.h>

/* tile sizes (-D to try others: 32 x 32 and 64 x 64 measured slower than 48 x 48 on a GPT's
 * 64-position heads) */
#ifndef ATT_BR
#define ATT_BR 48                       /* query rows per tile */
#endif
#ifndef ATT_BC
#define ATT_BC 48                       /* keys per tile */
#endif
#define ATT_LANES 16                    /* partial sums in a row reduction */
#define ATT_THREADS_FROM (1 << 18)      /* multiply-adds from which the batch is split */

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#ifdef __AVX512F__
/* the GEMM core on this file's 256-bit tiles, kc_gemm_ns / kc_gemm_nd */
#define T float
#define SFX ns
#include "gemm_impl.h"
#undef T
#undef SFX
#define T double
#define SFX nd
#include "gemm_impl.h"
#undef T
#undef SFX
#define ATT_SGEMM(...) kc_gemm_ns(__VA_ARGS__, NULL)
#define ATT_DGEMM(...) kc_gemm_nd(__VA_ARGS__, NULL)
#else                                   /* gemm.c's tiles are 256 bits wide or narrower */
#define ATT_SGEMM kc_sgemm
#define ATT_DGEMM kc_dgemm
#endif

/* an operand's rows: batch index b = b1 * b2 + i2 starts at p + b1 s0 + i2 s1, its rows are
 * sl apart (strides in elements; a row's elements are contiguous) */
typedef struct {
    void *p;
    Py_ssize_t b2, s0, s1, sl;
} att_view;

/* a call's sizes (B the batch), the mask's element strides along B, L, S, and its options */
typedef struct {
    Py_ssize_t B, L, S, E, Ev, mb, ml, ms;
    int causal;
    double scale;
} att_shape;

/* e^(x - m) over a float32 row in SIMD vectors (kc_vexp.h; x <= m), and its sum; two vectors
 * a step, with two partial sums (the order fixed by n alone); a tail shorter than a vector
 * one value at a time */
static inline float att_rowexp_vf(float *x, Py_ssize_t n, float m) {
    const kc_vf vm = kc_vf_splat(m);
    kc_vf s0 = kc_vf_splat(0.0f), s1 = s0;
    Py_ssize_t j = 0;
    for (; j + 2 * KC_VF_LEN <= n; j += 2 * KC_VF_LEN) {
        const kc_vf e0 = kc_vexpf_nonpos(kc_vf_load(x + j) - vm);
        const kc_vf e1 = kc_vexpf_nonpos(kc_vf_load(x + j + KC_VF_LEN) - vm);
        kc_vf_store(x + j, e0);
        kc_vf_store(x + j + KC_VF_LEN, e1);
        s0 += e0;
        s1 += e1;
    }
    if (j + KC_VF_LEN <= n) {
        const kc_vf e = kc_vexpf_nonpos(kc_vf_load(x + j) - vm);
        kc_vf_store(x + j, e);
        s0 += e;
        j += KC_VF_LEN;
    }
    float b[KC_VF_LEN], t = 0;
    kc_vf_store(b, s0 + s1);
    for (int u = 0; u < (int)KC_VF_LEN; u++) t += b[u];
    for (; j < n; j++) t += x[j] = kc_expf_nonpos(x[j] - m);
    return t;
}

/* x = e^min(x - l, 0) over a float32 row (the weights from the log-sum-exp l: <= 1 up to
 * rounding) */
static inline void att_rowexp_lse_vf(float *x, Py_ssize_t n, float l) {
    const kc_vf vl = kc_vf_splat(l), z = kc_vf_splat(0.0f);
    Py_ssize_t j = 0;
    for (; j + KC_VF_LEN <= n; j += KC_VF_LEN) {
        const kc_vf d = kc_vf_load(x + j) - vl;
        kc_vf_store(x + j, kc_vexpf_nonpos(kc_vf_sel(d < z, d, z)));
    }
    for (; j < n; j++) {
        const float d = x[j] - l;
        x[j] = kc_expf_nonpos(d < 0 ? d : 0);
    }
}

#if KC_VBYTES == 32 && defined(__AVX__)
#include <immintrin.h>
/* the 8 x 8 float block at a (rows lda apart) transposed into at (rows ldt apart) */
static inline void att_tr8_f(const float *a, Py_ssize_t lda, float *at, Py_ssize_t ldt) {
    __m256 r[8], u[8], w[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(a + i * lda);
    for (int i = 0; i < 8; i += 2) {       /* pairs of rows interleaved */
        u[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        u[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {       /* then pairs of pairs */
        w[i] = _mm256_shuffle_ps(u[i], u[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        w[i + 1] = _mm256_shuffle_ps(u[i], u[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        w[i + 2] = _mm256_shuffle_ps(u[i + 1], u[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        w[i + 3] = _mm256_shuffle_ps(u[i + 1], u[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {          /* and the 128-bit halves of rows 0-3 and 4-7 */
        _mm256_storeu_ps(at + i * ldt, _mm256_permute2f128_ps(w[i], w[i + 4], 0x20));
        _mm256_storeu_ps(at + (i + 4) * ldt, _mm256_permute2f128_ps(w[i], w[i + 4], 0x31));
    }
}
#define TR8 att_tr8_f
#endif

#define T float
#define SFX _f
#define ROWMAX kc_vf_max_n
#define ROWEXP att_rowexp_vf
#define ROWEXP_LSE att_rowexp_lse_vf
#define GEMM ATT_SGEMM
#define EXP kc_expf_nonpos
#define LOG logf
#include "attention_impl.h"
#undef T
#undef SFX
#undef EXP
#undef GEMM
#undef LOG
#undef ROWMAX
#undef ROWEXP
#undef ROWEXP_LSE
#undef TR8
#define T double
#define SFX _d
#define ROWMAX att_max_d
#define ROWEXP att_rowexp_d
#define ROWEXP_LSE att_rowexp_lse_d
#define GEMM ATT_DGEMM
#define EXP kc_expd
#define LOG log
#include "attention_impl.h"
#undef T
#undef SFX
#undef EXP
#undef GEMM
#undef LOG

/* q, k, v as (B, L, E), (B, S, E), (B, S, Ev) of type t into sh (one or two batch dimensions,
 * the same for all three); -1 if they do not fit */
static int att_dims(int t, PyObject *q, PyObject *k, PyObject *v, att_shape *sh) {
    if (kc_ftype(q) != t || kc_ftype(k) != t || kc_ftype(v) != t) return -1;
    PyArrayObject *a = (PyArrayObject *)q, *b = (PyArrayObject *)k, *c = (PyArrayObject *)v;
    const int nd = PyArray_NDIM(a);
    if ((nd != 3 && nd != 4) || PyArray_NDIM(b) != nd || PyArray_NDIM(c) != nd) return -1;
    const npy_intp *x = PyArray_DIMS(a), *y = PyArray_DIMS(b), *z = PyArray_DIMS(c);
    Py_ssize_t B = 1;
    for (int i = 0; i < nd - 2; i++) {
        if (y[i] != x[i] || z[i] != x[i]) return -1;
        B *= x[i];
    }
    if (y[nd - 1] != x[nd - 1] || z[nd - 2] != y[nd - 2]) return -1;
    sh->B = B, sh->L = x[nd - 2], sh->S = y[nd - 2], sh->E = x[nd - 1], sh->Ev = z[nd - 1];
    if (sh->B < 1 || sh->L < 1 || sh->S < 1 || sh->E < 1 || sh->Ev < 1) return -1;
    return 0;
}

/* the mask's strides in elements (0 along its size-1 dimensions) into sh; -1 if it does not
 * fit */
static int att_mask(int t, PyObject *o, att_shape *sh) {
    if (o == Py_None) {
        sh->mb = sh->ml = sh->ms = 0;
        return 0;
    }
    if (kc_ftype(o) != t || PyArray_NDIM((PyArrayObject *)o) != 3) return -1;
    PyArrayObject *m = (PyArrayObject *)o;
    const Py_ssize_t want[3] = {sh->B, sh->L, sh->S}, isz = PyArray_ITEMSIZE(m);
    Py_ssize_t st[3];
    for (int i = 0; i < 3; i++) {
        const npy_intp n = PyArray_DIM(m, i), s = PyArray_STRIDE(m, i);
        if ((n != want[i] && n != 1) || s % isz) return -1;
        st[i] = n == 1 ? 0 : s / isz;
    }
    sh->mb = st[0], sh->ml = st[1], sh->ms = st[2];
    return 0;
}

/* is_causal and scale into sh; -1 with an exception set on failure */
static int att_flags(PyObject *causal, PyObject *scale, att_shape *sh) {
    sh->causal = kc_bool(causal);
    if (sh->causal < 0) return -1;
    return kc_double(scale, &sh->scale);
}

/* o itself when its rows can be read in place (aligned, native, strides in whole elements,
 * each row contiguous), else a C-ordered copy; a new reference, NULL with an exception set */
static PyArrayObject *att_operand(PyObject *o, int t) {
    PyArrayObject *a = (PyArrayObject *)o;
    const int nd = PyArray_NDIM(a);
    const npy_intp isz = PyArray_ITEMSIZE(a);
    int ok = PyArray_TYPE(a) == t && PyArray_ISALIGNED(a) && PyArray_ISNOTSWAPPED(a) &&
             (PyArray_DIM(a, nd - 1) == 1 || PyArray_STRIDE(a, nd - 1) == isz);
    for (int i = 0; ok && i < nd; i++) ok = PyArray_STRIDE(a, i) % isz == 0;
    if (ok) {
        Py_INCREF(o);
        return a;
    }
    return kc_contig(o, t);
}

/* the rows of a (one or two batch dimensions) */
static att_view att_view_of(PyArrayObject *a) {
    const int nd = PyArray_NDIM(a);
    const npy_intp isz = PyArray_ITEMSIZE(a);
    att_view w = {PyArray_DATA(a), 1, PyArray_STRIDE(a, 0) / isz, 0,
                  PyArray_STRIDE(a, nd - 2) / isz};
    if (nd == 4) w.b2 = PyArray_DIM(a, 1), w.s1 = PyArray_STRIDE(a, 1) / isz;
    return w;
}

/* a new array of a's shape with the last size `last`, its dimensions laid out in memory in
 * the order of a's strides (largest first; the last dimension innermost): an output or a
 * gradient laid out as its input is */
static PyArrayObject *att_like(PyArrayObject *a, npy_intp last, int t) {
    const int nd = PyArray_NDIM(a);
    const npy_intp *st = PyArray_STRIDES(a);
    npy_intp perm[4], inv[4], md[4] = {0};
    for (int i = 0; i < nd; i++) perm[i] = i;
    for (int i = 1; i < nd - 1; i++)       /* insertion sort: ties keep their order */
        for (int j = i; j > 0 && (st[perm[j]] < 0 ? -st[perm[j]] : st[perm[j]]) >
                                      (st[perm[j - 1]] < 0 ? -st[perm[j - 1]] : st[perm[j - 1]]);
             j--) {
            const npy_intp x = perm[j];
            perm[j] = perm[j - 1], perm[j - 1] = x;
        }
    for (int i = 0; i < nd; i++) {
        md[i] = i == nd - 1 ? last : PyArray_DIM(a, perm[i]);
        inv[perm[i]] = i;
    }
    PyArrayObject *m = (PyArrayObject *)PyArray_SimpleNew(nd, md, t);
    if (!m) return NULL;
    PyArray_Dims order = {inv, nd};      /* memory order back to a's order of dimensions */
    PyArrayObject *r = (PyArrayObject *)PyArray_Transpose(m, &order);
    Py_DECREF(m);
    return r;
}

static void att_fwd(int t, const att_view *q, const att_view *k, const att_view *v,
                    const void *mask, const att_shape *sh, const att_view *out, void *lse,
                    char *scratch, size_t per, Py_ssize_t lo, Py_ssize_t hi) {
    void *mine = scratch + (size_t)kc_tid() * per;
    if (t == NPY_FLOAT)
        att_fwd_range_f(q, k, v, mask, sh, out, lse, mine, lo, hi);
    else
        att_fwd_range_d(q, k, v, mask, sh, out, lse, mine, lo, hi);
}

/* w: the views of g, q, k, v, out, dq, dk, dv */
static void att_bwd(int t, const att_view w[8], const void *lse, const void *mask,
                    const att_shape *sh, char *scratch, size_t per, Py_ssize_t lo,
                    Py_ssize_t hi) {
    void *mine = scratch + (size_t)kc_tid() * per;
    if (t == NPY_FLOAT)
        att_bwd_range_f(&w[0], &w[1], &w[2], &w[3], &w[4], lse, mask, sh, &w[5], &w[6], &w[7],
                        mine, lo, hi);
    else
        att_bwd_range_d(&w[0], &w[1], &w[2], &w[3], &w[4], lse, mask, sh, &w[5], &w[6], &w[7],
                        mine, lo, hi);
}

/* threads for the batch of sh, and the scratch bytes per thread (64-byte multiples) */
static int att_threads(const att_shape *sh, size_t elems, size_t isz, size_t *per) {
    int nt = kc_threads_for((double)sh->B * sh->L * sh->S * (sh->E + sh->Ev), ATT_THREADS_FROM);
    if (nt > sh->B) nt = (int)sh->B;
    *per = (elems * isz + 63) / 64 * 64;
    return nt;
}

KC_DECL(attention_forward) {
    const char *op = "attention_forward";
    KC_ENTER(op, 6, 7, 0)
    att_shape sh;
    if (att_dims(t, args[0], args[1], args[2], &sh) || att_mask(t, args[3], &sh) ||
        (nargs == 7 && args[6] != Py_None))
        KC_DECLINE;
    if (att_flags(args[4], args[5], &sh)) return NULL;
    PyArrayObject *q = NULL, *k = NULL, *v = NULL, *out = NULL, *lse = NULL;
    PyObject *res = NULL;
    char *scratch = NULL;
    size_t got = 0, per;
    if (!(q = att_operand(args[0], t)) || !(k = att_operand(args[1], t)) ||
        !(v = att_operand(args[2], t)) || !(out = att_like(q, sh.Ev, t)) ||
        !(lse = (PyArrayObject *)PyArray_SimpleNew(PyArray_NDIM(q) - 1, PyArray_DIMS(q), t)))
        goto done;
    {
        const size_t isz = (size_t)PyArray_ITEMSIZE(q);
        const size_t elems = (size_t)(sh.E * sh.S + ATT_BR * (ATT_BC + sh.Ev + 2));
        const int nt = att_threads(&sh, elems, isz, &per);
        if (!(scratch = kc_scratch_take((size_t)nt * per, &got))) {
            PyErr_NoMemory();
            goto done;
        }
        const att_view wq = att_view_of(q), wk = att_view_of(k), wv = att_view_of(v);
        const att_view wo = att_view_of(out);
        const void *pm = args[3] == Py_None ? NULL : PyArray_DATA((PyArrayObject *)args[3]);
        void *pl = PyArray_DATA(lse);
        KC_NOGIL_BEGIN(sh.B * sh.L * sh.S * sh.E > 16384)
        KC_SPLIT(nt, sh.B, lo, hi,
                 att_fwd(t, &wq, &wk, &wv, pm, &sh, &wo, pl, scratch, per, lo, hi));
        KC_NOGIL_END
    }
    res = PyTuple_Pack(2, (PyObject *)out, (PyObject *)lse);
done:
    if (scratch) kc_scratch_give(scratch, got);
    Py_XDECREF(q); Py_XDECREF(k); Py_XDECREF(v); Py_XDECREF(out); Py_XDECREF(lse);
    return res;
}

/* is o an array of type t with the nd sizes `dims`? */
static int att_has(PyObject *o, int t, const npy_intp *dims, int nd) {
    return kc_ftype(o) == t && PyArray_NDIM((PyArrayObject *)o) == nd &&
           PyArray_CompareLists(PyArray_DIMS((PyArrayObject *)o), dims, nd);
}

KC_DECL(attention_backward) {
    const char *op = "attention_backward";
    KC_ENTER(op, 9, 10, 1)
    att_shape sh;
    if (att_dims(t, args[1], args[2], args[3], &sh) || att_mask(t, args[6], &sh) ||
        (nargs == 10 && args[9] != Py_None))
        KC_DECLINE;
    {   /* g and out: q's batch and L, then Ev; lse: q's batch and L */
        const int nd = PyArray_NDIM((PyArrayObject *)args[1]);
        npy_intp want[4];
        memcpy(want, PyArray_DIMS((PyArrayObject *)args[1]), (size_t)nd * sizeof(npy_intp));
        want[nd - 1] = sh.Ev;
        if (!att_has(args[0], t, want, nd) || !att_has(args[4], t, want, nd) ||
            !att_has(args[5], t, want, nd - 1))
            KC_DECLINE;
    }
    if (att_flags(args[7], args[8], &sh)) return NULL;
    PyArrayObject *a[6] = {NULL}, *dq = NULL, *dk = NULL, *dv = NULL;  /* g q k v out lse */
    PyObject *res = NULL;
    char *scratch = NULL;
    size_t got = 0, per;
    for (int i = 0; i < 5; i++)
        if (!(a[i] = att_operand(args[i], t))) goto done;
    if (!(a[5] = kc_contig(args[5], t)) || !(dq = att_like(a[1], sh.E, t)) ||
        !(dk = att_like(a[2], sh.E, t)) || !(dv = att_like(a[3], sh.Ev, t)))
        goto done;
    {
        const size_t isz = (size_t)PyArray_ITEMSIZE(a[1]);
        const size_t elems = (size_t)((sh.E + sh.Ev) * sh.S + 2 * ATT_BR * ATT_BC + sh.L);
        const int nt = att_threads(&sh, elems, isz, &per);
        if (!(scratch = kc_scratch_take((size_t)nt * per, &got))) {
            PyErr_NoMemory();
            goto done;
        }
        const att_view w[8] = {att_view_of(a[0]), att_view_of(a[1]), att_view_of(a[2]),
                               att_view_of(a[3]), att_view_of(a[4]), att_view_of(dq),
                               att_view_of(dk), att_view_of(dv)};
        const void *pm = args[6] == Py_None ? NULL : PyArray_DATA((PyArrayObject *)args[6]);
        const void *pl = PyArray_DATA(a[5]);
        KC_NOGIL_BEGIN(sh.B * sh.L * sh.S * sh.E > 16384)
        KC_SPLIT(nt, sh.B, lo, hi, att_bwd(t, w, pl, pm, &sh, scratch, per, lo, hi));
        KC_NOGIL_END
    }
    res = PyTuple_Pack(3, (PyObject *)dq, (PyObject *)dk, (PyObject *)dv);
done:
    if (scratch) kc_scratch_give(scratch, got);
    for (int i = 0; i < 6; i++) Py_XDECREF(a[i]);
    Py_XDECREF(dq); Py_XDECREF(dk); Py_XDECREF(dv);
    return res;
}
