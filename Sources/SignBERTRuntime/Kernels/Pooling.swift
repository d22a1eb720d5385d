/// out[b, :] = mean over the `tokens` rows of clip b in x [batch·tokens, dim].
func meanPool(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
              batch: Int, tokens: Int, dim: Int) {
    let inverse = 1 / Float(tokens)
    for b in 0..<batch {
        let dst = out + b * dim
        for j in 0..<dim { dst[j] = 0 }
        for t in 0..<tokens {
            let src = x + (b * tokens + t) * dim
            for j in 0..<dim { dst[j] += src[j] }
        }
        for j in 0..<dim { dst[j] *= inverse }
    }
}

/// x[b·tokens + t, :] += table[t, :] for every clip b (the learned positional embedding).
func addPerToken(_ x: UnsafeMutablePointer<Float>, _ table: UnsafePointer<Float>,
                 batch: Int, tokens: Int, dim: Int) {
    for b in 0..<batch {
        let clip = x + b * tokens * dim
        for i in 0..<(tokens * dim) { clip[i] += table[i] }
    }
}
