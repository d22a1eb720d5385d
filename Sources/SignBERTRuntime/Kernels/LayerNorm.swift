import CKernels

/// nn.LayerNorm over the last dimension: (x - mean) / sqrt(biased variance + eps) · weight + bias, with
/// the variance from centred squares (two passes over the row, as PyTorch: one-pass E[x²]-E[x]² loses
/// digits when the residual stream has a large mean). `out` may equal `x`.
func layerNorm(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
               rows: Int, dim: Int, eps: Float = 1e-5) {
    sb_layer_norm(out, x, weight, bias, rows, dim, eps)
}

/// x[r, :] += pendingBias, then out[r, :] = LayerNorm(x[r, :]): the bias a residual GEMM left out and the
/// next norm, in one pass over each row (the row stays in L1 between the two).
func addBiasLayerNorm(_ out: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>,
                      pendingBias: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                      rows: Int, dim: Int, eps: Float = 1e-5) {
    sb_add_bias_layer_norm(out, x, pendingBias, weight, bias, rows, dim, eps)
}
