import COpenBLAS

/// Multi-head self-attention core for one clip, without masks: for each head h,
/// out[:, h·hd ..< (h+1)·hd] = softmax(Q_h K_hᵀ · hd^-0.5) V_h.
///
/// `qkv` is the fused projection [tokens, 3D] (columns 0..<D are q, D..<2D k, 2D..<3D v; head h takes
/// columns h·hd..<(h+1)·hd of each), read in place through leading dimensions, so no per-head copies.
/// `scores` holds tokens² floats. `headRange` (default all) lets several lanes share one clip's heads, each
/// with its own scores.
func attention(_ out: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
               scores: UnsafeMutablePointer<Float>,
               tokens: Int, dim: Int, heads: Int, headRange: Range<Int>? = nil) {
    let headDim = dim / heads
    let scale = 1 / Float(headDim).squareRoot()
    let qkvStride = Int32(3 * dim)
    let n = Int32(tokens)
    for h in headRange ?? 0..<heads {
        let q = qkv + h * headDim
        let k = qkv + dim + h * headDim
        let v = qkv + 2 * dim + h * headDim
        // scores = scale · Q Kᵀ  [tokens, tokens]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, Int32(headDim),
                    scale, q, qkvStride, k, qkvStride, 0, scores, n)
        softmaxRows(scores, rows: tokens, cols: tokens)
        // out_h = P V  [tokens, headDim], written into the head's columns of out [tokens, D]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, Int32(headDim), n,
                    1, scores, n, v, qkvStride, 0, out + h * headDim, Int32(dim))
    }
}
