/* im2col / col2im and convolution by im2col + the C GEMM for one element type; included by
 * conv.c with T, SFX and GEMM (kc_sgemm / kc_dgemm) defined. */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SFX)

/* one image: cols[(c*kh + i)*kw + j][oh*OW + ow] = x[c][oh*sh - ph + i*dh][ow*sw - pw + j*dw],
 * rows `ld` elements apart */
static void FN(im2col_ld_)(const T *restrict x, const conv_geom *G, T *restrict cols,
                           Py_ssize_t ld) {
    if (G->SH == 1 && G->SW == 1 && G->OW == G->W) {
        /* stride 1, rows as wide as the input's: a row of cols is the input plane shifted by
         * one flat offset, with the columns that fall off the left/right edge zeroed */
        Py_ssize_t HW = G->H * G->W, OHW = G->OH * G->W;
        for (Py_ssize_t c = 0; c < G->C; c++)
            for (Py_ssize_t i = 0; i < G->KH; i++)
                for (Py_ssize_t j = 0; j < G->KW; j++) {
                    T *row = cols + ((c * G->KH + i) * G->KW + j) * ld;
                    Py_ssize_t dj = j * G->DW - G->PW, off = (i * G->DH - G->PH) * G->W + dj;
                    Py_ssize_t lo = off < 0 ? -off : 0, hi = HW - off, ow0, ow1;
                    if (lo > OHW) lo = OHW;
                    if (hi > OHW) hi = OHW;
                    if (hi < lo) hi = lo;
                    memset(row, 0, lo * sizeof(T));
                    memcpy(row + lo, x + c * HW + lo + off, (hi - lo) * sizeof(T));
                    memset(row + hi, 0, (OHW - hi) * sizeof(T));
                    kc_inside_cols(dj, 1, G->W, G->W, &ow0, &ow1);
                    if (ow0 > 0 || ow1 < G->W)
                        for (Py_ssize_t oh = 0; oh < G->OH; oh++) {
                            T *r = row + oh * G->W;
                            for (Py_ssize_t ow = 0; ow < ow0; ow++) r[ow] = 0;
                            for (Py_ssize_t ow = ow1; ow < G->W; ow++) r[ow] = 0;
                        }
                }
        return;
    }
    for (Py_ssize_t c = 0; c < G->C; c++)
        for (Py_ssize_t i = 0; i < G->KH; i++)
            for (Py_ssize_t j = 0; j < G->KW; j++) {
                T *row = cols + ((c * G->KH + i) * G->KW + j) * ld;
                Py_ssize_t off_w = j * G->DW - G->PW, ow0, ow1;
                kc_inside_cols(off_w, G->SW, G->W, G->OW, &ow0, &ow1);
                for (Py_ssize_t oh = 0; oh < G->OH; oh++) {
                    T *r = row + oh * G->OW;
                    Py_ssize_t ih = oh * G->SH - G->PH + i * G->DH;
                    if (ih < 0 || ih >= G->H) {
                        memset(r, 0, G->OW * sizeof(T));
                        continue;
                    }
                    const T *xr = x + (c * G->H + ih) * G->W + off_w;
                    for (Py_ssize_t ow = 0; ow < ow0; ow++) r[ow] = 0;
                    if (G->SW == 1)
                        memcpy(r + ow0, xr + ow0, (ow1 - ow0) * sizeof(T));
                    else
                        for (Py_ssize_t ow = ow0; ow < ow1; ow++) r[ow] = xr[ow * G->SW];
                    for (Py_ssize_t ow = ow1; ow < G->OW; ow++) r[ow] = 0;
                }
            }
}

static void FN(im2col_one_)(const T *restrict x, const conv_geom *G, T *restrict cols) {
    FN(im2col_ld_)(x, G, cols, G->OH * G->OW);
}

