import CKernels
import COpenBLAS

/// The `columns` of out[rows, outDim] = x · layerᵀ (or `+=`), without bias, on the GEMM the layer's weights were
/// laid out for at load (`LinearGEMM`): one lane's part of a Linear split by output columns, or the whole of it.
func matmul(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, layer: LinearWeights, rows: Int,
            columns: Range<Int>, accumulate: Bool) {
    if layer.packed {
        packedMatmul(out, x, weight: layer.weight.pointer, rows: rows, inDim: layer.inDim, outDim: layer.outDim,
                     columns: columns, accumulate: accumulate)
    } else {
        blasMatmul(out, x, weight: layer.weight.pointer, rows: rows, inDim: layer.inDim, outDim: layer.outDim,
                   columns: columns, accumulate: accumulate)
    }
}

/// The same product through OpenBLAS, over the weight transposed to [inDim, outDim] row-major (X·W runs faster
/// in OpenBLAS than X·Wᵀ at this model's shapes: perf-notes, 90 vs 64 GFLOP/s for fc2 at one clip).
func blasMatmul(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                rows: Int, inDim: Int, outDim: Int, columns: Range<Int>, accumulate: Bool) {
    guard rows > 0, !columns.isEmpty else { return }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                Int32(rows), Int32(columns.count), Int32(inDim),
                1.0, x, Int32(inDim), w + columns.lowerBound, Int32(outDim),
                accumulate ? 1.0 : 0.0, out + columns.lowerBound, Int32(outDim))
}

/// out[rows, outDim] = x[rows, inDim] · Wᵀ + bias, or `+=` when `accumulate` (the residual connection folded
/// into the GEMM). `weight` is PyTorch's [outDim, inDim] weight packed by `WeightBuffer(packingLinear:...)`.
func linear(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
            weight w: UnsafePointer<Float>, bias: UnsafePointer<Float>,
            rows: Int, inDim: Int, outDim: Int, accumulate: Bool = false) {
    packedMatmul(out, x, weight: w, rows: rows, inDim: inDim, outDim: outDim, columns: 0..<outDim, accumulate: accumulate)
    addRowBias(out, bias, rows: rows, cols: outDim, ld: outDim)
}

/// The same product on CKernels' GEMM, over the weight packed by `WeightBuffer(packingLinear:...)`. `columns`
/// starts on a multiple of 16 (a packed panel).
func packedMatmul(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                  rows: Int, inDim: Int, outDim: Int, columns: Range<Int>, accumulate: Bool) {
    guard rows > 0, !columns.isEmpty else { return }
    precondition(columns.lowerBound % 16 == 0, "a column tile starts inside a packed panel")
    sb_gemm_packed(out + columns.lowerBound, outDim, x, inDim, w, inDim, columns.lowerBound, columns.count, rows,
                   accumulate ? 1 : 0)
}

/// out[r, c] += bias[c] for the `cols` columns of each row of stride `ld`.
func addRowBias(_ out: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int) {
    sb_add_bias(out, bias, rows, cols, ld)
}
