/* sum / max / min reductions for one element type, included by reduce.c with T and SFX
 * defined (and RED_SUM / RED_MAX / RED_MIN). Several independent accumulators per row (so GCC
 * vectorizes without -ffast-math); row sums are formed in chunks and the chunk sums added in
 * double. max and min propagate NaN. */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SFX)
#define NACC (512 / (int)sizeof(T))  /* 8 vectors of 64 bytes */
#define MAXSEL(v, m) (((v) > (m) || (v) != (v)) ? (v) : (m))
#define MINSEL(v, m) (((v) < (m) || (v) != (v)) ? (v) : (m))

/* the float sum of one chunk (n <= RED_CHUNK) with NACC independent accumulators */
static T FN(chunk_sum_)(const T *restrict xc, Py_ssize_t m) {
    T acc[NACC];
    Py_ssize_t i = 0;
    for (int j = 0; j < NACC; j++) acc[j] = 0;
    for (; i + NACC <= m; i += NACC)
        for (int j = 0; j < NACC; j++) acc[j] += xc[i + j];
    for (int j = 0; i < m; i++, j++) acc[j] += xc[i];
    for (int w = NACC / 2; w > 0; w /= 2)
        for (int j = 0; j < w; j++) acc[j] += acc[j + w];
    return acc[0];
}

/* a row's sum: the chunk sums of RED_CHUNK elements added in order, in double */
static T FN(row_sum_)(const T *restrict x, Py_ssize_t n) {
    double total = 0;
    for (Py_ssize_t c = 0; c < n; c += RED_CHUNK)
        total += (double)FN(chunk_sum_)(x + c, n - c < RED_CHUNK ? n - c : RED_CHUNK);
    return (T)total;
}

#include "rowmax_impl.h"
#define RM_NAME row_min_
#define RM_SEL MINSEL
#include "rowmax_impl.h"

/* the reduction `op` of a row of n >= 1 values, and of two partial results */
static T FN(row_red_)(int op, const T *x, Py_ssize_t n) {
    return op == RED_MAX ? FN(row_max_)(x, n) : op == RED_MIN ? FN(row_min_)(x, n)
                                                              : FN(row_sum_)(x, n);
}
#define COMBINE(op, v, m) ((op) == RED_MAX ? MAXSEL(v, m) : (op) == RED_MIN ? MINSEL(v, m) : (m) + (v))

static void FN(reduce_rec_)(int op, const red_groups *g, int gi, const T *x, T *out) {
    Py_ssize_t n = g->len[gi];
    if (gi == g->ng - 1) {
        if (g->red[gi]) {
            T v = FN(row_red_)(op, x, n);
            *out = COMBINE(op, v, *out);
        } else if (op == RED_MAX) {
            for (Py_ssize_t j = 0; j < n; j++) out[j] = MAXSEL(x[j], out[j]);
        } else if (op == RED_MIN) {
            for (Py_ssize_t j = 0; j < n; j++) out[j] = MINSEL(x[j], out[j]);
        } else {
            for (Py_ssize_t j = 0; j < n; j++) out[j] += x[j];
        }
        return;
    }
    Py_ssize_t sx = g->sx[gi], so = g->red[gi] ? 0 : g->so[gi];
    for (Py_ssize_t k = 0; k < n; k++) FN(reduce_rec_)(op, g, gi + 1, x + k * sx, out + k * so);
}

static void FN(reduce_)(int op, const red_groups *g, const T *x, T *out, Py_ssize_t nout,
                        Py_ssize_t size, int nt) {
    const T init = op == RED_MAX ? (T)-INFINITY : op == RED_MIN ? (T)INFINITY : 0;
    for (Py_ssize_t j = 0; j < nout; j++) out[j] = init;
    if (g->ng == 1 && g->red[0] && size >= RED_THREADS_FROM) {
        /* everything reduced: a partial result per chunk of RED_CHUNK elements, whichever
         * thread computes it, combined in chunk order (row_sum_'s order): the same bits for
         * any thread count */
        const Py_ssize_t nch = (size + RED_CHUNK - 1) / RED_CHUNK;
        double *part = malloc((size_t)nch * sizeof(double));
        if (part) {
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
            for (Py_ssize_t c = 0; c < nch; c++) {
                const Py_ssize_t lo = c * RED_CHUNK, n = size - lo < RED_CHUNK ? size - lo : RED_CHUNK;
                part[c] = (double)(op == RED_SUM ? FN(chunk_sum_)(x + lo, n) : FN(row_red_)(op, x + lo, n));
            }
            double s = 0;
            T m = init;
            for (Py_ssize_t c = 0; c < nch; c++) {
                s += part[c];
                m = COMBINE(op, (T)part[c], m);
            }
            out[0] = op == RED_SUM ? (T)s : m;
            free(part);
            return;
        }
    }
    if (nt > 1 && !g->red[0] && g->len[0] >= nt) {
        /* split the outermost kept dim: each output element is computed whole by one thread,
         * as on one thread */
        Py_ssize_t n0 = g->len[0];
#pragma omp parallel for num_threads(nt) schedule(static)
        for (Py_ssize_t k = 0; k < n0; k++) {
            if (g->ng == 1) {
                out[k] = COMBINE(op, x[k], out[k]);
            } else {
                FN(reduce_rec_)(op, g, 1, x + k * g->sx[0], out + k * g->so[0]);
            }
        }
        return;
    }
    FN(reduce_rec_)(op, g, 0, x, out);
}

#undef COMBINE
#undef NACC
#undef MAXSEL
#undef MINSEL
#undef FN