/* the adjoint: dx[c][ih][iw] += cols[...] (dx zeroed by the caller) */
static void FN(col2im_one_)(const T *restrict cols, const conv_geom *G, T *restrict dx) {
    Py_ssize_t OHW = G->OH * G->OW;
    for (Py_ssize_t c = 0; c < G->C; c++)
        for (Py_ssize_t i = 0; i < G->KH; i++)
            for (Py_ssize_t j = 0; j < G->KW; j++) {
                const T *row = cols + ((c * G->KH + i) * G->KW + j) * OHW;
                Py_ssize_t off_w = j * G->DW - G->PW, ow0, ow1;
                kc_inside_cols(off_w, G->SW, G->W, G->OW, &ow0, &ow1);
                for (Py_ssize_t oh = 0; oh < G->OH; oh++) {
                    Py_ssize_t ih = oh * G->SH - G->PH + i * G->DH;
                    if (ih < 0 || ih >= G->H) continue;
                    const T *r = row + oh * G->OW;
                    T *xr = dx + (c * G->H + ih) * G->W + off_w;
                    if (G->SW == 1)
                        for (Py_ssize_t ow = ow0; ow < ow1; ow++) xr[ow] += r[ow];
                    else
                        for (Py_ssize_t ow = ow0; ow < ow1; ow++) xr[ow * G->SW] += r[ow];
                }
            }
}

static void FN(im2col_all_)(const T *x, const conv_geom *G, T *cols, int nt) {
    Py_ssize_t xs = G->C * G->H * G->W, cs = G->C * G->KH * G->KW * G->OH * G->OW;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (Py_ssize_t n = 0; n < G->N; n++) FN(im2col_one_)(x + n * xs, G, cols + n * cs);
}

static void FN(col2im_all_)(const T *cols, const conv_geom *G, T *dx, int nt) {
    Py_ssize_t xs = G->C * G->H * G->W, cs = G->C * G->KH * G->KW * G->OH * G->OW;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (Py_ssize_t n = 0; n < G->N; n++) {
        memset(dx + n * xs, 0, xs * sizeof(T));
        FN(col2im_one_)(cols + n * cs, G, dx + n * xs);
    }
}

/* y[n] = w (OC x CKK) @ cols(x[n]) + b; threads over the batch, or inside GEMM for N < threads */
static int FN(conv_forward_)(const T *x, const T *w, const T *b, const conv_geom *G, T *y, int nt) {
    Py_ssize_t CKK = G->C * G->KH * G->KW, OHW = G->OH * G->OW;
    Py_ssize_t xs = G->C * G->H * G->W, ys = G->OC * OHW;
    int direct = conv_is_pointwise(G);
    int outer = nt > 1 && G->N >= nt;
    int team = outer ? nt : 1;
    size_t cached = 0;
    T *buf = direct ? NULL : kc_scratch_take((size_t)team * CKK * OHW * sizeof(T), &cached);
    if (!direct && !buf) return -1;
#pragma omp parallel num_threads(team) if (team > 1)
    {
        int tid = kc_tid();
#pragma omp for schedule(static)
    for (Py_ssize_t n = 0; n < G->N; n++) {
        const T *cols = x + n * xs;
        if (!direct) {
            T *mine = buf + (size_t)tid * CKK * OHW;
            FN(im2col_one_)(x + n * xs, G, mine);
            cols = mine;
        }
        T *yn = y + n * ys;
        if (b)
            for (Py_ssize_t o = 0; o < G->OC; o++)
                for (Py_ssize_t p = 0; p < OHW; p++) yn[o * OHW + p] = b[o];
        GEMM(G->OC, OHW, CKK, w, CKK, 1, cols, OHW, 1, yn, OHW, b != NULL, outer ? 1 : nt);
    }
    }
    if (buf) kc_scratch_give(buf, cached);
    return 0;
}

/* ---- dx without col2im for stride-1 convolutions whose output rows are no wider than the
 * input's (OW <= W): with the output gradient laid out in rows of W (zero past OW), output
 * pixel p of kernel row r = (c, i, j) lands on input pixel p + off[r] of plane c, one flat
 * offset, except where the column falls off the left/right edge. So each MR x NR tile of
 * dcols = w^T g is computed in registers and added straight into dx at that offset (masked
 * columns dropped); no dcols buffer, no col2im pass. */
typedef T FN(cvec_) __attribute__((vector_size(KC_VBYTES)));
typedef IT FN(cmask_) __attribute__((vector_size(KC_VBYTES)));
#define CVEC FN(cvec_)
#define CMASK FN(cmask_)
#define CVL ((Py_ssize_t)(KC_VBYTES / sizeof(T)))
#define CNR (KC_NV * CVL)

