/* The attention kernels for one element type T (included by attention.c with T, SFX, GEMM,
 * EXP, LOG defined). One (L, S) problem per batch index b, in tiles of ATT_BR queries x ATT_BC
 * keys (flash-attention style): the tile's scores come from a GEMM, the forward keeps a running
 * max m, sum l and output accumulator per query row (online softmax), the backward recomputes
 * each tile's weights from the saved log-sum-exp. K (and V in the backward) are transposed
 * into scratch first so that every GEMM reads its B operand by rows. */

/* one problem: its rows, the mask's strides (elements) along L and S, and the options */
typedef struct {
    const T *q, *k, *v, *mask;
    Py_ssize_t L, S, E, Ev, ml, ms;
    int causal;
    T scale;
} CAT(att_prob, SFX);

/* a (rows, cols) row-major -> at (cols, rows) */
static void CAT(att_transpose, SFX)(const T *a, Py_ssize_t rows, Py_ssize_t cols, T *at) {
    for (Py_ssize_t r = 0; r < rows; r++)
        for (Py_ssize_t c = 0; c < cols; c++) at[c * rows + r] = a[r * cols + c];
}

/* the tile's scores st (br x bc, row stride ATT_BC) for queries i0.. and keys j0..: scale q k^T
 * + mask, -inf above the diagonal when causal */
static void CAT(att_tile, SFX)(const CAT(att_prob, SFX) *p, const T *kt, Py_ssize_t i0,
                               Py_ssize_t br, Py_ssize_t j0, Py_ssize_t bc, T *st) {
    GEMM(br, bc, p->E, p->q + i0 * p->E, p->E, 1, kt + j0, p->S, 1, st, ATT_BC, 0, 1);
    for (Py_ssize_t r = 0; r < br; r++) {
        T *row = st + r * ATT_BC;
        const T sc = p->scale;
        for (Py_ssize_t j = 0; j < bc; j++) row[j] *= sc;
        if (p->mask) {
            const T *mr = p->mask + (i0 + r) * p->ml + j0 * p->ms;
            for (Py_ssize_t j = 0; j < bc; j++) row[j] += mr[j * p->ms];
        }
        if (p->causal)
            for (Py_ssize_t j = i0 + r + 1 - j0 < 0 ? 0 : i0 + r + 1 - j0; j < bc; j++)
                row[j] = -INFINITY;
    }
}

/* max, sum and dot product over [0..n) in ATT_LANES interleaved partials (vectorizable; the order is fixed
 * by n alone) */
static inline T CAT(att_max, SFX)(const T *x, Py_ssize_t n) {
    T part[ATT_LANES];
    for (int u = 0; u < ATT_LANES; u++) part[u] = -INFINITY;
    Py_ssize_t j = 0;
    for (; j + ATT_LANES <= n; j += ATT_LANES)
        for (int u = 0; u < ATT_LANES; u++) part[u] = x[j + u] > part[u] ? x[j + u] : part[u];
    T m = -INFINITY;
    for (; j < n; j++) m = x[j] > m ? x[j] : m;
    for (int u = 0; u < ATT_LANES; u++) m = part[u] > m ? part[u] : m;
    return m;
}

static inline T CAT(att_sum, SFX)(const T *x, Py_ssize_t n) {
    T part[ATT_LANES] = {0};
    Py_ssize_t j = 0;
    for (; j + ATT_LANES <= n; j += ATT_LANES)
        for (int u = 0; u < ATT_LANES; u++) part[u] += x[j + u];
    T s = 0;
    for (int u = 0; u < ATT_LANES; u++) s += part[u];
    for (; j < n; j++) s += x[j];
    return s;
}

/* x = e^(x - m) over [0..n), and its sum (the generic ROWEXP) */
static inline T CAT(att_rowexp, SFX)(T *x, Py_ssize_t n, T m) {
    for (Py_ssize_t j = 0; j < n; j++) x[j] = EXP(x[j] - m);
    return CAT(att_sum, SFX)(x, n);
}

static inline T CAT(att_dot, SFX)(const T *x, const T *y, Py_ssize_t n) {
    T part[ATT_LANES] = {0};
    Py_ssize_t j = 0;
    for (; j + ATT_LANES <= n; j += ATT_LANES)
        for (int u = 0; u < ATT_LANES; u++) part[u] += x[j + u] * y[j + u];
    T s = 0;
    for (int u = 0; u < ATT_LANES; u++) s += part[u];
    for (; j < n; j++) s += x[j] * y[j];
    return s;
}

