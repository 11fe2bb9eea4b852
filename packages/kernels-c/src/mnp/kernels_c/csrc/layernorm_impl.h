/* Layer norm rows for one element type, included by norm.c with T, SFX and SQRT defined.
 *
 * A row is read in whole vectors (the last D % VL elements in scalar code); its sums use
 * fixed lanes and a fixed reduction order, so a row's results never depend on the thread
 * that computes it. The backward adds each row's dgamma/dbeta terms to its block's partial
 * sums (ln_bwd_blocks); ln_bwd_cols adds the blocks' partials in block order. */
#define FN(name) CAT(name, SFX)
#define VEC FN(lnvec_)
#define VL ((Py_ssize_t)(KC_VBYTES / sizeof(T)))
#define AI static inline __attribute__((always_inline))

typedef T VEC __attribute__((vector_size(KC_VBYTES)));

AI VEC FN(ln_ld)(const T *p) {
    VEC v;
    memcpy(&v, p, sizeof v);
    return v;
}
AI void FN(ln_st)(T *p, VEC v) { memcpy(p, &v, sizeof v); }
AI VEC FN(ln_splat)(T s) {
    VEC v;
    for (int j = 0; j < (int)VL; j++) v[j] = s;
    return v;
}
/* the lanes of v added as a tree (lane j to lane j + w, w halving) */
AI T FN(ln_hsum)(VEC v) {
    T a[VL];
    memcpy(a, &v, sizeof a);
    for (int w = (int)VL / 2; w > 0; w /= 2)
        for (int j = 0; j < w; j++) a[j] += a[j + w];
    return a[0];
}

/* out[k] = the sum over row x[k] of (x - s[k]) (sq 0) or (x - s[k])^2 (sq 1), for nr (1 or 2)
 * rows at once (independent chains overlap). The compiler may fuse multiply-adds differently
 * for a pair and a single row: callers pair rows by index, not by thread share. */
AI void FN(ln_rsum)(const T *const *x, Py_ssize_t D, const T *s, T *out, const int sq,
                    const int nr) {
    VEC sv[2], a[2][4];
    for (int k = 0; k < nr; k++) {
        sv[k] = FN(ln_splat)(s[k]);
        for (int j = 0; j < 4; j++) a[k][j] = (VEC){0};
    }
    Py_ssize_t d = 0;
    for (; d + 4 * VL <= D; d += 4 * VL)
        for (int k = 0; k < nr; k++)
            for (int j = 0; j < 4; j++) {
                VEC v = FN(ln_ld)(x[k] + d + j * VL) - sv[k];
                a[k][j] += sq ? v * v : v;
            }
    for (; d + VL <= D; d += VL)
        for (int k = 0; k < nr; k++) {
            VEC v = FN(ln_ld)(x[k] + d) - sv[k];
            a[k][0] += sq ? v * v : v;
        }
    for (int k = 0; k < nr; k++) {
        T t = 0;
        for (Py_ssize_t e = d; e < D; e++) {
            T v = x[k][e] - s[k];
            t += sq ? v * v : v;
        }
        out[k] = FN(ln_hsum)((a[k][0] + a[k][1]) + (a[k][2] + a[k][3])) + t;
    }
}

/* nr (1 or 2) rows from r: y = (x - mean) * invstd (* gamma) (+ beta), gamma/beta used or not */
AI void FN(ln_fwd_rows)(const T *x, const T *restrict gamma, const T *restrict beta,
                        Py_ssize_t D, T eps, T *y, T *mean, T *invstd, Py_ssize_t r,
                        const int nr, const int ga, const int be) {
    const T *xr[2] = {x + r * D, x + (r + 1) * D};
    T s0[2], mu[2], is[2], q[2];
    /* the mean of x shifted by its first element: exactly that element for a constant row,
     * whose y is then exactly 0 */
    for (int k = 0; k < nr; k++) s0[k] = isfinite(xr[k][0]) ? xr[k][0] : (T)0;
    FN(ln_rsum)(xr, D, s0, mu, 0, nr);
    for (int k = 0; k < nr; k++) mu[k] = s0[k] + mu[k] / (T)D;
    FN(ln_rsum)(xr, D, mu, q, 1, nr);
    for (int k = 0; k < nr; k++) {
        is[k] = (T)1 / SQRT(q[k] / (T)D + eps);
        mean[r + k] = mu[k];
        invstd[r + k] = is[k];
    }
    for (int k = 0; k < nr; k++) {
        const T *restrict xk = xr[k];
        T *restrict yr = y + (r + k) * D;
        const VEC muv = FN(ln_splat)(mu[k]), isv = FN(ln_splat)(is[k]);
        Py_ssize_t d = 0;
        for (; d + VL <= D; d += VL) {
            VEC v = (FN(ln_ld)(xk + d) - muv) * isv;
            if (ga) v *= FN(ln_ld)(gamma + d);
            if (be) v += FN(ln_ld)(beta + d);
            FN(ln_st)(yr + d, v);
        }
        for (; d < D; d++) {
            T v = (xk[d] - mu[k]) * is[k];
            if (ga) v *= gamma[d];
            if (be) v += beta[d];
            yr[d] = v;
        }
    }
}

