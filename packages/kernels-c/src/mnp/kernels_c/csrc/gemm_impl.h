/* The blocked GEMM for one element type, included with T and SFX defined: by gemm.c, and by
 * attention.c for a copy on 256-bit register tiles (KC_NARROW, kc_simd.h).
 *
 * Goto/BLIS structure: for each NC-column panel of op(B) and KC-slice of K, op(B) is
 * packed into NR-wide slivers shared by all threads; each thread packs MR-row panels of its
 * own rows of op(A) and runs the register-blocked micro-kernel (MR x NR tile of C held in
 * 2*MR vector registers, one broadcast of A times two vectors of B per row and k).
 * Partial tiles go through a small buffer. Any strides work: packing reads through them.
 */
#ifndef MNP_KC_GEMM_TUNING
#define MNP_KC_GEMM_TUNING
/* prefetch distance (elements) in the packed A stream */
#ifndef KC_PF_A
#define KC_PF_A 128
#endif

/* below this M*N*K the plain loop wins over tiles; below KC_NOPACK_GEMM the tiles read the
 * operands in place (packing costs more than it saves while everything stays in cache) */
#define KC_SMALL_GEMM ((double)GEMM_SMALL)
#define KC_NOPACK_GEMM ((double)GEMM_NOPACK)

/* rows (or columns) per thread from which threads work on separate blocks */
#define KC_SPLIT_FROM GEMM_SPLIT_FROM
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SFX)

/* cache blocking (gemm.c's gemm_blocked may change it): kc x NR sliver of B in L1, mc x kc
 * block of A in L2, kc x nc panel in L3. float32: a 512-deep k block (fewer passes over C)
 * with 144-row A blocks measured 4-9% faster than 256 x 384 on a transformer's and on square
 * products, at 1 and 2 threads */
static Py_ssize_t FN(KC_) = sizeof(T) == 4 ? 512 : 256, FN(MC_) = sizeof(T) == 4 ? 144 : 192,
                  FN(NC_) = 3072;

typedef T FN(vec_) __attribute__((vector_size(KC_VBYTES)));
#define VEC FN(vec_)
#define VL ((Py_ssize_t)(KC_VBYTES / sizeof(T)))
#define NR (KC_NV * VL)

/* cache lines in one row of a C tile */
#define CLINES ((NR * (Py_ssize_t)sizeof(T) + 63) / 64)

/* one k step of the micro-kernel: a row of the packed B sliver times each of the MR values
 * of the packed A column, into the accumulators */
#define MICRO_STEP(a, b)                                                             \
    do {                                                                             \
        VEC bv_[KC_NV];                                                              \
        _Pragma("GCC unroll 4") for (int v = 0; v < KC_NV; v++)                      \
            bv_[v] = *(const VEC *)((b) + v * VL);                                    \
        _Pragma("GCC unroll 16") for (int i = 0; i < KC_MR; i++) {                   \
            const T ai_ = (a)[i];                                                    \
            _Pragma("GCC unroll 4") for (int v = 0; v < KC_NV; v++)                  \
                cr[i][v] += ai_ * bv_[v];                                            \
        }                                                                            \
    } while (0)

/* k steps per chunk of the micro-kernel's loop: the prefetches are issued once a chunk, so
 * the steps themselves are loads and multiply-adds only, in a loop kept rolled (unrolled,
 * GCC spills accumulators). A test and a prefetch in every step cost ~10% on the products
 * of a transformer's linear layers (K = 128); chunks of 16 beat 8 by 3% and 4 or 32 by 5%. */
#ifndef MICRO_CHUNK
#define MICRO_CHUNK 16
#endif

/* the micro-kernel: C[0:MR, 0:NR] (=|+=) Ap (MR x kc, packed) * Bp (kc x NR, packed), then
 * + bias[0:NR] on every row when `bias` is given (the last k block of a product with a bias:
 * the sum is rounded first, as a separate add would).
 * `cn` is the C tile of the next call: its lines are prefetched one a chunk during the k
 * loop (all at once would stall on the line-fill buffers), so C, which comes from memory
 * for large products, is in cache when its turn comes. */