/* the keys query rows i0..i0+br see: all S, or up to the diagonal when causal */
static inline Py_ssize_t CAT(att_jend, SFX)(const CAT(att_prob, SFX) *p, Py_ssize_t i0,
                                            Py_ssize_t br) {
    return p->causal && i0 + br < p->S ? i0 + br : p->S;
}

/* out (L, Ev) and lse (L) of one problem; scratch: E*S + ATT_BR*(ATT_BC + Ev + 2) */
static void CAT(att_fwd_one, SFX)(const CAT(att_prob, SFX) *p, T *out, T *lse, T *scratch) {
    const Py_ssize_t S = p->S, Ev = p->Ev;
    T *kt = scratch, *st = kt + p->E * S, *acc = st + ATT_BR * ATT_BC, *m = acc + ATT_BR * Ev;
    T *l = m + ATT_BR;
    CAT(att_transpose, SFX)(p->k, S, p->E, kt);
    for (Py_ssize_t i0 = 0; i0 < p->L; i0 += ATT_BR) {
        const Py_ssize_t br = p->L - i0 < ATT_BR ? p->L - i0 : ATT_BR;
        const Py_ssize_t jend = CAT(att_jend, SFX)(p, i0, br);
        for (Py_ssize_t r = 0; r < br; r++) m[r] = -INFINITY, l[r] = 0;
        memset(acc, 0, (size_t)(br * Ev) * sizeof(T));
        for (Py_ssize_t j0 = 0; j0 < jend; j0 += ATT_BC) {
            const Py_ssize_t bc = jend - j0 < ATT_BC ? jend - j0 : ATT_BC;
            CAT(att_tile, SFX)(p, kt, i0, br, j0, bc, st);
            for (Py_ssize_t r = 0; r < br; r++) {
                T *row = st + r * ATT_BC;
                const T bm = ROWMAX(row, bc);
                if (bm == -INFINITY) {              /* every key of the tile masked */
                    memset(row, 0, (size_t)bc * sizeof(T));
                    continue;
                }
                const T mnew = bm > m[r] ? bm : m[r];
                const T corr = m[r] == -INFINITY ? 0 : EXP(m[r] - mnew);
                l[r] = l[r] * corr + ROWEXP(row, bc, mnew);
                m[r] = mnew;
                if (corr != 1)
                    for (Py_ssize_t c = 0; c < Ev; c++) acc[r * Ev + c] *= corr;
            }
            GEMM(br, Ev, bc, st, ATT_BC, 1, p->v + j0 * Ev, Ev, 1, acc, Ev, 1, 1);
        }
        for (Py_ssize_t r = 0; r < br; r++) {
            T *oi = out + (i0 + r) * Ev;
            if (l[r] > 0) {
                const T inv = 1 / l[r];
                for (Py_ssize_t c = 0; c < Ev; c++) oi[c] = acc[r * Ev + c] * inv;
                lse[i0 + r] = m[r] + LOG(l[r]);
            } else {                                /* a fully masked row: 0, as PyTorch */
                for (Py_ssize_t c = 0; c < Ev; c++) oi[c] = 0;
                lse[i0 + r] = -INFINITY;
            }
        }
    }
}

/* dq (L, E), dk (S, E), dv (S, Ev) of one problem from g = d out, out and lse;
 * scratch: (E + Ev) * S + 2 * ATT_BR * ATT_BC + L */
