import CKernels
import COpenBLAS

/// The `columns` of out[rows, outDim] = x · layerᵀ + bias, or `+=` x · layerᵀ (then without bias), on the GEMM the
/// layer's weights were laid out for at load (`LinearGEMM`): one lane's part of a Linear split by output
/// columns, or the whole of it. `bias`, when given, holds the values for `columns` (it starts at their first).
func matmul(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, layer: LinearWeights, rows: Int,
            columns: Range<Int>, accumulate: Bool, bias: UnsafePointer<Float>? = nil) {
    if layer.packed {
        packedMatmul(out, x, weight: layer.weight.pointer, rows: rows, inDim: layer.inDim, outDim: layer.outDim,
                     columns: columns, accumulate: accumulate, bias: bias)
    } else {
        blasMatmul(out, x, weight: layer.weight.pointer, rows: rows, inDim: layer.inDim, outDim: layer.outDim,
                   columns: columns, accumulate: accumulate, bias: bias)
    }
}

/// The same product through OpenBLAS, over the weight transposed to [inDim, outDim] row-major (X·W runs faster
/// in OpenBLAS than X·Wᵀ at this model's shapes: perf-notes, 90 vs 64 GFLOP/s for fc2 at one clip). A bias
/// seeds the rows and the product is added to it (beta = 1), in place of OpenBLAS's zeroing pass (beta = 0).
func blasMatmul(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                rows: Int, inDim: Int, outDim: Int, columns: Range<Int>, accumulate: Bool,
                bias: UnsafePointer<Float>? = nil) {
    guard rows > 0, !columns.isEmpty else { return }
    precondition(!(accumulate && bias != nil), "a bias with an accumulated product")
    if let bias {
        for r in 0..<rows { (out + r * outDim + columns.lowerBound).update(from: bias, count: columns.count) }
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                Int32(rows), Int32(columns.count), Int32(inDim),
                1.0, x, Int32(inDim), w + columns.lowerBound, Int32(outDim),
                accumulate || bias != nil ? 1.0 : 0.0, out + columns.lowerBound, Int32(outDim))
}

/// out[rows, outDim] = x[rows, inDim] · Wᵀ + bias, or `+=` when `accumulate` (the residual connection folded
/// into the GEMM). `weight` is PyTorch's [outDim, inDim] weight packed by `WeightBuffer(packingLinear:...)`.
func linear(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
            weight w: UnsafePointer<Float>, bias: UnsafePointer<Float>,
            rows: Int, inDim: Int, outDim: Int, accumulate: Bool = false) {
    packedMatmul(out, x, weight: w, rows: rows, inDim: inDim, outDim: outDim, columns: 0..<outDim,
                 accumulate: accumulate, bias: accumulate ? nil : bias)
    if accumulate { addRowBias(out, bias, rows: rows, cols: outDim, ld: outDim) }
}

/// The same product on CKernels' GEMM, over the weight packed by `WeightBuffer(packingLinear:...)`, the bias
/// added as the GEMM stores its first block. `columns` starts on a multiple of 16 (a packed panel).
func packedMatmul(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                  rows: Int, inDim: Int, outDim: Int, columns: Range<Int>, accumulate: Bool,
                  bias: UnsafePointer<Float>? = nil) {
    guard rows > 0, !columns.isEmpty else { return }
    precondition(columns.lowerBound % 16 == 0, "a column tile starts inside a packed panel")
    precondition(!(accumulate && bias != nil), "a bias with an accumulated product")
    sb_gemm_packed(out + columns.lowerBound, outDim, x, inDim, w, inDim, columns.lowerBound, columns.count, rows,
                   accumulate ? 1 : 0, bias)
}

/// out[r, c] += bias[c] for the `cols` columns of each row of stride `ld`.
func addRowBias(_ out: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int) {
    sb_add_bias(out, bias, rows, cols, ld)
}
