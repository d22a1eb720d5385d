/// SignBERT v1, forward only (eval mode: Dropout and DropPath are the identity).
public final class SignBERTModel: Sendable {
    public let config: SignBERTConfig
    let weights: SignBERTWeights

    public init(config: SignBERTConfig, weights: SignBERTWeights) {
        self.config = config
        self.weights = weights
    }

    /// Logits [batch, K] for input [batch, T, V·C] (a [B,T,V,C] clip flattened row-major is the same
    /// memory: feature index v·C + c). `input.count` must be batch·T·V·C, batch ≤ workspace.capacity.
    public func forward(_ input: UnsafeBufferPointer<Float>, batch: Int,
                        logits: UnsafeMutableBufferPointer<Float>, workspace ws: ForwardWorkspace) {
        let t = config.numFrames, d = config.embedDim, rows = batch * t
        precondition(batch > 0 && batch <= ws.capacity, "batch \(batch) exceeds the workspace's \(ws.capacity)")
        precondition(input.count == rows * config.inputFeatures, "input has \(input.count) floats")
        precondition(logits.count == batch * config.numClasses, "logits buffer has \(logits.count) floats")
        guard let x = input.baseAddress, let out = logits.baseAddress else { return }
        let w = weights

        // 1-2. Input projection, then the positional embedding added whole (T = num_frames).
        apply(w.inputProj, ws.hidden.pointer, x, rows: rows)
        addPerToken(ws.hidden.pointer, w.posEmbed.pointer, batch: batch, tokens: t, dim: d)

        // 3. Pre-norm blocks: x += attn(norm1(x)); x += mlp(norm2(x)).
        for block in w.blocks {
            apply(block.norm1, ws.normed.pointer, ws.hidden.pointer, rows: rows)
            apply(block.qkv, ws.qkv.pointer, ws.normed.pointer, rows: rows)
            for b in 0..<batch {
                attention(ws.attended.pointer + b * t * d, qkv: ws.qkv.pointer + b * t * 3 * d,
                          scores: ws.scores.pointer, tokens: t, dim: d, heads: config.numHeads)
            }
            apply(block.proj, ws.hidden.pointer, ws.attended.pointer, rows: rows, accumulate: true)

            apply(block.norm2, ws.normed.pointer, ws.hidden.pointer, rows: rows)
            apply(block.fc1, ws.mlp.pointer, ws.normed.pointer, rows: rows)
            gelu(ws.mlp.pointer, count: rows * block.fc1.outDim)
            apply(block.fc2, ws.hidden.pointer, ws.mlp.pointer, rows: rows, accumulate: true)
        }

        // 4. Final norm, then the mean over the T frames.
        apply(w.norm, ws.normed.pointer, ws.hidden.pointer, rows: rows)
        meanPool(ws.pooled.pointer, ws.normed.pointer, batch: batch, tokens: t, dim: d)

        // 5. Head: LayerNorm, Linear D→D/2, GELU, Linear D/2→K.
        apply(w.headNorm, ws.pooled.pointer, ws.pooled.pointer, rows: batch)
        apply(w.headFC1, ws.headHidden.pointer, ws.pooled.pointer, rows: batch)
        gelu(ws.headHidden.pointer, count: batch * config.headHiddenDim)
        apply(w.headFC2, out, ws.headHidden.pointer, rows: batch)
    }

    /// Convenience for callers without a workspace of their own (tests): allocates one, runs on the
    /// calling thread with OpenBLAS's current thread count.
    public func logits(for input: [Float], batch: Int) -> [Float] {
        let workspace = ForwardWorkspace(config: config, capacity: batch)
        var result = [Float](repeating: 0, count: batch * config.numClasses)
        input.withUnsafeBufferPointer { x in
            result.withUnsafeMutableBufferPointer { forward(x, batch: batch, logits: $0, workspace: workspace) }
        }
        return result
    }

    private func apply(_ layer: LinearWeights, _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                       rows: Int, accumulate: Bool = false) {
        linear(out, x, weight: layer.weight.pointer, bias: layer.bias.pointer, rows: rows,
               inDim: layer.inDim, outDim: layer.outDim, accumulate: accumulate)
    }

    private func apply(_ norm: NormWeights, _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int) {
        layerNorm(out, x, weight: norm.weight.pointer, bias: norm.bias.pointer, rows: rows, dim: config.embedDim)
    }
}