static void CAT(att_bwd_one, SFX)(const CAT(att_prob, SFX) *p, const T *g, const T *out,
                                  const T *lse, T *dq, T *dk, T *dv, T *scratch) {
    const Py_ssize_t L = p->L, S = p->S, E = p->E, Ev = p->Ev;
    T *kt = scratch, *vt = kt + E * S, *st = vt + Ev * S, *ds = st + ATT_BR * ATT_BC;
    T *dd = ds + ATT_BR * ATT_BC;
    CAT(att_transpose, SFX)(p->k, S, E, kt);
    CAT(att_transpose, SFX)(p->v, S, Ev, vt);
    memset(dq, 0, (size_t)(L * E) * sizeof(T));
    memset(dk, 0, (size_t)(S * E) * sizeof(T));
    memset(dv, 0, (size_t)(S * Ev) * sizeof(T));
    for (Py_ssize_t i = 0; i < L; i++)              /* D_i = g_i . out_i */
        dd[i] = CAT(att_dot, SFX)(g + i * Ev, out + i * Ev, Ev);
    for (Py_ssize_t i0 = 0; i0 < L; i0 += ATT_BR) {
        const Py_ssize_t br = L - i0 < ATT_BR ? L - i0 : ATT_BR;
        const Py_ssize_t jend = CAT(att_jend, SFX)(p, i0, br);
        for (Py_ssize_t j0 = 0; j0 < jend; j0 += ATT_BC) {
            const Py_ssize_t bc = jend - j0 < ATT_BC ? jend - j0 : ATT_BC;
            CAT(att_tile, SFX)(p, kt, i0, br, j0, bc, st);
            for (Py_ssize_t r = 0; r < br; r++) {   /* the weights P, from lse */
                T *row = st + r * ATT_BC;
                const T li = lse[i0 + r];
                if (li == -INFINITY) {
                    memset(row, 0, (size_t)bc * sizeof(T));
                    continue;
                }
                for (Py_ssize_t j = 0; j < bc; j++) {
                    const T d = row[j] - li;
                    row[j] = EXP(d < 0 ? d : 0);    /* <= 1 up to rounding */
                }
            }
            /* dv += P^T g; dP = g v^T; dS = P (dP - D) scale; dq += dS k; dk += dS^T q */
            GEMM(bc, Ev, br, st, 1, ATT_BC, g + i0 * Ev, Ev, 1, dv + j0 * Ev, Ev, 1, 1);
            GEMM(br, bc, Ev, g + i0 * Ev, Ev, 1, vt + j0, S, 1, ds, ATT_BC, 0, 1);
            for (Py_ssize_t r = 0; r < br; r++) {
                const T *pr = st + r * ATT_BC, di = dd[i0 + r], sc = p->scale;
                T *dr = ds + r * ATT_BC;
                for (Py_ssize_t j = 0; j < bc; j++) dr[j] = pr[j] * (dr[j] - di) * sc;
            }
            GEMM(br, E, bc, ds, ATT_BC, 1, p->k + j0 * E, E, 1, dq + i0 * E, E, 1, 1);
            GEMM(bc, E, br, ds, 1, ATT_BC, p->q + i0 * E, E, 1, dk + j0 * E, E, 1, 1);
        }
    }
}

/* forward of batch indices [lo, hi) */
static void CAT(att_fwd_range, SFX)(const T *q, const T *k, const T *v, const T *mask,
                                     Py_ssize_t mb, Py_ssize_t ml, Py_ssize_t ms, Py_ssize_t L,
                                     Py_ssize_t S, Py_ssize_t E, Py_ssize_t Ev, int causal,
                                     double scale, T *out, T *lse, T *scratch, Py_ssize_t lo,
                                     Py_ssize_t hi) {
    for (Py_ssize_t b = lo; b < hi; b++) {
        CAT(att_prob, SFX) p = {q + b * L * E, k + b * S * E, v + b * S * Ev,
                                mask ? mask + b * mb : NULL, L, S, E, Ev, ml, ms, causal,
                                (T)scale};
        CAT(att_fwd_one, SFX)(&p, out + b * L * Ev, lse + b * L, scratch);
    }
}

/* backward of batch indices [lo, hi) */
static void CAT(att_bwd_range, SFX)(const T *g, const T *q, const T *k, const T *v,
                                     const T *out, const T *lse, const T *mask, Py_ssize_t mb,
                                     Py_ssize_t ml, Py_ssize_t ms, Py_ssize_t L, Py_ssize_t S,
                                     Py_ssize_t E, Py_ssize_t Ev, int causal, double scale,
                                     T *dq, T *dk, T *dv, T *scratch, Py_ssize_t lo,
                                     Py_ssize_t hi) {
    for (Py_ssize_t b = lo; b < hi; b++) {
        CAT(att_prob, SFX) p = {q + b * L * E, k + b * S * E, v + b * S * Ev,
                                mask ? mask + b * mb : NULL, L, S, E, Ev, ml, ms, causal,
                                (T)scale};
        CAT(att_bwd_one, SFX)(&p, g + b * L * Ev, out + b * L * Ev, lse + b * L, dq + b * L * E,
                              dk + b * S * E, dv + b * S * Ev, scratch);
    }
}