/* rows [lo, hi) in pairs (lo even: row 2i with row 2i + 1, a last odd row alone) */
AI void FN(ln_fwd_pairs)(const T *x, const T *gamma, const T *beta, Py_ssize_t D, T eps, T *y,
                         T *mean, T *invstd, Py_ssize_t lo, Py_ssize_t hi, const int ga,
                         const int be) {
    Py_ssize_t r = lo;
    for (; r + 2 <= hi; r += 2) FN(ln_fwd_rows)(x, gamma, beta, D, eps, y, mean, invstd, r, 2, ga, be);
    if (r < hi) FN(ln_fwd_rows)(x, gamma, beta, D, eps, y, mean, invstd, r, 1, ga, be);
}

static void FN(ln_fwd)(const T *x, const T *gamma, const T *beta, Py_ssize_t D, double eps,
                       T *y, T *mean, T *invstd, Py_ssize_t lo, Py_ssize_t hi) {
    const T e = (T)eps;
    if (gamma && beta)
        FN(ln_fwd_pairs)(x, gamma, beta, D, e, y, mean, invstd, lo, hi, 1, 1);
    else if (gamma)
        FN(ln_fwd_pairs)(x, gamma, beta, D, e, y, mean, invstd, lo, hi, 1, 0);
    else if (beta)
        FN(ln_fwd_pairs)(x, gamma, beta, D, e, y, mean, invstd, lo, hi, 0, 1);
    else
        FN(ln_fwd_pairs)(x, gamma, beta, D, e, y, mean, invstd, lo, hi, 0, 0);
}

/* Rows [lo, hi) of dx; with gamma (ga), their dgamma/dbeta terms added to pg/pb in row
 * order. With gy = g * gamma (or g) and h = (x - mean) * invstd:
 * dx = (gy - mean(gy) - h * mean(gy * h)) * invstd, dgamma += g * h, dbeta += g. */
