import COpenBLAS

/// out[rows, outDim] = x[rows, inDim] · w[inDim, outDim] + bias, or `+=` when `accumulate`
/// (the residual connection folded into the GEMM's beta).
///
/// `w` is the PyTorch weight transposed once at load ([in, out] row-major): X·W runs faster in
/// OpenBLAS than X·Wᵀ at this model's shapes (perf-notes: 90 vs 64 GFLOP/s for fc2 at batch 1).
func linear(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
            weight w: UnsafePointer<Float>, bias: UnsafePointer<Float>,
            rows: Int, inDim: Int, outDim: Int, accumulate: Bool = false) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                Int32(rows), Int32(outDim), Int32(inDim),
                1.0, x, Int32(inDim), w, Int32(outDim),
                accumulate ? 1.0 : 0.0, out, Int32(outDim))
    addRowBias(out, bias, rows: rows, dim: outDim)
}

/// out[r, :] += bias for every row.
func addRowBias(_ out: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, dim: Int) {
    for r in 0..<rows {
        let row = out + r * dim
        for j in 0..<dim { row[j] += bias[j] }
    }
}
