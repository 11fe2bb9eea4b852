/* The softmax family along the last axis for float32 slices of at least one SIMD vector
 * (kc_vexp.h): the max, then e^(x - max) and its sum in one pass, then the scaling; the
 * backward a sum, then one pass. A slice's tail shorter than a vector runs as the slice's last full vector,
 * overlapping the one before: lanes already done are left out of the sums and rewritten with
 * the same values. Every element goes through the same code whatever the thread split.
 * Included by softmax.c after softmax_impl.h. */

#define VL KC_VF_LEN

/* e^(x - m) of one slice into y (lg = 0; log_softmax, lg = 1, keeps only the sum), and its
 * sum; the last vector's e, which the scaling needs, in *et */
static float smv_exp_sum(const float *restrict x, float *restrict y, Py_ssize_t L, float m,
                         int lg, kc_vf *et) {
    const Py_ssize_t full = L - L % VL, last = L - VL;
    const kc_vf vm = kc_vf_splat(m);
    kc_vd lo = {0}, hi = {0};   /* the sum in double: its rounding error stays below float's */
    for (Py_ssize_t c = 0; c < full; c += VL) {
        const kc_vf e = kc_vexpf(kc_vf_load(x + c) - vm);
        if (!lg) kc_vf_store(y + c, e);
        kc_vf_acc(&lo, &hi, e);
    }
    if (full < L) {   /* kept in registers: y is stored only once there */
        *et = kc_vexpf(kc_vf_load(x + last) - vm);
        kc_vf_acc(&lo, &hi, (kc_vf)(kc_vf_from_lane((int)(full - last)) & (kc_vi)*et));
    }
    return (float)kc_vd_hsum(lo, hi);
}

/* y = e / s (lg = 0) or (x - m) - log(s) (lg = 1) */
static void smv_scale(const float *restrict x, float *restrict y, Py_ssize_t L, float m,
                      float s, int lg, kc_vf et) {
    const Py_ssize_t full = L - L % VL, last = L - VL;
    const kc_vf vm = kc_vf_splat(m);
    if (lg) {
        const kc_vf ls = kc_vf_splat(logf(s));
        for (Py_ssize_t c = 0; c < full; c += VL)
            kc_vf_store(y + c, (kc_vf_load(x + c) - vm) - ls);
        if (full < L) kc_vf_store(y + last, (kc_vf_load(x + last) - vm) - ls);
    } else {
        const kc_vf inv = kc_vf_splat(1.0f / s);  /* e (1/s) is e / s in every special case */
        for (Py_ssize_t c = 0; c < full; c += VL) kc_vf_store(y + c, kc_vf_load(y + c) * inv);
        if (full < L) kc_vf_store(y + last, et * inv);
    }
}

/* y = softmax(x) (lg = 0) or log_softmax(x) (lg = 1) of n <= SMV_BLOCK slices, step by step
 * over the block so that the slices' dependency chains (max, sum, scale) overlap. A slice with
 * a NaN, a +inf or only -inf is NaN throughout (as in PyTorch): the max is then not finite,
 * or e^NaN makes the sum NaN. */
#define SMV_BLOCK 8
static void smv_block(const float *x, float *y, Py_ssize_t L, Py_ssize_t n, int lg) {
    float m[SMV_BLOCK], s[SMV_BLOCK];
    kc_vf et[SMV_BLOCK];
    for (Py_ssize_t i = 0; i < n; i++) m[i] = kc_vf_max_n(x + i * L, L);
    for (Py_ssize_t i = 0; i < n; i++)
        s[i] = isfinite(m[i]) ? smv_exp_sum(x + i * L, y + i * L, L, m[i], lg, &et[i]) : 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (isfinite(m[i])) smv_scale(x + i * L, y + i * L, L, m[i], s[i], lg, et[i]);
        else
            for (Py_ssize_t c = 0; c < L; c++) y[i * L + c] = NAN;
    }
}

/* the backward of one slice: softmax's dx = y (g - sum(g y)) (lg = 0), log_softmax's
 * dx = g - e^y sum(g) (lg = 1) */
static void smv_row_bwd(const float *restrict g, const float *restrict y, float *restrict dx,
                        Py_ssize_t L, int lg) {
    const Py_ssize_t full = L - L % VL, last = L - VL;
    kc_vd a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};   /* the sum in double, as the forward's */
    Py_ssize_t c = 0;
#define SMV_TERM(c) (lg ? kc_vf_load(g + (c)) : kc_vf_load(g + (c)) * kc_vf_load(y + (c)))
    for (; c + 2 * VL <= full; c += 2 * VL) {
        kc_vf_acc(&a0, &a1, SMV_TERM(c));
        kc_vf_acc(&a2, &a3, SMV_TERM(c + VL));
    }
    if (c < full) kc_vf_acc(&a0, &a1, SMV_TERM(c));
    if (full < L)
        kc_vf_acc(&a2, &a3, (kc_vf)(kc_vf_from_lane((int)(full - last)) & (kc_vi)SMV_TERM(last)));
#undef SMV_TERM
    const kc_vf s = kc_vf_splat((float)kc_vd_hsum(a0 + a2, a1 + a3));
    for (c = 0; c < full; c += VL) {
        const kc_vf gv = kc_vf_load(g + c), yv = kc_vf_load(y + c);
        kc_vf_store(dx + c, lg ? gv - kc_vexpf(yv) * s : yv * (gv - s));
    }
    if (full < L) {
        const kc_vf gv = kc_vf_load(g + last), yv = kc_vf_load(y + last);
        kc_vf_store(dx + last, lg ? gv - kc_vexpf(yv) * s : yv * (gv - s));
    }
}

/* slices [lo, hi) of length L >= VL. Forward: a = x, out = y. Backward: a = g, b = y,
 * out = dx. */
static void smv_rows(int kind, const float *a, const float *b, float *out, Py_ssize_t L,
                     Py_ssize_t lo, Py_ssize_t hi) {
    const int lg = kind == SM_LOG || kind == SM_LOG_BWD;
    if (kind >= SM_BWD) {
        for (Py_ssize_t r = lo; r < hi; r++) smv_row_bwd(a + r * L, b + r * L, out + r * L, L, lg);
        return;
    }
    for (Py_ssize_t r = lo; r < hi; r += SMV_BLOCK) {
        const Py_ssize_t n = hi - r < SMV_BLOCK ? hi - r : SMV_BLOCK;
        smv_block(a + r * L, out + r * L, L, n, lg);
    }
}

#undef VL
#undef SMV_BLOCK
