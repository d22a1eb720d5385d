// The packed GEMM's blocking, shared by its bodies (gemm_body.h) and the per-thread scratch (gemm_support.c).
#ifndef SIGNBERT_GEMM_BLOCKING_H
#define SIGNBERT_GEMM_BLOCKING_H
#define SB_GEMM_KC 256  // a 16-column panel's KC rows (16 KB) stay in L1 while every row block passes over them
#define SB_GEMM_MC 96   // the rows that share one pass over a panel (their KC columns of A, 96 KB, stay in L2)
/// This thread's SB_GEMM_MC x SB_GEMM_KC floats for a copy of a block of A (gemm_support.c), or NULL.
float *sb_gemm_scratch(void);
#endif