static inline void FN(micro_)(Py_ssize_t kc, const T *restrict a, const T *restrict b,
                              T *restrict c, Py_ssize_t ldc, int acc, const T *cn,
                              const T *bias) {
    VEC cr[KC_MR][KC_NV];
#pragma GCC unroll 16
    for (int i = 0; i < KC_MR; i++) {
#pragma GCC unroll 4
        for (int v = 0; v < KC_NV; v++) cr[i][v] = (VEC){0};
    }
    const Py_ssize_t a_chunk = MICRO_CHUNK * KC_MR, line = 64 / (Py_ssize_t)sizeof(T);
    Py_ssize_t p = 0, q = 0;
    for (; p + MICRO_CHUNK <= kc; p += MICRO_CHUNK) {
        /* the A stream comes from L2: the lines of the chunk KC_PF_A elements on */
#pragma GCC unroll 8
        for (Py_ssize_t l = 0; l < a_chunk; l += line) __builtin_prefetch(a + KC_PF_A + l);
        if (q < KC_MR * CLINES) {
            __builtin_prefetch(cn + (q / CLINES) * ldc + (q % CLINES) * line, 1);
            q++;
        }
#pragma GCC unroll 1
        for (int u = 0; u < MICRO_CHUNK; u++) MICRO_STEP(a + u * KC_MR, b + u * NR);
        a += a_chunk;
        b += MICRO_CHUNK * NR;
    }
    for (; p < kc; p++) {
        MICRO_STEP(a, b);
        a += KC_MR;
        b += NR;
    }
    VEC bv[KC_NV];
#pragma GCC unroll 4
    for (int v = 0; v < KC_NV; v++) {
        bv[v] = (VEC){0};
        if (bias) memcpy(&bv[v], bias + v * VL, sizeof(VEC));
    }
#pragma GCC unroll 16
    for (int i = 0; i < KC_MR; i++) {
        T *ci = c + i * ldc;
#pragma GCC unroll 4
        for (int v = 0; v < KC_NV; v++) {
            VEC u = cr[i][v];
            if (acc) {
                VEC old;
                memcpy(&old, ci + v * VL, sizeof old);
                u += old;
            }
            if (bias) u += bv[v];
            memcpy(ci + v * VL, &u, sizeof u);
        }
    }
}

/* the same tile read in place (no packing): A through its strides, B rows contiguous */
static inline void FN(micro_np_)(Py_ssize_t kc, const T *restrict a, Py_ssize_t rsa,
                                 Py_ssize_t csa, const T *restrict b, Py_ssize_t rsb,
                                 T *restrict c, Py_ssize_t ldc, int acc) {
    VEC cr[KC_MR][KC_NV];
#pragma GCC unroll 16
    for (int i = 0; i < KC_MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < KC_NV; v++) cr[i][v] = (VEC){0};
    for (Py_ssize_t p = 0; p < kc; p++) {
        VEC bv[KC_NV];
#pragma GCC unroll 4
        for (int v = 0; v < KC_NV; v++) memcpy(&bv[v], b + p * rsb + v * VL, sizeof(VEC));
        const T *ap = a + p * csa;
#pragma GCC unroll 16
        for (int i = 0; i < KC_MR; i++) {
            const T ai = ap[i * rsa];
#pragma GCC unroll 4
            for (int v = 0; v < KC_NV; v++) cr[i][v] += ai * bv[v];
        }
    }
#pragma GCC unroll 16
    for (int i = 0; i < KC_MR; i++) {
        T *ci = c + i * ldc;
#pragma GCC unroll 4
        for (int v = 0; v < KC_NV; v++) {
            VEC u = cr[i][v];
            if (acc) {
                VEC old;
                memcpy(&old, ci + v * VL, sizeof old);
                u += old;
            }
            memcpy(ci + v * VL, &u, sizeof u);
        }
    }
}