static int FN(dx_shift_ok_)(const conv_geom *G) {
    return G->SH == 1 && G->SW == 1 && G->OW <= G->W;
}

/* what every image shares: w^T packed in MR-row panels (K = OC), and per GEMM row its
 * plane start c*H*W, flat offset and kernel column j */
typedef struct {
    T *apack;
    Py_ssize_t *plane, *off, *kj;
} FN(dx_plan_);

static int FN(dx_plan_make_)(const T *w, const conv_geom *G, FN(dx_plan_) *P) {
    Py_ssize_t CKK = G->C * G->KH * G->KW, np = (CKK + KC_MR - 1) / KC_MR;
    size_t asz = ((size_t)np * KC_MR * G->OC * sizeof(T) + 63) / 64 * 64;
    char *mem = kc_aligned_alloc(asz + 3 * (size_t)CKK * sizeof(Py_ssize_t) + 64);
    if (!mem) return -1;
    P->apack = (T *)mem;
    P->plane = (Py_ssize_t *)(mem + asz);
    P->off = P->plane + CKK;
    P->kj = P->off + CKK;
    /* GEMM row q is kernel row r = (c, i, j) with c = q % C: the rows of a tile add into
     * different planes (rows of one plane would overlap and stall store forwarding) */
    Py_ssize_t KK = G->KH * G->KW, HW = G->H * G->W;
    for (Py_ssize_t ip = 0; ip < np; ip++)
        for (Py_ssize_t k = 0; k < G->OC; k++)
            for (Py_ssize_t i = 0; i < KC_MR; i++) {
                Py_ssize_t q = ip * KC_MR + i, r = q % G->C * KK + q / G->C;
                P->apack[(ip * G->OC + k) * KC_MR + i] = q < CKK ? w[k * CKK + r] : 0;
            }
    for (Py_ssize_t q = 0; q < CKK; q++) {
        Py_ssize_t c = q % G->C, i = q / G->C / G->KW, j = q / G->C % G->KW;
        P->plane[q] = c * HW;
        P->off[q] = (i * G->DH - G->PH) * G->W + j * G->DW - G->PW;
        P->kj[q] = j;
    }
    return 0;
}

/* scratch per thread for dx_shift_one_ (elements of T) */
static size_t FN(dx_shift_scratch_)(const conv_geom *G) {
    return (G->OW < G->W ? (size_t)G->OC * G->OH * G->W : 0) + (size_t)(G->OC + G->KW) * CNR;
}

/* tile (MR x NR) = a (packed, K x MR) b (K x NR, rows ldb apart); with `d` given, row i is
 * instead added into d[i] under the lane mask mk[i] straight from the registers */
static inline void FN(dx_tile_)(Py_ssize_t K, const T *restrict a, const T *restrict b,
                                Py_ssize_t ldb, T *restrict tile, T *const *d,
                                const IT *const *mk) {
    CVEC cr[KC_MR][KC_NV];
#pragma GCC unroll 16
    for (int i = 0; i < KC_MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < KC_NV; v++) cr[i][v] = (CVEC){0};
KC_UNROLL_P(KC_UNROLL)
    for (Py_ssize_t p = 0; p < K; p++) {
        CVEC bv[KC_NV];
#pragma GCC unroll 4
        for (int v = 0; v < KC_NV; v++) memcpy(&bv[v], b + p * ldb + v * CVL, sizeof(CVEC));
#pragma GCC unroll 16
        for (int i = 0; i < KC_MR; i++) {
            const T ai = a[i];
#pragma GCC unroll 4
            for (int v = 0; v < KC_NV; v++) cr[i][v] += ai * bv[v];
        }
        a += KC_MR;
    }
    if (d) {
#pragma GCC unroll 16
        for (int i = 0; i < KC_MR; i++)
#pragma GCC unroll 4
            for (int v = 0; v < KC_NV; v++) {
                CVEC old;
                CMASK m;
                memcpy(&m, mk[i] + v * CVL, sizeof m);
                memcpy(&old, d[i] + v * CVL, sizeof old);
                old += (CVEC)((CMASK)cr[i][v] & m);
                memcpy(d[i] + v * CVL, &old, sizeof old);
            }
        return;
    }
#pragma GCC unroll 16
    for (int i = 0; i < KC_MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < KC_NV; v++) memcpy(tile + i * CNR + v * CVL, &cr[i][v], sizeof(CVEC));
}

