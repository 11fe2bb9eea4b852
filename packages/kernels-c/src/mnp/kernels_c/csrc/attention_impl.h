/* The attention kernels for one element type T (included by attention.c with T, SFX, GEMM,
 * EXP, LOG defined). One (L, S) problem per batch index b (its operands' rows at any stride:
 * att_view), in tiles of ATT_BR queries x ATT_BC
 * keys (flash-attention style): the tile's scores come from a GEMM, the forward keeps a running
 * max m, sum l and output accumulator per query row (online softmax), the backward recomputes
 * each tile's weights from the saved log-sum-exp. K (and V in the backward) are transposed
 * into scratch first so that every GEMM reads its B operand by rows. */

/* one problem: its rows and their strides (elements), the mask's strides along L and S, and
 * the options */
typedef struct {
    const T *q, *k, *v, *mask;
    Py_ssize_t L, S, E, Ev, lq, lk, lv, ml, ms;
    int causal;
    T scale;
} CAT(att_prob, SFX);

/* a (rows, cols), rows `lda` apart -> at (cols, rows): 8 x 8 blocks in SIMD registers where
 * the type has them (TR8), the edges one value at a time */
static void CAT(att_transpose, SFX)(const T *a, Py_ssize_t rows, Py_ssize_t cols,
                                    Py_ssize_t lda, T *at) {
    Py_ssize_t r8 = 0, c8 = 0;
#ifdef TR8
    r8 = rows - rows % 8, c8 = cols - cols % 8;
    for (Py_ssize_t r0 = 0; r0 < r8; r0 += 8)
        for (Py_ssize_t c0 = 0; c0 < c8; c0 += 8) TR8(a + r0 * lda + c0, lda, at + c0 * rows + r0, rows);
#endif
    for (Py_ssize_t r = 0; r < rows; r++)
        for (Py_ssize_t c = r < r8 ? c8 : 0; c < cols; c++) at[c * rows + r] = a[r * lda + c];
}

/* the tile's scores st (br x bc, row stride ATT_BC) for queries i0.. and keys j0..: scale q k^T
 * + mask, -inf above the diagonal when causal */
