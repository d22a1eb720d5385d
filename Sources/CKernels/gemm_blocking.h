// The packed GEMM's blocking, shared by its bodies (gemm_body.h) and the per-thread scratch (gemm_support.c).
#ifndef SIGNBERT_GEMM_BLOCKING_H
#define SIGNBERT_GEMM_BLOCKING_H
#define SB_GEMM_KC 256  // a 16-column panel's KC rows (16 KB) stay in L1 while every row block passes over them
// The rows that share one pass over the weights' k block (their KC columns of A, 192 KB, stay in L2). Each row
// block streams the weights' k block (up to 1 MB) from L3 again: at 1,024 rows 96 rows were 6 % behind OpenBLAS
// on one thread and 192 level; 288 and 384 measured no better.
#define SB_GEMM_MC 192
/// This thread's SB_GEMM_MC x SB_GEMM_KC floats for a copy of a block of A (gemm_support.c), or NULL.
float *sb_gemm_scratch(void);
#endif