/* pack rows [0, mc) x cols [0, kc) of op(A) into MR-row panels, zero-padding the last */
static void FN(pack_a_)(Py_ssize_t mc, Py_ssize_t kc, const T *A, Py_ssize_t rsa,
                        Py_ssize_t csa, T *restrict dst) {
    for (Py_ssize_t ir = 0; ir < mc; ir += KC_MR) {
        Py_ssize_t mr = mc - ir < KC_MR ? mc - ir : KC_MR;
        const T *a = A + ir * rsa;
        if (mr == KC_MR && rsa == 1) {
            for (Py_ssize_t p = 0; p < kc; p++)
                for (int i = 0; i < KC_MR; i++) dst[p * KC_MR + i] = a[p * csa + i];
        } else if (mr == KC_MR && csa == 1) {
            for (int i = 0; i < KC_MR; i++) {
                const T *ai = a + i * rsa;
                for (Py_ssize_t p = 0; p < kc; p++) dst[p * KC_MR + i] = ai[p];
            }
        } else {
            for (Py_ssize_t p = 0; p < kc; p++) {
                for (Py_ssize_t i = 0; i < mr; i++) dst[p * KC_MR + i] = a[i * rsa + p * csa];
                for (Py_ssize_t i = mr; i < KC_MR; i++) dst[p * KC_MR + i] = 0;
            }
        }
        dst += KC_MR * kc;
    }
}

/* pack one NR-column sliver (nr <= NR columns) of a kc-row slice of op(B) */
static void FN(pack_b_)(Py_ssize_t kc, Py_ssize_t nr, const T *b, Py_ssize_t rsb,
                        Py_ssize_t csb, T *restrict dst) {
    if (nr == NR && csb == 1) {
        for (Py_ssize_t p = 0; p < kc; p++) memcpy(dst + p * NR, b + p * rsb, NR * sizeof(T));
    } else if (nr == NR && rsb == 1) {
        for (Py_ssize_t j = 0; j < NR; j++) {
            const T *bj = b + j * csb;
            for (Py_ssize_t p = 0; p < kc; p++) dst[p * NR + j] = bj[p];
        }
    } else {
        for (Py_ssize_t p = 0; p < kc; p++) {
            for (Py_ssize_t j = 0; j < nr; j++) dst[p * NR + j] = b[p * rsb + j * csb];
            for (Py_ssize_t j = nr; j < NR; j++) dst[p * NR + j] = 0;
        }
    }
}

/* C[i, :] (=|+=) sum_p A(i, p) B(p, :) for small problems with unit column stride in B and C */
static void FN(small_)(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const T *A, Py_ssize_t rsa,
                       Py_ssize_t csa, const T *B, Py_ssize_t rsb, T *C, Py_ssize_t ldc,
                       int accumulate) {
    for (Py_ssize_t i = 0; i < M; i++) {
        T *restrict ci = C + i * ldc;
        if (!accumulate)
            for (Py_ssize_t j = 0; j < N; j++) ci[j] = 0;
        for (Py_ssize_t p = 0; p < K; p++) {
            const T aip = A[i * rsa + p * csa];
            const T *restrict bp = B + p * rsb;
            for (Py_ssize_t j = 0; j < N; j++) ci[j] += aip * bp[j];
        }
    }
}

/* C[i, j] += bias[j] over M rows (the bias of the paths that do not fuse it) */
static void FN(add_bias_)(Py_ssize_t M, Py_ssize_t N, const T *bias, T *C, Py_ssize_t ldc) {
    for (Py_ssize_t i = 0; i < M; i++) {
        T *restrict ci = C + i * ldc;
        for (Py_ssize_t j = 0; j < N; j++) ci[j] += bias[j];
    }
}

/* C[i, j] (=|+=) tile[i, j] for the valid part of an edge tile */
static inline void FN(put_tile_)(const T *tile, Py_ssize_t mr, Py_ssize_t nr, T *c,
                                 Py_ssize_t ldc, int acc) {
    for (Py_ssize_t i = 0; i < mr; i++)
        for (Py_ssize_t j = 0; j < nr; j++)
            c[i * ldc + j] = acc ? c[i * ldc + j] + tile[i * NR + j] : tile[i * NR + j];
}

