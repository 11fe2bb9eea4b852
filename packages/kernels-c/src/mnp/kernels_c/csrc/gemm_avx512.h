/* AVX-512 micro-kernels written with inline assembly, so that every multiply-add takes its
 * A element as an embedded broadcast memory operand (vfmadd231ps m32{1to16}): 24 FMAs and two
 * B loads per k for the 12 x 32 (float) / 12 x 16 (double) tile, no separate broadcasts.
 * Included by gemm.c on x86-64 with AVX-512F; the accumulators live in 24 zmm registers. */
#include <immintrin.h>

#define KC_ASM_ROW(i, SZ, BC)                                                              \
    "vfmadd231" SZ " " #i "*%c[es](%[a])%{" BC "%}, %[b0], %[c" #i "0]\n\t"               \
    "vfmadd231" SZ " " #i "*%c[es](%[a])%{" BC "%}, %[b1], %[c" #i "1]\n\t"
#define KC_ASM_STEP(SZ, BC)                                                                \
    "vmovap" SZ " (%[b]), %[b0]\n\t"                                                       \
    "vmovap" SZ " 64(%[b]), %[b1]\n\t"                                                     \
    KC_ASM_ROW(0, SZ, BC) KC_ASM_ROW(1, SZ, BC) KC_ASM_ROW(2, SZ, BC)                      \
    KC_ASM_ROW(3, SZ, BC) KC_ASM_ROW(4, SZ, BC) KC_ASM_ROW(5, SZ, BC)                      \
    KC_ASM_ROW(6, SZ, BC) KC_ASM_ROW(7, SZ, BC) KC_ASM_ROW(8, SZ, BC)                      \
    KC_ASM_ROW(9, SZ, BC) KC_ASM_ROW(10, SZ, BC) KC_ASM_ROW(11, SZ, BC)
#define KC_ASM_OUT(i) [c##i##0] "+v"(c##i##0), [c##i##1] "+v"(c##i##1)

#define KC_ASM_KERNEL(NAME, T, VT, ZERO, SZ, BC, LANES)                                     \
    static inline void NAME(Py_ssize_t kc, const T *restrict a, const T *restrict b,      \
                            T *restrict c, Py_ssize_t ldc, int acc) {                      \
        VT c00 = ZERO, c01 = ZERO, c10 = ZERO, c11 = ZERO, c20 = ZERO, c21 = ZERO;         \
        VT c30 = ZERO, c31 = ZERO, c40 = ZERO, c41 = ZERO, c50 = ZERO, c51 = ZERO;         \
        VT c60 = ZERO, c61 = ZERO, c70 = ZERO, c71 = ZERO, c80 = ZERO, c81 = ZERO;         \
        VT c90 = ZERO, c91 = ZERO, c100 = ZERO, c101 = ZERO, c110 = ZERO, c111 = ZERO;     \
        VT b0, b1;                                                                         \
        for (int i = 0; i < 12; i++) {                                                     \
            __builtin_prefetch(c + i * ldc, 1);                                            \
            __builtin_prefetch(c + i * ldc + 2 * LANES - 1, 1);                            \
        }                                                                                  \
        for (Py_ssize_t p = 0; p < kc; p++) {                                              \
            __asm__("prefetcht0 %c[pf](%[a])\n\t" KC_ASM_STEP(SZ, BC)                      \
                    : KC_ASM_OUT(0), KC_ASM_OUT(1), KC_ASM_OUT(2), KC_ASM_OUT(3),          \
                      KC_ASM_OUT(4), KC_ASM_OUT(5), KC_ASM_OUT(6), KC_ASM_OUT(7),          \
                      KC_ASM_OUT(8), KC_ASM_OUT(9), KC_ASM_OUT(10), KC_ASM_OUT(11),        \
                      [b0] "=&v"(b0), [b1] "=&v"(b1)                                       \
                    : [a] "r"(a), [b] "r"(b), [es] "i"(sizeof(T)),                         \
                      [pf] "i"(KC_PF_A * sizeof(T))                                        \
                    : "memory");                                                           \
            a += 12;                                                                       \
            b += 2 * LANES;                                                                \
        }                                                                                  \
        VT rows[24] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51,         \
                       c60, c61, c70, c71, c80, c81, c90, c91, c100, c101, c110, c111};    \
        for (int i = 0; i < 12; i++) {                                                     \
            T *ci = c + i * ldc;                                                           \
            for (int v = 0; v < 2; v++) {                                                  \
                VT u = rows[2 * i + v];                                                    \
                if (acc) {                                                                 \
                    VT old;                                                                \
                    memcpy(&old, ci + v * LANES, sizeof old);                              \
                    u += old;                                                              \
                }                                                                          \
                memcpy(ci + v * LANES, &u, sizeof u);                                      \
            }                                                                              \
        }                                                                                  \
    }

typedef float kc_v16sf __attribute__((vector_size(64)));
typedef double kc_v8df __attribute__((vector_size(64)));
KC_ASM_KERNEL(kc_micro_asm_s, float, kc_v16sf, ((kc_v16sf){0}), "s", "1to16", 16)
KC_ASM_KERNEL(kc_micro_asm_d, double, kc_v8df, ((kc_v8df){0}), "d", "1to8", 8)