static void CAT(att_tile, SFX)(const CAT(att_prob, SFX) *p, const T *kt, Py_ssize_t i0,
                               Py_ssize_t br, Py_ssize_t j0, Py_ssize_t bc, T *st) {
    GEMM(br, bc, p->E, p->q + i0 * p->lq, p->lq, 1, kt + j0, p->S, 1, st, ATT_BC, 0, 1);
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

/* x = e^min(x - l, 0) over [0..n) (the generic ROWEXP_LSE) */
static inline void CAT(att_rowexp_lse, SFX)(T *x, Py_ssize_t n, T l) {
    for (Py_ssize_t j = 0; j < n; j++) {
        const T d = x[j] - l;
        x[j] = EXP(d < 0 ? d : 0);
    }
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

/* out (L, Ev, rows `lo` apart) and lse (L) of one problem; scratch: E*S + ATT_BR*(ATT_BC + Ev
 * + 2) */
static void CAT(att_fwd_one, SFX)(const CAT(att_prob, SFX) *p, T *out, Py_ssize_t lo, T *lse,
                                  T *scratch) {
    const Py_ssize_t S = p->S, Ev = p->Ev;
    T *kt = scratch, *st = kt + p->E * S, *acc = st + ATT_BR * ATT_BC, *m = acc + ATT_BR * Ev;
    T *l = m + ATT_BR;
    CAT(att_transpose, SFX)(p->k, S, p->E, p->lk, kt);
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
            GEMM(br, Ev, bc, st, ATT_BC, 1, p->v + j0 * p->lv, p->lv, 1, acc, Ev, 1, 1);
        }
        for (Py_ssize_t r = 0; r < br; r++) {
            T *oi = out + (i0 + r) * lo;
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

/* rows (n, w), `ld` apart, set to 0 */
static void CAT(att_zero, SFX)(T *a, Py_ssize_t n, Py_ssize_t w, Py_ssize_t ld) {
    if (ld == w)
        memset(a, 0, (size_t)(n * w) * sizeof(T));
    else
        for (Py_ssize_t i = 0; i < n; i++) memset(a + i * ld, 0, (size_t)w * sizeof(T));
}

/* the rows of one problem's g = d out, out, dq, dk and dv, and their strides (elements) */
typedef struct {
    const T *g, *out;
    T *dq, *dk, *dv;
    Py_ssize_t lg, lo, ldq, ldk, ldv;
} CAT(att_grads, SFX);

/* dq (L, E), dk (S, E), dv (S, Ev) of one problem from g = d out, out and lse;
 * scratch: (E + Ev) * S + 2 * ATT_BR * ATT_BC + L */
static void CAT(att_bwd_one, SFX)(const CAT(att_prob, SFX) *p, const CAT(att_grads, SFX) *d,
                                  const T *lse, T *scratch) {
    const Py_ssize_t L = p->L, S = p->S, E = p->E, Ev = p->Ev;
    const T *g = d->g;
    const Py_ssize_t lg = d->lg;
    T *dq = d->dq, *dk = d->dk, *dv = d->dv;
    T *kt = scratch, *vt = kt + E * S, *st = vt + Ev * S, *ds = st + ATT_BR * ATT_BC;
    T *dd = ds + ATT_BR * ATT_BC;
    CAT(att_transpose, SFX)(p->k, S, E, p->lk, kt);
    CAT(att_transpose, SFX)(p->v, S, Ev, p->lv, vt);
    for (Py_ssize_t i = 0; i < L; i++)              /* D_i = g_i . out_i */
        dd[i] = CAT(att_dot, SFX)(g + i * lg, d->out + i * d->lo, Ev);
    /* the products write dq, dk, dv where they first reach them and add after: no pass
     * zeroes them first. Keys [0, seen) hold a partial dk and dv; a key tile that only
     * began there has its new rows zeroed, and the keys no query sees are zeroed last. */
    Py_ssize_t seen = 0;
    for (Py_ssize_t i0 = 0; i0 < L; i0 += ATT_BR) {
        const Py_ssize_t br = L - i0 < ATT_BR ? L - i0 : ATT_BR;
        const Py_ssize_t jend = CAT(att_jend, SFX)(p, i0, br);
        if (seen < jend && seen % ATT_BC) {
            const Py_ssize_t edge = (seen / ATT_BC + 1) * ATT_BC, hi = edge < jend ? edge : jend;
            CAT(att_zero, SFX)(dk + seen * d->ldk, hi - seen, E, d->ldk);
            CAT(att_zero, SFX)(dv + seen * d->ldv, hi - seen, Ev, d->ldv);
            seen = hi;
        }
        for (Py_ssize_t j0 = 0; j0 < jend; j0 += ATT_BC) {
            const Py_ssize_t bc = jend - j0 < ATT_BC ? jend - j0 : ATT_BC;
            const int add = j0 < seen;
            CAT(att_tile, SFX)(p, kt, i0, br, j0, bc, st);
            for (Py_ssize_t r = 0; r < br; r++) {   /* the weights P, from lse */
                T *row = st + r * ATT_BC;
                const T li = lse[i0 + r];
                if (li == -INFINITY) {
                    memset(row, 0, (size_t)bc * sizeof(T));
                    continue;
                }
                ROWEXP_LSE(row, bc, li);
            }
            /* dv += P^T g; dP = g v^T; dS = P (dP - D) scale; dq += dS k; dk += dS^T q */
            GEMM(bc, Ev, br, st, 1, ATT_BC, g + i0 * lg, lg, 1, dv + j0 * d->ldv, d->ldv, add, 1);
            GEMM(br, bc, Ev, g + i0 * lg, lg, 1, vt + j0, S, 1, ds, ATT_BC, 0, 1);
            for (Py_ssize_t r = 0; r < br; r++) {
                const T *pr = st + r * ATT_BC, di = dd[i0 + r], sc = p->scale;
                T *dr = ds + r * ATT_BC;
                for (Py_ssize_t j = 0; j < bc; j++) dr[j] = pr[j] * (dr[j] - di) * sc;
            }
            GEMM(br, E, bc, ds, ATT_BC, 1, p->k + j0 * p->lk, p->lk, 1, dq + i0 * d->ldq,
                 d->ldq, j0 > 0, 1);
            GEMM(bc, E, br, ds, 1, ATT_BC, p->q + i0 * p->lq, p->lq, 1, dk + j0 * d->ldk,
                 d->ldk, add, 1);
        }
        seen = jend > seen ? jend : seen;
    }
    CAT(att_zero, SFX)(dk + seen * d->ldk, S - seen, E, d->ldk);
    CAT(att_zero, SFX)(dv + seen * d->ldv, S - seen, Ev, d->ldv);
}

/* the rows of batch index b of a view (attention.c's att_view: element strides) */
#define ATT_AT(w, b) ((T *)(w).p + ((b) / (w).b2) * (w).s0 + ((b) % (w).b2) * (w).s1)

/* one problem of batch index b */
static inline CAT(att_prob, SFX) CAT(att_problem, SFX)(const att_view *q, const att_view *k,
                                                      const att_view *v, const T *mask,
                                                      Py_ssize_t b, const att_shape *sh) {
    CAT(att_prob, SFX) p = {ATT_AT(*q, b), ATT_AT(*k, b), ATT_AT(*v, b),
                            mask ? mask + b * sh->mb : NULL, sh->L, sh->S, sh->E, sh->Ev,
                            q->sl, k->sl, v->sl, sh->ml, sh->ms, sh->causal, (T)sh->scale};
    return p;
}

/* the first `width` values of n rows of view w at batch index b, fetched toward L2 (for
 * writing when `write`) while the problem before b runs: a projection's heads are rows 3 C
 * apart, which the hardware prefetchers do not follow from one head to the next */
static void CAT(att_prefetch, SFX)(const att_view *w, Py_ssize_t b, Py_ssize_t n,
                                   Py_ssize_t width, int write) {
    const char *a = (const char *)ATT_AT(*w, b);
    const Py_ssize_t bytes = width * (Py_ssize_t)sizeof(T), ld = w->sl * (Py_ssize_t)sizeof(T);
    for (Py_ssize_t i = 0; i < n; i++, a += ld)
        for (Py_ssize_t c = 0; c < bytes; c += 64) {
            if (write) __builtin_prefetch(a + c, 1, 2);
            else __builtin_prefetch(a + c, 0, 2);
        }
}

/* forward of batch indices [lo, hi): out a view like q's, lse (B, L) */
static void CAT(att_fwd_range, SFX)(const att_view *q, const att_view *k, const att_view *v,
                                     const T *mask, const att_shape *sh, const att_view *out,
                                     T *lse, T *scratch, Py_ssize_t lo, Py_ssize_t hi) {
    for (Py_ssize_t b = lo; b < hi; b++) {
        if (b + 1 < hi) {
            CAT(att_prefetch, SFX)(q, b + 1, sh->L, sh->E, 0);
            CAT(att_prefetch, SFX)(k, b + 1, sh->S, sh->E, 0);
            CAT(att_prefetch, SFX)(v, b + 1, sh->S, sh->Ev, 0);
            CAT(att_prefetch, SFX)(out, b + 1, sh->L, sh->Ev, 1);
        }
        CAT(att_prob, SFX) p = CAT(att_problem, SFX)(q, k, v, mask, b, sh);
        CAT(att_fwd_one, SFX)(&p, ATT_AT(*out, b), out->sl, lse + b * sh->L, scratch);
    }
}

/* backward of batch indices [lo, hi): dq, dk, dv views like q's, k's and v's */
static void CAT(att_bwd_range, SFX)(const att_view *g, const att_view *q, const att_view *k,
                                     const att_view *v, const att_view *out, const T *lse,
                                     const T *mask, const att_shape *sh, const att_view *dq,
                                     const att_view *dk, const att_view *dv, T *scratch,
                                     Py_ssize_t lo, Py_ssize_t hi) {
    for (Py_ssize_t b = lo; b < hi; b++) {
        if (b + 1 < hi) {
            const att_view *in[5] = {g, q, k, v, out}, *grads[3] = {dq, dk, dv};
            const Py_ssize_t rows[5] = {sh->L, sh->L, sh->S, sh->S, sh->L};
            const Py_ssize_t width[5] = {sh->Ev, sh->E, sh->E, sh->Ev, sh->Ev};
            for (int i = 0; i < 5; i++) CAT(att_prefetch, SFX)(in[i], b + 1, rows[i], width[i], 0);
            for (int i = 0; i < 3; i++)
                CAT(att_prefetch, SFX)(grads[i], b + 1, rows[i + 1], width[i + 1], 1);
        }
        CAT(att_prob, SFX) p = CAT(att_problem, SFX)(q, k, v, mask, b, sh);
        CAT(att_grads, SFX) d = {ATT_AT(*g, b), ATT_AT(*out, b), ATT_AT(*dq, b), ATT_AT(*dk, b),
                                 ATT_AT(*dv, b), g->sl, out->sl, dq->sl, dk->sl, dv->sl};
        CAT(att_bwd_one, SFX)(&p, &d, lse + b * sh->L, scratch);
    }
}
#undef ATT_AT
