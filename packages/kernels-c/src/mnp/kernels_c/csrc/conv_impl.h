/* im2col / col2im and convolution by im2col + the C GEMM for one element type; included by
 * conv.c with T, SFX and GEMM (kc_sgemm / kc_dgemm) defined. */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SFX)

/* one image: cols[(c*kh + i)*kw + j][oh*OW + ow] = x[c][oh*sh - ph + i*dh][ow*sw - pw + j*dw],
 * rows `ld` elements apart */
static void FN(im2col_ld_)(const T *restrict x, const conv_geom *G, T *restrict cols,
                           Py_ssize_t ld) {
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
    KC_PROBE_START
#pragma omp parallel num_threads(team) if (team > 1)
    {
        KC_PROBE
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

/* images per weight-gradient chunk: their columns (about 1 MB) stay in L2, and the dot
 * products run over all of them at once */
static Py_ssize_t FN(dw_chunk_)(const conv_geom *G, int team) {
    Py_ssize_t per = (G->C * G->KH * G->KW + G->OC) * G->OH * G->OW * (Py_ssize_t)sizeof(T);
    Py_ssize_t m = ((Py_ssize_t)1 << 20) / (per > 0 ? per : 1);
    Py_ssize_t share = (G->N + team - 1) / team;
    if (m > share) m = share;
    return m < 1 ? 1 : m;
}

/* dx, dw, db (each may be NULL) of the convolution; dw and db are overwritten.
 * dw: per chunk of images, cols (CKK x m*OHW, the images side by side) and g (OC x m*OHW)
 * are gathered and dw (OC x CKK) += g cols^T as blocks of dot products; each thread sums
 * into its own dw, reduced at the end. dx: per image, dcols = w^T g[n], then col2im. */
static int FN(conv_backward_)(const T *g, const T *x, const T *w, const conv_geom *G, T *dx,
                              T *dw, T *db, int nt) {
    Py_ssize_t CKK = G->C * G->KH * G->KW, OHW = G->OH * G->OW;
    Py_ssize_t xs = G->C * G->H * G->W, gs = G->OC * OHW, wsz = G->OC * CKK;
    int direct = conv_is_pointwise(G);
    int outer = nt > 1 && G->N >= nt;
    int team = outer ? nt : 1;
    /* chunks of images for dw (only when one thread does the whole product) */
    Py_ssize_t m = dw && (outer || nt == 1) ? FN(dw_chunk_)(G, team) : 1;
    int chunked = dw && (outer || nt == 1);
    size_t ccols = chunked ? (size_t)m * (CKK + G->OC) * OHW : (direct ? 0 : (size_t)CKK * OHW);
    size_t cdx = dx && !direct ? (size_t)CKK * OHW : 0;
    size_t pad = (64 / sizeof(T)) - 1;
    size_t per = (ccols + cdx + (dw ? (size_t)wsz : 0) + pad) / (pad + 1) * (pad + 1);
    size_t cached = 0;
    T *buf = per ? kc_scratch_take((size_t)team * per * sizeof(T), &cached) : NULL;
    if (per && !buf) return -1;
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
    Py_ssize_t nchunks = (G->N + m - 1) / m;
    KC_PROBE_START
#pragma omp parallel num_threads(team) if (team > 1)
    {
        KC_PROBE
        int tid = kc_tid();
        T *mine = buf ? buf + (size_t)tid * per : NULL;
        T *cols = mine, *gc = chunked ? mine + (size_t)m * CKK * OHW : NULL;
        T *dcols = mine ? mine + ccols : NULL;
        T *dwl = dw ? (team > 1 ? mine + ccols + cdx : dw) : NULL;
        int first = 1;
#pragma omp for schedule(static)
        for (Py_ssize_t ch = 0; ch < nchunks; ch++) {
            Py_ssize_t n0 = ch * m, n1 = n0 + m < G->N ? n0 + m : G->N, k = n1 - n0;
            if (dw && chunked) {
                Py_ssize_t ld = k * OHW;
                for (Py_ssize_t n = n0; n < n1; n++) {
                    Py_ssize_t off = (n - n0) * OHW;
                    if (direct)
                        for (Py_ssize_t r = 0; r < CKK; r++)
                            memcpy(cols + r * ld + off, x + n * xs + r * OHW, OHW * sizeof(T));
                    else
                        FN(im2col_ld_)(x + n * xs, G, cols + off, ld);
                    for (Py_ssize_t o = 0; o < G->OC; o++)
                        memcpy(gc + o * ld + off, g + n * gs + o * OHW, OHW * sizeof(T));
                }
                DOTS(G->OC, CKK, ld, gc, ld, cols, ld, dwl, CKK, !first);
                first = 0;
            }
            for (Py_ssize_t n = n0; n < n1; n++) {
                const T *gn = g + n * gs;
                if (dw && !chunked) {
                    const T *cn = x + n * xs;
                    if (!direct) {
                        FN(im2col_one_)(x + n * xs, G, cols);
                        cn = cols;
                    }
                    /* dw (OC x CKK) += g[n] (OC x OHW) @ cols^T (OHW x CKK) */
                    GEMM(G->OC, CKK, OHW, gn, OHW, 1, cn, 1, OHW, dwl, CKK, !first, nt);
                    first = 0;
                }
                if (dx) {
                    T *dxn = dx + n * xs;
                    /* dcols (CKK x OHW) = w^T (CKK x OC) @ g[n] (OC x OHW) */
                    if (direct) {
                        GEMM(CKK, OHW, G->OC, w, 1, CKK, gn, OHW, 1, dxn, OHW, 0, outer ? 1 : nt);
                    } else {
                        GEMM(CKK, OHW, G->OC, w, 1, CKK, gn, OHW, 1, dcols, OHW, 0, outer ? 1 : nt);
                        memset(dxn, 0, xs * sizeof(T));
                        FN(col2im_one_)(dcols, G, dxn);
                    }
                }
            }
        }
        if (dw && first) /* this thread saw no image */
            memset(dwl, 0, wsz * sizeof(T));
    }
    if (dw && team > 1) {
        size_t off = ccols + cdx;
        for (Py_ssize_t k = 0; k < wsz; k++) {
            T s = 0;
            for (int t = 0; t < team; t++) s += buf[(size_t)t * per + off + k];
            dw[k] = s;
        }
    }
    if (dw && G->N == 0) memset(dw, 0, wsz * sizeof(T));
    if (buf) kc_scratch_give(buf, cached);
    return 0;
}

#undef FN