/* C[i, j] (=|+=) dot(A row i, B column j) when both run contiguously along k: the shape of
 * a weight gradient (few rows and columns, long k), where tiles would be mostly padding.
 * 4 x 4 blocks of dots keep 16 vector accumulators: 8 loads feed 16 multiply-adds, and the
 * rows are read in place (no packing). */
#define DR 4
/* the sum of a vector's lanes: 16-byte pieces added as vectors, then their lanes */
static inline T FN(hsum_)(VEC v) {
    typedef T piece __attribute__((vector_size(16)));
    piece u = {0};
    for (int h = 0; h < KC_VBYTES / 16; h++) {
        piece t;
        memcpy(&t, (const char *)&v + 16 * h, 16);
        u += t;
    }
    T r = 0;
    for (int l = 0; l < (int)(16 / sizeof(T)); l++) r += u[l];
    return r;
}

/* DR whole rows of A against rb <= DR columns of B */
static inline void FN(dot_block_)(Py_ssize_t rb, Py_ssize_t K, const T *A, Py_ssize_t rsa,
                                  const T *B, Py_ssize_t csb, T *C, Py_ssize_t ldc, int acc) {
    VEC s[DR][DR];
    const T *a[DR], *b[DR];
    for (int r = 0; r < DR; r++) { /* columns past the edge repeat the last one */
        a[r] = A + r * rsa;
        b[r] = B + (r < rb ? r : rb - 1) * csb;
    }
#pragma GCC unroll 4
    for (int r = 0; r < DR; r++)
#pragma GCC unroll 4
        for (int q = 0; q < DR; q++) s[r][q] = (VEC){0};
    Py_ssize_t p = 0;
    for (; p + VL <= K; p += VL) {
        VEC av[DR], bv[DR];
#pragma GCC unroll 4
        for (int r = 0; r < DR; r++) {
            memcpy(&av[r], a[r] + p, sizeof(VEC));
            memcpy(&bv[r], b[r] + p, sizeof(VEC));
        }
#pragma GCC unroll 4
        for (int r = 0; r < DR; r++)
#pragma GCC unroll 4
            for (int q = 0; q < DR; q++) s[r][q] += av[r] * bv[q];
    }
    for (int r = 0; r < DR; r++)
        for (int q = 0; q < rb; q++) {
            T t = FN(hsum_)(s[r][q]);
            for (Py_ssize_t k = p; k < K; k++) t += a[r][k] * b[q][k];
            C[r * ldc + q] = acc ? C[r * ldc + q] + t : t;
        }
}

/* one row of A against DC columns of B: the matrix-vector product (a token's activations
 * times a weight matrix), where a DR x DR block would repeat the row. Every element is summed
 * exactly as in dot_block_ (lane-wise multiply-adds, hsum_, then the tail), so a row gives
 * the same bits whichever of the two computes it. */
#define DC 8
#define DC_AHEAD 4 /* blocks ahead to prefetch */
static inline void FN(dot_row_)(Py_ssize_t rb, Py_ssize_t K, const T *a, const T *B,
                                Py_ssize_t csb, T *c, int acc) {
    VEC s[DC];
    const T *b[DC];
    for (int q = 0; q < DC; q++) b[q] = B + (q < rb ? q : rb - 1) * csb;
#pragma GCC unroll 8
    for (int q = 0; q < DC; q++) s[q] = (VEC){0};
    /* the rows DC_AHEAD blocks on, fetched a line per row as this block passes the same offset:
     * weight rows are short streams the hardware prefetcher barely starts on */
    const T *next = B + DC_AHEAD * DC * csb;
    const Py_ssize_t line = 64 / (Py_ssize_t)sizeof(T);
    Py_ssize_t p = 0;
    for (; p + VL <= K; p += VL) {
        VEC av;
        memcpy(&av, a + p, sizeof(VEC));
        if (p % line < VL)
#pragma GCC unroll 8
            for (int q = 0; q < DC; q++) __builtin_prefetch(next + q * csb + p);
#pragma GCC unroll 8
        for (int q = 0; q < DC; q++) {
            VEC bv;
            memcpy(&bv, b[q] + p, sizeof(VEC));
            s[q] += av * bv;
        }
    }
    for (int q = 0; q < rb; q++) {
        T t = FN(hsum_)(s[q]);
        for (Py_ssize_t k = p; k < K; k++) t += a[k] * b[q][k];
        c[q] = acc ? c[q] + t : t;
    }
}