/* dx[n] (zeroed here) from g[n] (OC x OH*OW); scratch from dx_shift_scratch_ */
static void FN(dx_shift_one_)(const T *gn, const FN(dx_plan_) *P, const conv_geom *G, T *dxn,
                              T *scratch) {
    Py_ssize_t CKK = G->C * G->KH * G->KW, HW = G->H * G->W, W = G->W, OC = G->OC;
    Py_ssize_t Np = G->OH * W, ldb = Np;
    const T *B = gn;
    T *ebuf = scratch;
    IT *masks = (IT *)(ebuf + OC * CNR);
    if (G->OW < W) { /* rows of OW -> rows of W, zero past OW */
        T *gb = (T *)(masks + G->KW * CNR);
        for (Py_ssize_t r = 0; r < OC * G->OH; r++) {
            memcpy(gb + r * W, gn + r * G->OW, G->OW * sizeof(T));
            memset(gb + r * W + G->OW, 0, (W - G->OW) * sizeof(T));
        }
        B = gb;
    }
    memset(dxn, 0, G->C * HW * sizeof(T));
    T tile[KC_MR * CNR] __attribute__((aligned(64)));
    T *d[KC_MR];
    const IT *mk[KC_MR];
    for (Py_ssize_t p0 = 0; p0 < Np; p0 += CNR) {
        Py_ssize_t nr = Np - p0 < CNR ? Np - p0 : CNR;
        const T *b = B + p0;
        Py_ssize_t lb = ldb;
        if (nr < CNR) { /* the last, partial column block: zero-padded copy */
            for (Py_ssize_t k = 0; k < OC; k++)
                for (Py_ssize_t q = 0; q < CNR; q++)
                    ebuf[k * CNR + q] = q < nr ? B[k * ldb + p0 + q] : 0;
            b = ebuf;
            lb = CNR;
        }
        /* masks[j][q]: column p0 + q is an output pixel whose input column is inside */
        Py_ssize_t ow_start = p0 % W;
        for (Py_ssize_t j = 0; j < G->KW; j++) {
            Py_ssize_t dj = j * G->DW - G->PW, ow = ow_start;
            for (Py_ssize_t q = 0; q < CNR; q++) {
                masks[j * CNR + q] = (q < nr && ow < G->OW && ow + dj >= 0 && ow + dj < W) ? -1 : 0;
                if (++ow == W) ow = 0;
            }
        }
        for (Py_ssize_t ip = 0; ip < CKK; ip += KC_MR) {
            Py_ssize_t mr = CKK - ip < KC_MR ? CKK - ip : KC_MR;
            int fast = nr == CNR && mr == KC_MR; /* every row's span inside its plane */
            for (Py_ssize_t i = 0; i < mr; i++) {
                Py_ssize_t r = ip + i, base = p0 + P->off[r];
                d[i] = dxn + P->plane[r] + (base > 0 ? base : 0);
                mk[i] = masks + P->kj[r] * CNR;
                fast = fast && base >= 0 && base + CNR <= HW;
            }
            FN(dx_tile_)(OC, P->apack + ip * OC, b, lb, tile, fast ? d : NULL, mk);
            if (fast) continue;
            for (Py_ssize_t i = 0; i < mr; i++) { /* only the columns inside the plane */
                Py_ssize_t base = p0 + P->off[ip + i];
                Py_ssize_t q0 = base < 0 ? -base : 0, q1 = HW - base < nr ? HW - base : nr;
                if (q1 <= q0) continue;
                const T *t = tile + i * CNR;
                const IT *m = mk[i];
                T *di = dxn + P->plane[ip + i] + base + q0;
                for (Py_ssize_t q = q0; q < q1; q++) di[q - q0] += m[q] ? t[q] : 0;
            }
        }
    }
}

