/* The sizes at which kernels change path: thread splits, blocking, GEMM algorithms and the
 * hand-over to numpy's BLAS. One table, so that `_ext.thresholds()` reports exactly what the
 * kernels use. Units: elements unless said otherwise. Every choice depends only on the shapes
 * and the configured thread count, never on timing. */
#ifndef MNP_KC_LIMITS_H
#define MNP_KC_LIMITS_H

#define EW_THREADS_FROM (1 << 18)       /* memory-bound elementwise loops split over threads */
#define EW_HEAVY_THREADS_FROM (1 << 15) /* ... loops calling exp/tanh/erf per element */
#define EW_NOGIL_FROM (1 << 14)         /* the GIL is released from here */
#define ACT_THREADS_FROM EW_THREADS_FROM
#define ACT_HEAVY_THREADS_FROM EW_HEAVY_THREADS_FROM
#define ACT_NOGIL_FROM EW_NOGIL_FROM
#define ACT_BLOCK 64                    /* activation threads split at multiples of this */
#define RED_THREADS_FROM (1 << 17)      /* sum/max/min split over threads */
#define RED_CHUNK 4096                  /* a reduced row is summed in chunks of this size */
#define ARG_THREADS_FROM (1 << 17)      /* argmax/argmin */
#define ARG_LANES_FROM 64               /* rows from this length take the vector-lane path */
#define ARG_BLOCK 256                   /* slices per task when the axis is not the last */
#define SM_THREADS_FROM (1 << 15)       /* softmax family */
#define SM_BLOCK 256                    /* slices per block when the axis is not the last */
#define SM_SMALL 64                     /* a last axis shorter than this runs blocks of slices
                                         * (float64, and float32 shorter than a SIMD vector) */
#define SM_CHUNK 2048                   /* ... of at most this many elements */
#define LN_THREADS_FROM (1 << 16)       /* layer norm, B * D */
#define LN_CHUNK 8192                   /* layer_norm_backward: dgamma/dbeta summed by blocks */
#define LN_BLOCKS 64                    /* ... of this many elements' rows, at most this many */
#define NN_THREADS_FROM (1 << 16)       /* cross entropy N * C, batch norm N * C * M */
#define POOL_THREADS_FROM (1 << 16)     /* pooling: output elements x window */
#define COLS_THREADS_FROM (1 << 18)     /* im2col / col2im: elements of the columns */
#define CONV_THREADS_FROM 2000000       /* convolution: multiply-adds */
#define OPT_THREADS_FROM (1 << 17)      /* sgd_step; adam/rmsprop/adagrad from a quarter */
#define GEMM_THREADS_FROM (48 * 48 * 48)     /* gemm/matmul: M*N*K */
#define GEMM_SMALL (10 * 10 * 10)            /* M*N*K up to this: a plain loop */
#define GEMM_NOPACK (100 * 100 * 100)        /* ... up to this: tiles read the operands in place */
#define GEMM_SPLIT_FROM 256                  /* rows/cols per thread for separate blocks */
#define GEMM_BLAS_FROM (768LL * 768 * 768)   /* numpy's BLAS from here (one thread only) */

#endif