static void FN(dots_)(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const T *A, Py_ssize_t rsa,
                      const T *B, Py_ssize_t csb, T *C, Py_ssize_t ldc, int acc) {
    const Py_ssize_t KB = 2048; /* k slice: the rows of a block stay in L1 */
    const Py_ssize_t Mb = M - M % DR; /* rows in whole DR blocks; the rest one at a time */
    Py_ssize_t kb;
    for (Py_ssize_t p = 0; p < K; p += kb) {
        kb = K - p - KB < VL ? K - p : KB; /* no short last slice */
        for (Py_ssize_t i = 0; i < Mb; i += DR)
            for (Py_ssize_t j = 0; j < N; j += DR)
                FN(dot_block_)(N - j < DR ? N - j : DR, kb, A + i * rsa + p, rsa,
                               B + j * csb + p, csb, C + i * ldc + j, ldc, acc || p > 0);
        for (Py_ssize_t i = Mb; i < M; i++)
            for (Py_ssize_t j = 0; j < N; j += DC)
                FN(dot_row_)(N - j < DC ? N - j : DC, kb, A + i * rsa + p, B + j * csb + p,
                             csb, C + i * ldc + j, acc || p > 0);
    }
}
#undef DC_AHEAD
#undef DC
#undef DR

/* a product small enough to stay in cache: whole tiles read the operands in place (packing
 * would cost more than it saves); only the edge rows of A and columns of B are copied into
 * zero-padded panels, and B whole when its rows are strided (a transposed operand, as the
 * keys in q @ k^T). -1 if the buffers cannot be allocated. */
static int FN(nopack_)(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const T *A, Py_ssize_t rsa,
                       Py_ssize_t csa, const T *B, Py_ssize_t rsb, Py_ssize_t csb, T *C,
                       Py_ssize_t ldc, int acc) {
    Py_ssize_t Mf = M - M % KC_MR, Nf = N - N % NR, mre = M - Mf, nre = N - Nf;
    T *ae = mre ? kc_aligned_alloc((size_t)KC_MR * K * sizeof(T)) : NULL;
    T *be = nre ? kc_aligned_alloc((size_t)NR * K * sizeof(T)) : NULL;
    T *bt = csb != 1 ? kc_aligned_alloc((size_t)K * N * sizeof(T)) : NULL;
    if ((mre && !ae) || (nre && !be) || (csb != 1 && !bt)) {
        kc_aligned_free(ae);
        kc_aligned_free(be);
        kc_aligned_free(bt);
        return -1;
    }
    if (bt) { /* 8 columns at a time: 8 read streams, each written row contiguous */
        for (Py_ssize_t j0 = 0; j0 < N; j0 += 8) {
            Py_ssize_t w = N - j0 < 8 ? N - j0 : 8;
            for (Py_ssize_t p = 0; p < K; p++) {
                const T *bp = B + p * rsb + j0 * csb;
                T *dst = bt + p * N + j0;
                for (Py_ssize_t j = 0; j < w; j++) dst[j] = bp[j * csb];
            }
        }
        B = bt;
        rsb = N;
    }
    T tile[KC_MR * NR] __attribute__((aligned(64)));
    if (mre)
        for (Py_ssize_t i = 0; i < KC_MR; i++)
            for (Py_ssize_t p = 0; p < K; p++) ae[i * K + p] = i < mre ? A[(Mf + i) * rsa + p * csa] : 0;
    if (nre)
        for (Py_ssize_t p = 0; p < K; p++)
            for (Py_ssize_t j = 0; j < NR; j++) be[p * NR + j] = j < nre ? B[p * rsb + Nf + j] : 0;
    for (Py_ssize_t i = 0; i < Mf; i += KC_MR) {
        for (Py_ssize_t j = 0; j < Nf; j += NR)
            FN(micro_np_)(K, A + i * rsa, rsa, csa, B + j, rsb, C + i * ldc + j, ldc, acc);
        if (nre) {
            FN(micro_np_)(K, A + i * rsa, rsa, csa, be, NR, tile, NR, 0);
            FN(put_tile_)(tile, KC_MR, nre, C + i * ldc + Nf, ldc, acc);
        }
    }
    if (mre) {
        for (Py_ssize_t j = 0; j < Nf; j += NR) {
            FN(micro_np_)(K, ae, K, 1, B + j, rsb, tile, NR, 0);
            FN(put_tile_)(tile, mre, NR, C + Mf * ldc + j, ldc, acc);
        }
        if (nre) {
            FN(micro_np_)(K, ae, K, 1, be, NR, tile, NR, 0);
            FN(put_tile_)(tile, mre, nre, C + Mf * ldc + Nf, ldc, acc);
        }
    }
    kc_aligned_free(ae);
    kc_aligned_free(be);
    kc_aligned_free(bt);
    return 0;
}

