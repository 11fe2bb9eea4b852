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

static T FN(row_sum_)(const T *restrict x, Py_ssize_t n) {
    double total = 0;
    for (Py_ssize_t c = 0; c < n; c += 4096) {
        Py_ssize_t m = n - c < 4096 ? n - c : 4096, i = 0;
        const T *restrict xc = x + c;
        T acc[NACC];
        for (int j = 0; j < NACC; j++) acc[j] = 0;
        for (; i + NACC <= m; i += NACC)
            for (int j = 0; j < NACC; j++) acc[j] += xc[i + j];
        for (int j = 0; i < m; i++, j++) acc[j] += xc[i];
        for (int w = NACC / 2; w > 0; w /= 2)
            for (int j = 0; j < w; j++) acc[j] += acc[j + w];
        total += (double)acc[0];
    }
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
    if (nt > 1 && g->ng == 1) { /* everything reduced: partial results per thread */
        T part[64];
        int team_used = nt > 64 ? 64 : nt;
#pragma omp parallel num_threads(team_used)
        {
            int tid = kc_tid(), team = kc_team();
            Py_ssize_t lo = size * tid / team, hi = size * (tid + 1) / team;
            part[tid] = hi > lo ? FN(row_red_)(op, x + lo, hi - lo) : init;
#pragma omp barrier
#pragma omp single
            {
                double s = 0;
                T m = init;
                for (int i = 0; i < team; i++) {
                    s += part[i];
                    m = COMBINE(op, part[i], m);
                }
                out[0] = op == RED_SUM ? (T)s : m;
            }
        }
        return;
    }
    if (nt > 1 && !g->red[0] && g->len[0] >= nt) { /* split the outermost kept dim */
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
