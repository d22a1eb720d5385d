/// nn.LayerNorm over the last dimension: (x - mean) / sqrt(biased variance + eps) · weight + bias.
/// `out` may equal `x`.
func layerNorm(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
               rows: Int, dim: Int, eps: Float = 1e-5) {
    for r in 0..<rows {
        let src = x + r * dim
        let dst = out + r * dim
        // Two passes (mean, then centred squares), as PyTorch does: one-pass E[x²]-E[x]² loses
        // digits when the residual stream has a large mean.
        let mean = sum(src, count: dim) / Float(dim)
        let squares = sumOfSquaredDeviations(src, count: dim, mean: mean)
        let inverseStd = 1 / (squares / Float(dim) + eps).squareRoot()
        for j in 0..<dim { dst[j] = (src[j] - mean) * inverseStd * weight[j] + bias[j] }
    }
}