/* C (=|+=) A B with A's rows and B's columns contiguous along k, on the calling thread */
void FN(kc_gemm_dots_)(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const T *A, Py_ssize_t rsa,
                       const T *B, Py_ssize_t csb, T *C, Py_ssize_t ldc, int accumulate) {
    FN(dots_)(M, N, K, A, rsa, B, csb, C, ldc, accumulate);
}

static void FN(gemm_team_)(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const T *A,
                           Py_ssize_t rsa, Py_ssize_t csa, const T *B, Py_ssize_t rsb,
                           Py_ssize_t csb, T *C, Py_ssize_t ldc, int accumulate, int nthreads,
                           int path, const T *bias);

/* The algorithm for the whole product, chosen from its shape and strides only: a block of
 * rows or columns computed by one thread of a split uses the same one, so every element of C
 * comes out the same for any thread count (each path's value for an element depends only on
 * its row of op(A), its column of op(B) and K; K is never split between threads). */
#ifndef MNP_KC_GEMM_PATH
#define MNP_KC_GEMM_PATH
enum { GP_DOTS, GP_SMALL, GP_NOPACK, GP_PACKED };
static int gemm_path(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, Py_ssize_t csa, Py_ssize_t rsb,
                     Py_ssize_t csb, Py_ssize_t MR, Py_ssize_t NRW) {
    const double mnk = (double)M * N * K;
    if (csa == 1 && rsb == 1 && csb != 1 && (M < MR || N < NRW) && K >= 32) return GP_DOTS;
    if (csb == 1 && (M < 4 || mnk <= KC_SMALL_GEMM)) return GP_SMALL;
    if (mnk <= KC_NOPACK_GEMM) return GP_NOPACK;
    return GP_PACKED;
}
#endif

/* Large products on several threads: each thread computes its own block of rows (or of
 * columns) with its own packing buffers, so no thread ever waits for another. Smaller ones
 * share the packed B panel among the team (gemm_team_). */
void FN(kc_gemm_)(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const T *A, Py_ssize_t rsa,
                  Py_ssize_t csa, const T *B, Py_ssize_t rsb, Py_ssize_t csb, T *C,
                  Py_ssize_t ldc, int accumulate, int nthreads, const T *bias) {
    int nt = nthreads < 1 ? 1 : nthreads;
    const int path = gemm_path(M, N, K, csa, rsb, csb, KC_MR, NR);
    if (nt > 1 && K >= 64 && (M >= KC_SPLIT_FROM * nt || N >= KC_SPLIT_FROM * nt) &&
        (double)M * N * K > KC_NOPACK_GEMM) {
        int by_rows = M >= N;
        Py_ssize_t len = by_rows ? M : N, unit = by_rows ? KC_MR : NR;
#pragma omp parallel num_threads(nt)
        {
            int tid = kc_tid(), team = kc_team();
            Py_ssize_t per = ((len + team - 1) / team + unit - 1) / unit * unit;
            Py_ssize_t lo = tid * per < len ? tid * per : len;
            Py_ssize_t hi = lo + per < len ? lo + per : len;
            if (hi > lo) {
                if (by_rows)
                    FN(gemm_team_)(hi - lo, N, K, A + lo * rsa, rsa, csa, B, rsb, csb,
                                   C + lo * ldc, ldc, accumulate, 1, path, bias);
                else
                    FN(gemm_team_)(M, hi - lo, K, A, rsa, csa, B + lo * csb, rsb, csb, C + lo,
                                   ldc, accumulate, 1, path, bias ? bias + lo : NULL);
            }
        }
        return;
    }
    FN(gemm_team_)(M, N, K, A, rsa, csa, B, rsb, csb, C, ldc, accumulate, nt, path, bias);
}

