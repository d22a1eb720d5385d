import CKernels
import COpenBLAS
import Foundation

/// Query rows and key rows per tile of the tiled attention. A 64 x 512 score tile is 128 KB, inside a
/// core's 512 KB L2 beside the K and V tiles it is computed from; 512 keys keep the P·V GEMM's inner
/// dimension long enough for OpenBLAS to run near its peak. A sequence of at most 512 tokens is one
/// key tile, i.e. exactly the naive kernel's arithmetic.
let attentionQueryTile = 64
let attentionKeyTile = 512

/// Floats of scratch `tiledAttention` needs: one score tile, plus the running max and sum per query row.
func tiledAttentionScratchCount(tokens: Int) -> Int {
    let rows = min(attentionQueryTile, max(tokens, 1)), keys = min(attentionKeyTile, max(tokens, 1))
    return rows * keys + 2 * rows
}

/// The same result as `attention` (softmax(Q_h K_hᵀ · hd^-0.5) V_h per head, heads side by side in `out`),
/// without the tokens² score matrix: per head, a tile of queries meets the keys one tile at a time with an
/// online softmax (flash-attention style). Each row keeps its running max m and sum l; a new key tile with
/// a larger max rescales the row's accumulated output and sum by e^(m_old - m_new) before adding its own
/// e^(s - m_new)-weighted values. Memory is `tiledAttentionScratchCount` floats, linear in nothing but the
/// tile sizes; the accumulator is `out` itself. Both products of a tile go through `cblas_sgemm`.
/// `headRange` (default all) lets several threads share one clip, each with its own scratch.
func tiledAttention(_ out: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
                    scratch: UnsafeMutablePointer<Float>,
                    tokens: Int, dim: Int, heads: Int, headRange: Range<Int>? = nil,
                    queryTile: Int = attentionQueryTile, keyTile: Int = attentionKeyTile) {
    let headDim = dim / heads
    let scale = 1 / Float(headDim).squareRoot()
    let stride = 3 * dim
    let tileRows = min(queryTile, tokens), tileKeys = min(keyTile, tokens)
    let scores = scratch
    let runningMax = scratch + tileRows * tileKeys
    let runningSum = runningMax + tileRows
    for h in headRange ?? 0..<heads {
        let q = qkv + h * headDim
        let k = qkv + dim + h * headDim
        let v = qkv + 2 * dim + h * headDim
        for q0 in Swift.stride(from: 0, to: tokens, by: tileRows) {
            let rows = min(tileRows, tokens - q0)
            let o = out + q0 * dim + h * headDim  // this tile's output rows, the head's columns
            for r in 0..<rows {
                runningMax[r] = -.infinity
                runningSum[r] = 0
                let row = o + r * dim
                for j in 0..<headDim { row[j] = 0 }
            }
            for k0 in Swift.stride(from: 0, to: tokens, by: tileKeys) {
                let keys = min(tileKeys, tokens - k0)
                // scores[rows, keys] = scale · Q_tile K_tileᵀ
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(keys), Int32(headDim),
                            scale, q + q0 * stride, Int32(stride), k + k0 * stride, Int32(stride),
                            0, scores, Int32(keys))
                for r in 0..<rows {
                    let row = scores + r * keys
                    let newMax = max(runningMax[r], sb_max(row, keys))
                    let tileSum = sb_exp_shifted_sum(row, keys, newMax)
                    if runningMax[r] == -.infinity {
                        runningSum[r] = tileSum  // first tile: nothing accumulated yet to rescale
                    } else if newMax > runningMax[r] {
                        let correction = Foundation.exp(runningMax[r] - newMax)  // one per row and tile
                        runningSum[r] = runningSum[r] * correction + tileSum
                        sb_scale(o + r * dim, headDim, correction)
                    } else {
                        runningSum[r] += tileSum
                    }
                    runningMax[r] = newMax
                }
                // out_tile += P V_tile
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(headDim), Int32(keys),
                            1, scores, Int32(keys), v + k0 * stride, Int32(stride), 1, o, Int32(dim))
            }
            for r in 0..<rows {
                sb_scale(o + r * dim, headDim, 1 / runningSum[r])
            }
        }
    }
}
