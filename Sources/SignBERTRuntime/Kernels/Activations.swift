import CKernels

// The element-wise kernels are C (CKernels), compiled for baseline x86-64, AVX2+FMA and AVX-512 and chosen
// at start-up (KernelPath); these are their Swift faces.

/// x[r, c] = GELU(x[r, c] + bias[c]) (exact erf form, as nn.GELU()) for the `cols` columns of each row of
/// stride `ld`: fc1's bias and activation in one pass over the tile a GEMM just wrote.
func biasGELU(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int) {
    sb_bias_gelu(x, bias, rows, cols, ld)
}
