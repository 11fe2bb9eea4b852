/* The SIMD register tile shared by the GEMM and the convolution kernels. */
#ifndef MNP_KC_SIMD_H
#define MNP_KC_SIMD_H

/* register tile: MR rows x NV vectors (accumulators MR*NV + NV + 1 <= vector registers).
 * A file that defines KC_NARROW before including this gets 256-bit vectors on an AVX-512
 * machine too (attention.c: its small tiles waste less of a 6 x 16 register tile). */
#if defined(__AVX512F__) && !defined(KC_NARROW)
#define KC_VBYTES 64
#ifndef KC_MR
#define KC_MR 12
#define KC_NV 2
#endif
#elif defined(__AVX__)
#define KC_VBYTES 32
#define KC_MR 6
#define KC_NV 2
#else
#define KC_VBYTES 16
#define KC_MR 4
#define KC_NV 2
#endif
#ifndef KC_UNROLL
#define KC_UNROLL 2
#endif
#define KC_PRAGMA(x) _Pragma(#x)
#define KC_UNROLL_P(n) KC_PRAGMA(GCC unroll n)

#endif
