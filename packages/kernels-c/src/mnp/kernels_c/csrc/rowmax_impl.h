/* The largest element of a row of n >= 1 values, NaN winning (numpy's rule), with independent
 * accumulators so that GCC vectorizes it without -ffast-math; short rows take a plain loop.
 * Included by the templates that need it, once per element type, with T, FN and MAXSEL
 * defined by the includer. With RM_NAME and RM_SEL defined it makes FN(RM_NAME) with the
 * selection RM_SEL(v, m) instead (the smallest element: row_min_ and a MINSEL). */
#ifndef RM_NAME
#define RM_NAME row_max_
#define RM_SEL MAXSEL
#endif
#define RM_ACC (512 / (int)sizeof(T))   /* 8 vectors of 64 bytes */

static T FN(RM_NAME)(const T *restrict x, Py_ssize_t n) {
    if (n < RM_ACC) {
        T m = x[0];
        for (Py_ssize_t i = 1; i < n; i++) m = RM_SEL(x[i], m);
        return m;
    }
    T acc[RM_ACC];
    for (int j = 0; j < RM_ACC; j++) acc[j] = x[0];
    Py_ssize_t i = 0;
    for (; i + RM_ACC <= n; i += RM_ACC)
        for (int j = 0; j < RM_ACC; j++) acc[j] = RM_SEL(x[i + j], acc[j]);
    for (int j = 0; i < n; i++, j++) acc[j] = RM_SEL(x[i], acc[j]);
    for (int w = RM_ACC / 2; w > 0; w /= 2)
        for (int j = 0; j < w; j++) acc[j] = RM_SEL(acc[j + w], acc[j]);
    return acc[0];
}

#undef RM_ACC
#undef RM_NAME
#undef RM_SEL