/* the unblocked paths (and the empty product) with the bias added after */
static int FN(gemm_plain_)(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const T *A,
                           Py_ssize_t rsa, Py_ssize_t csa, const T *B, Py_ssize_t rsb,
                           Py_ssize_t csb, T *C, Py_ssize_t ldc, int accumulate, int path,
                           const T *bias) {
    if (K <= 0) {
        if (!accumulate)
            for (Py_ssize_t i = 0; i < M; i++) memset(C + i * ldc, 0, N * sizeof(T));
    } else if (path == GP_DOTS) {
        FN(dots_)(M, N, K, A, rsa, B, csb, C, ldc, accumulate);
    } else if (path == GP_SMALL) {
        FN(small_)(M, N, K, A, rsa, csa, B, rsb, C, ldc, accumulate);
    } else if (path != GP_NOPACK ||
               FN(nopack_)(M, N, K, A, rsa, csa, B, rsb, csb, C, ldc, accumulate) != 0) {
        return -1;
    }
    if (bias) FN(add_bias_)(M, N, bias, C, ldc);
    return 0;
}

static void FN(gemm_team_)(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const T *A,
                           Py_ssize_t rsa, Py_ssize_t csa, const T *B, Py_ssize_t rsb,
                           Py_ssize_t csb, T *C, Py_ssize_t ldc, int accumulate, int nthreads,
                           int path, const T *bias) {
    if (M <= 0 || N <= 0) return;
    if (FN(gemm_plain_)(M, N, K, A, rsa, csa, B, rsb, csb, C, ldc, accumulate, path, bias) == 0)
        return;
    const Py_ssize_t MCB = FN(MC_), NCB = FN(NC_);
    /* K in equal blocks (784 = 2 x 392, not 512 + 272) */
    const Py_ssize_t nkb = (K + FN(KC_) - 1) / FN(KC_), KCB = (K + nkb - 1) / nkb;
    Py_ssize_t nc_max = N < NCB ? N : NCB;
    nc_max = (nc_max + NR - 1) / NR * NR;
    Py_ssize_t kc_max = K < KCB ? K : KCB;
    int nt = nthreads < 1 ? 1 : nthreads;
    /* split rows or column slivers among the team, whichever shares out more evenly */
    int split_rows = 1;
    if (nt > 1 && N <= NCB) {
        double ru = (double)((M + KC_MR - 1) / KC_MR), cu = (double)((N + NR - 1) / NR);
        double row_excess = ceil(ru / nt) * KC_MR * nt / (double)M;
        double col_excess = ceil(cu / nt) * NR * nt / (double)N;
        split_rows = row_excess <= col_excess;
    }
    Py_ssize_t rows_per = split_rows ? ((M + nt - 1) / nt + KC_MR - 1) / KC_MR * KC_MR : M;
    Py_ssize_t mc_max = rows_per < MCB ? rows_per : MCB;
    mc_max = (mc_max + KC_MR - 1) / KC_MR * KC_MR;
    size_t bsz = (size_t)kc_max * nc_max, asz = (size_t)nt * kc_max * mc_max, cached;
    T *bbuf = kc_scratch_take((bsz + asz) * sizeof(T), &cached);
    T *abuf = bbuf ? bbuf + bsz : NULL;   /* bsz is a multiple of NR: abuf stays aligned */
    if (!bbuf) { /* out of memory: the unblocked loop still gives the answer */
        if (csb == 1) {
            FN(small_)(M, N, K, A, rsa, csa, B, rsb, C, ldc, accumulate);
        } else {
            for (Py_ssize_t i = 0; i < M; i++)
                for (Py_ssize_t j = 0; j < N; j++) {
                    T s = accumulate ? C[i * ldc + j] : 0;
                    for (Py_ssize_t p = 0; p < K; p++) s += A[i * rsa + p * csa] * B[p * rsb + j * csb];
                    C[i * ldc + j] = s;
                }
        }
        if (bias) FN(add_bias_)(M, N, bias, C, ldc);
        return;
    }
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int tid = kc_tid(), team = kc_team();
        T *apack = abuf + (size_t)tid * kc_max * mc_max;
        Py_ssize_t m0 = 0, m1 = M;
        if (split_rows) {
            Py_ssize_t per = ((M + team - 1) / team + KC_MR - 1) / KC_MR * KC_MR;
            m0 = tid * per < M ? tid * per : M;
            m1 = m0 + per < M ? m0 + per : M;
        }
        T tile[KC_MR * NR] __attribute__((aligned(64)));
        for (Py_ssize_t jc = 0; jc < N; jc += NCB) {
            Py_ssize_t nc = N - jc < NCB ? N - jc : NCB;
            Py_ssize_t nsl = (nc + NR - 1) / NR;
            Py_ssize_t s0 = 0, s1 = nsl;
            if (!split_rows) {
                Py_ssize_t per = (nsl + team - 1) / team;
                s0 = tid * per < nsl ? tid * per : nsl;
                s1 = s0 + per < nsl ? s0 + per : nsl;
            }
            for (Py_ssize_t pc = 0; pc < K; pc += KCB) {
                Py_ssize_t kc = K - pc < KCB ? K - pc : KCB;
                int acc = accumulate || pc > 0;
                const T *pbias = pc + kc >= K ? bias : NULL;   /* on the last k block */
#pragma omp for schedule(static)
                for (Py_ssize_t s = 0; s < nsl; s++) {
                    Py_ssize_t j = s * NR, nr = nc - j < NR ? nc - j : NR;
                    FN(pack_b_)(kc, nr, B + pc * rsb + (jc + j) * csb, rsb, csb, bbuf + s * NR * kc);
                }
                for (Py_ssize_t ic = m0; ic < m1; ic += MCB) {
                    Py_ssize_t mc = m1 - ic < MCB ? m1 - ic : MCB;
                    FN(pack_a_)(mc, kc, A + ic * rsa + pc * csa, rsa, csa, apack);
                    for (Py_ssize_t s = s0; s < s1; s++) {
                        Py_ssize_t j = s * NR, nr = nc - j < NR ? nc - j : NR;
                        const T *bp = bbuf + s * NR * kc;
                        for (Py_ssize_t ir = 0; ir < mc; ir += KC_MR) {
                            Py_ssize_t mr = mc - ir < KC_MR ? mc - ir : KC_MR;
                            T *cij = C + (ic + ir) * ldc + jc + j;
                            const T *ap = apack + ir * kc;
                            /* the next tile: below this one, or the top of the next sliver */
                            const T *cnext = ir + KC_MR < mc ? cij + KC_MR * ldc
                                                             : C + ic * ldc + jc + j + NR;
                            const T *tb = pbias ? pbias + jc + j : NULL;
                            if (mr == KC_MR && nr == NR) {
                                FN(micro_)(kc, ap, bp, cij, ldc, acc, cnext, tb);
                            } else {
                                FN(micro_)(kc, ap, bp, tile, NR, 0, cnext, NULL);
                                for (Py_ssize_t i = 0; i < mr; i++)
                                    for (Py_ssize_t jj = 0; jj < nr; jj++) {
                                        T u = acc ? cij[i * ldc + jj] + tile[i * NR + jj]
                                                  : tile[i * NR + jj];
                                        cij[i * ldc + jj] = tb ? u + tb[jj] : u;
                                    }
                            }
                        }
                    }
                }
#pragma omp barrier
            }
        }
    }
    kc_scratch_give(bbuf, cached);
}

#undef MICRO_STEP
#undef MICRO_CHUNK
#undef VEC
#undef VL
#undef NR
#undef CLINES
#undef FN