#undef CVEC
#undef CMASK
#undef CVL
#undef CNR

/* images per weight-gradient chunk: their columns (about 1 MB) stay in L2, and the dot
 * products run over all of them at once (a function of the shapes only) */
static Py_ssize_t FN(dw_chunk_)(const conv_geom *G) {
    Py_ssize_t per = (G->C * G->KH * G->KW + G->OC) * G->OH * G->OW * (Py_ssize_t)sizeof(T);
    Py_ssize_t m = ((Py_ssize_t)1 << 20) / (per > 0 ? per : 1);
    if (m > G->N) m = G->N;
    return m < 1 ? 1 : m;
}

/* dx of the convolution, image by image: threads over the batch (N >= nt), else inside the
 * GEMM of each image. The algorithm depends only on the geometry: tiles added straight into
 * dx (stride 1, OW <= W; one thread per image), the GEMM alone (pointwise), or dcols = w^T g[n]
 * and col2im. */
static int FN(conv_dx_)(const T *g, const T *w, const conv_geom *G, T *dx, int nt) {
    Py_ssize_t CKK = G->C * G->KH * G->KW, OHW = G->OH * G->OW;
    Py_ssize_t xs = G->C * G->H * G->W, gs = G->OC * OHW;
    const int direct = conv_is_pointwise(G), shift = !direct && FN(dx_shift_ok_)(G);
    const int outer = nt > 1 && G->N >= nt, team = outer ? nt : 1, inner = outer ? 1 : nt;
    const size_t pad = (64 / sizeof(T)) - 1;
    size_t per = shift ? FN(dx_shift_scratch_)(G) : (direct ? 0 : (size_t)CKK * OHW);
    per = (per + pad) / (pad + 1) * (pad + 1);
    FN(dx_plan_) plan = {0};
    if (shift && FN(dx_plan_make_)(w, G, &plan)) return -1;
    size_t cached = 0;
    T *buf = per ? kc_scratch_take((size_t)team * per * sizeof(T), &cached) : NULL;
    if (per && !buf) {
        kc_aligned_free(plan.apack);
        return -1;
    }
#pragma omp parallel for num_threads(team) if (team > 1) schedule(static)
    for (Py_ssize_t n = 0; n < G->N; n++) {
        T *mine = buf ? buf + (size_t)kc_tid() * per : NULL;
        const T *gn = g + n * gs;
        T *dxn = dx + n * xs;
        if (shift) {
            FN(dx_shift_one_)(gn, &plan, G, dxn, mine);
        } else if (direct) { /* dx[n] (C x OHW) = w^T (C x OC) @ g[n] (OC x OHW) */
            GEMM(CKK, OHW, G->OC, w, 1, CKK, gn, OHW, 1, dxn, OHW, 0, inner);
        } else {
            GEMM(CKK, OHW, G->OC, w, 1, CKK, gn, OHW, 1, mine, OHW, 0, inner);
            memset(dxn, 0, xs * sizeof(T));
            FN(col2im_one_)(mine, G, dxn);
        }
    }
    if (buf) kc_scratch_give(buf, cached);
    kc_aligned_free(plan.apack);
    return 0;
}

/* dw (OC x CKK) = sum over images of g[n] cols(x[n])^T, per chunk of images (dw_chunk_): the
 * columns (images side by side) and g are gathered and the chunk's dot products added to dw.
 * Each thread owns a block of dw and works through every chunk on its own (no barriers, so a
 * descheduled thread holds up no one): the columns of its input channels (when there are at
 * least as many channels as threads), else its rows (output channels), gathering what it
 * needs itself. Every element of dw is the same sum in the same order for any thread count:
 * a dot product's value depends only on its two rows and K, and the chunks depend only on the
 * shapes. */
