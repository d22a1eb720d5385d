import CKernels

/// Query rows and key rows per tile of the attention kernel. A 64 x 512 score tile is 128 KB, inside a core's
/// 512 KB L2 beside the head's K and V panels (221 KB each at v2's 1,729 tokens). A sequence of at most 512
/// tokens is one key tile: the plain softmax's arithmetic.
let attentionQueryTile = 64
let attentionKeyTile = 512

/// Floats of scratch `attention` needs per lane: one head's K and V in panels, one score tile, two floats per
/// tile row. Linear in the tokens, not quadratic.
func attentionScratchCount(tokens: Int, headDim: Int, queryTile: Int = attentionQueryTile,
                           keyTile: Int = attentionKeyTile) -> Int {
    sb_attention_scratch_floats(tokens, headDim, queryTile, keyTile)
}

/// Multi-head self-attention for one clip, without masks: for each head h,
/// out[:, h·hd ..< (h+1)·hd] = softmax(Q_h K_hᵀ · hd^-0.5) V_h.
///
/// `qkv` is the fused projection [tokens, 3D] (columns 0..<D are q, D..<2D k, 2D..<3D v; head h takes
/// columns h·hd..<(h+1)·hd of each), read in place through the row stride. Each head is one call of the C
/// kernel (`sb_attention_head`: K and V packed once, register-tiled products, online softmax over key tiles).
/// `headRange` (default all) lets several lanes share one clip's heads, each with its own scratch.
func attention(_ out: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
               tokens: Int, dim: Int, heads: Int, headRange: Range<Int>? = nil,
               queryTile: Int = attentionQueryTile, keyTile: Int = attentionKeyTile) {
    let headDim = dim / heads
    let scale = 1 / Float(headDim).squareRoot()
    for h in headRange ?? 0..<heads {
        let column = h * headDim
        sb_attention_head(out + column, dim, qkv + column, qkv + dim + column, qkv + 2 * dim + column, 3 * dim,
                          tokens, headDim, scale, scratch, queryTile, keyTile)
    }
}
