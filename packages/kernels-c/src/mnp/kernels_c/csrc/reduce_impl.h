/* sum / max reductions for one element type, included by reduce.c with T and SFX defined.
 * Several independent accumulators per row (so GCC vectorizes without -ffast-math);
 * row sums are formed in chunks and the chunk sums added in double. max propagates NaN. */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SFX)
#define NACC (512 / (int)sizeof(T))  /* 8 vectors of 64 bytes */
#define MAXSEL(v, m) (((v) > (m) || (v) != (v)) ? (v) : (m))

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

static void FN(reduce_rec_)(int is_max, const red_groups *g, int gi, const T *x, T *out) {
    Py_ssize_t n = g->len[gi];
    if (gi == g->ng - 1) {
        if (g->red[gi]) {
            T v = is_max ? FN(row_max_)(x, n) : FN(row_sum_)(x, n);
            *out = is_max ? MAXSEL(v, *out) : *out + v;
        } else if (is_max) {
            for (Py_ssize_t j = 0; j < n; j++) out[j] = MAXSEL(x[j], out[j]);
        } else {
            for (Py_ssize_t j = 0; j < n; j++) out[j] += x[j];
        }
        return;
    }
    Py_ssize_t sx = g->sx[gi], so = g->red[gi] ? 0 : g->so[gi];
    for (Py_ssize_t k = 0; k < n; k++) FN(reduce_rec_)(is_max, g, gi + 1, x + k * sx, out + k * so);
}

static void FN(reduce_)(int is_max, const red_groups *g, const T *x, T *out, Py_ssize_t nout,
                        Py_ssize_t size, int nt) {
    for (Py_ssize_t j = 0; j < nout; j++) out[j] = is_max ? (T)-INFINITY : 0;
    if (nt > 1 && g->ng == 1) { /* everything reduced: partial results per thread */
        T part[64];
        int team_used = nt > 64 ? 64 : nt;
#pragma omp parallel num_threads(team_used)
        {
            int tid = kc_tid(), team = kc_team();
            Py_ssize_t lo = size * tid / team, hi = size * (tid + 1) / team;
            part[tid] = hi > lo ? (is_max ? FN(row_max_)(x + lo, hi - lo) : FN(row_sum_)(x + lo, hi - lo))
                                : (is_max ? (T)-INFINITY : 0);
#pragma omp barrier
#pragma omp single
            {
                double s = 0;
                T m = (T)-INFINITY;
                for (int i = 0; i < team; i++) {
                    s += part[i];
                    m = MAXSEL(part[i], m);
                }
                out[0] = is_max ? m : (T)s;
            }
        }
        return;
    }
    if (nt > 1 && !g->red[0] && g->len[0] >= nt) { /* split the outermost kept dim */
        Py_ssize_t n0 = g->len[0];
#pragma omp parallel for num_threads(nt) schedule(static)
        for (Py_ssize_t k = 0; k < n0; k++) {
            if (g->ng == 1) {
                out[k] = is_max ? MAXSEL(x[k], out[k]) : out[k] + x[k];
            } else {
                FN(reduce_rec_)(is_max, g, 1, x + k * g->sx[0], out + k * g->so[0]);
            }
        }
        return;
    }
    FN(reduce_rec_)(is_max, g, 0, x, out);
}

#undef NACC
#undef MAXSEL
#undef FN