AI void FN(ln_bwd_rows)(const T *g, const T *x, const T *restrict gamma, const T *mean,
                        const T *invstd, Py_ssize_t D, T *dx, T *restrict pg, T *restrict pb,
                        Py_ssize_t lo, Py_ssize_t hi, const int ga) {
    for (Py_ssize_t r = lo; r < hi; r++) {
        const T *restrict gr = g + r * D, *restrict xr = x + r * D;
        T *restrict dr = dx + r * D;
        const T mu = mean[r], is = invstd[r];
        const VEC muv = FN(ln_splat)(mu), isv = FN(ln_splat)(is);
        VEC a0 = {0}, a1 = {0}, b0 = {0}, b1 = {0};
        Py_ssize_t d = 0;
        for (; d + 2 * VL <= D; d += 2 * VL) {
            const VEC g0 = FN(ln_ld)(gr + d), g1 = FN(ln_ld)(gr + d + VL);
            const VEC h0 = (FN(ln_ld)(xr + d) - muv) * isv;
            const VEC h1 = (FN(ln_ld)(xr + d + VL) - muv) * isv;
            VEC y0 = g0, y1 = g1;
            if (ga) {
                y0 *= FN(ln_ld)(gamma + d);
                y1 *= FN(ln_ld)(gamma + d + VL);
                FN(ln_st)(dr + d, y0);
                FN(ln_st)(dr + d + VL, y1);
                FN(ln_st)(pg + d, FN(ln_ld)(pg + d) + g0 * h0);
                FN(ln_st)(pg + d + VL, FN(ln_ld)(pg + d + VL) + g1 * h1);
                FN(ln_st)(pb + d, FN(ln_ld)(pb + d) + g0);
                FN(ln_st)(pb + d + VL, FN(ln_ld)(pb + d + VL) + g1);
            }
            a0 += y0;
            a1 += y1;
            b0 += y0 * h0;
            b1 += y1 * h1;
        }
        for (; d + VL <= D; d += VL) {
            const VEC g0 = FN(ln_ld)(gr + d), h0 = (FN(ln_ld)(xr + d) - muv) * isv;
            VEC y0 = g0;
            if (ga) {
                y0 *= FN(ln_ld)(gamma + d);
                FN(ln_st)(dr + d, y0);
                FN(ln_st)(pg + d, FN(ln_ld)(pg + d) + g0 * h0);
                FN(ln_st)(pb + d, FN(ln_ld)(pb + d) + g0);
            }
            a0 += y0;
            b0 += y0 * h0;
        }
        T ta = 0, tb = 0;
        for (; d < D; d++) {
            const T h = (xr[d] - mu) * is;
            T y = gr[d];
            if (ga) {
                y *= gamma[d];
                dr[d] = y;
                pg[d] += gr[d] * h;
                pb[d] += gr[d];
            }
            ta += y;
            tb += y * h;
        }
        const T a = (FN(ln_hsum)(a0 + a1) + ta) / (T)D;
        const T b = (FN(ln_hsum)(b0 + b1) + tb) / (T)D;
        const VEC av = FN(ln_splat)(a), bv = FN(ln_splat)(b);
        /* gy from dr where stored (the rounded products the sums took) */
        const T *yr = ga ? dr : gr;
        for (d = 0; d + VL <= D; d += VL) {
            const VEC h = (FN(ln_ld)(xr + d) - muv) * isv;
            FN(ln_st)(dr + d, (FN(ln_ld)(yr + d) - av - h * bv) * isv);
        }
        for (; d < D; d++) dr[d] = (yr[d] - a - (xr[d] - mu) * is * b) * is;
    }
}

/* Blocks [b0, b1) of `rows` rows each (the last one shorter) of the backward's rows; with
 * gamma, block k's dgamma/dbeta partial sums go to part + 2 * D * k (D of dgamma, then D of
 * dbeta), each summed from 0 over the block's rows in order. */
static void FN(ln_bwd_blocks)(const T *g, const T *x, const T *gamma, const T *mean,
                              const T *invstd, Py_ssize_t B, Py_ssize_t D, Py_ssize_t rows,
                              T *dx, T *part, Py_ssize_t b0, Py_ssize_t b1) {
    for (Py_ssize_t k = b0; k < b1; k++) {
        const Py_ssize_t lo = k * rows, hi = lo + rows < B ? lo + rows : B;
        if (gamma) {
            T *pg = part + 2 * D * k;
            memset(pg, 0, 2 * (size_t)D * sizeof(T));
            FN(ln_bwd_rows)(g, x, gamma, mean, invstd, D, dx, pg, pg + D, lo, hi, 1);
        } else {
            FN(ln_bwd_rows)(g, x, NULL, mean, invstd, D, dx, NULL, NULL, lo, hi, 0);
        }
    }
}

/* columns [lo, hi) of dgamma/dbeta: the nb blocks' partial sums added in block order */
static void FN(ln_bwd_cols)(const T *part, Py_ssize_t nb, Py_ssize_t D, T *dg, T *db,
                            Py_ssize_t lo, Py_ssize_t hi) {
    for (Py_ssize_t d = lo; d < hi; d++) {
        dg[d] = part[d];
        db[d] = part[D + d];
    }
    for (Py_ssize_t k = 1; k < nb; k++) {
        const T *restrict pg = part + 2 * D * k, *restrict pb = pg + D;
        T *restrict og = dg, *restrict ob = db;
        for (Py_ssize_t d = lo; d < hi; d++) {
            og[d] += pg[d];
            ob[d] += pb[d];
        }
    }
}

#undef FN
#undef VEC
#undef VL
#undef AI