static int FN(conv_dw_)(const T *g, const T *x, const conv_geom *G, T *dw, int nt) {
    Py_ssize_t CKK = G->C * G->KH * G->KW, OHW = G->OH * G->OW, KK = G->KH * G->KW;
    Py_ssize_t xs = G->C * G->H * G->W, gs = G->OC * OHW, HW = G->H * G->W;
    if (G->N == 0) {
        memset(dw, 0, (size_t)G->OC * CKK * sizeof(T));
        return 0;
    }
    const int direct = conv_is_pointwise(G);
    const Py_ssize_t m = FN(dw_chunk_)(G), nchunks = (G->N + m - 1) / m;
    const size_t pad = (64 / sizeof(T)) - 1;
    const size_t per = ((size_t)m * (CKK + G->OC) * OHW + pad) / (pad + 1) * (pad + 1);
    size_t cached = 0;
    T *buf = kc_scratch_take((size_t)(nt > 1 ? nt : 1) * per * sizeof(T), &cached);
    if (!buf) return -1;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int tid = kc_tid(), team = kc_team();
        Py_ssize_t c0 = 0, c1 = G->C, o0 = 0, o1 = G->OC;
        if (G->C >= team) {
            c0 = G->C * tid / team;
            c1 = G->C * (tid + 1) / team;
        } else {
            const Py_ssize_t share = ((G->OC + team - 1) / team + 3) / 4 * 4; /* 4 x 4 blocks */
            o0 = tid * share < G->OC ? tid * share : G->OC;
            o1 = o0 + share < G->OC ? o0 + share : G->OC;
        }
        const Py_ssize_t rows = (c1 - c0) * KK, outs = o1 - o0;
        T *cols = buf + (size_t)tid * per, *gc = cols + (size_t)m * rows * OHW;
        conv_geom G1 = *G;
        G1.C = c1 - c0;
        for (Py_ssize_t ch = 0; ch < nchunks && rows > 0 && outs > 0; ch++) {
            const Py_ssize_t n0 = ch * m, n1 = n0 + m < G->N ? n0 + m : G->N, k = n1 - n0;
            const Py_ssize_t ld = k * OHW;
            for (Py_ssize_t n = n0; n < n1; n++) {
                const Py_ssize_t off = (n - n0) * OHW;
                const T *xn = x + n * xs + c0 * HW;
                if (!direct)
                    FN(im2col_ld_)(xn, &G1, cols + off, ld);
                else if (k > 1)
                    for (Py_ssize_t r = 0; r < rows; r++)
                        memcpy(cols + r * ld + off, xn + r * OHW, OHW * sizeof(T));
                if (k > 1)
                    for (Py_ssize_t o = 0; o < outs; o++)
                        memcpy(gc + o * ld + off, g + n * gs + (o0 + o) * OHW, OHW * sizeof(T));
            }
            /* one image: its g and (pointwise) x are already laid out that way */
            const T *ga = k == 1 ? g + n0 * gs + o0 * OHW : gc;
            const T *ca = k == 1 && direct ? x + n0 * xs + c0 * HW : cols;
            DOTS(outs, rows, ld, ga, ld, ca, ld, dw + o0 * CKK + c0 * KK, CKK, ch > 0);
        }
    }
    kc_scratch_give(buf, cached);
    return 0;
}

/* dx, dw, db (each may be NULL) of the convolution; dw and db are overwritten. */
static int FN(conv_backward_)(const T *g, const T *x, const T *w, const conv_geom *G, T *dx,
                              T *dw, T *db, int nt) {
    Py_ssize_t OHW = G->OH * G->OW, gs = G->OC * OHW;
    if (db) {
        enum { L = 64 / (int)sizeof(T) }; /* independent sums, so the loop vectorises */
        for (Py_ssize_t o = 0; o < G->OC; o++) {
            double s = 0;
            for (Py_ssize_t n = 0; n < G->N; n++) {
                const T *gr = g + n * gs + o * OHW;
                T acc[L] = {0};
                Py_ssize_t p = 0;
                for (; p + L <= OHW; p += L)
                    for (int q = 0; q < L; q++) acc[q] += gr[p + q];
                for (int q = 0; p < OHW; p++, q++) acc[q] += gr[p];
                for (int q = 0; q < L; q++) s += acc[q];
            }
            db[o] = (T)s;
        }
    }
    if (dx && FN(conv_dx_)(g, w, G, dx, nt)) return -1;
    if (dw && FN(conv_dw_)(g, x, G, dw, nt)) return -1;
    return 0;
}

#undef FN
