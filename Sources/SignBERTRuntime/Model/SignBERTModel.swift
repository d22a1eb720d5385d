import Dispatch

/// SignBERT v1 or v2, forward only (eval mode: Dropout and DropPath are the identity).
public final class SignBERTModel: Sendable {
    public let config: SignBERTConfig
    let weights: SignBERTWeights
    /// v2's bone parents and hand types per joint (spec, "v2"), fixed by the joint count.
    let parents: [Int]
    let handTypes: [Int]

    public init(config: SignBERTConfig, weights: SignBERTWeights) {
        self.config = config
        self.weights = weights
        parents = skeletonParents(joints: config.numJoints)
        handTypes = SignBERTRuntime.handTypes(joints: config.numJoints)
    }

    /// Logits [batch, K] for input [batch, T, V·C] (a [B,T,V,C] clip flattened row-major is the same
    /// memory: feature index v·C + c). T is `frames`, num_frames by default; v1 needs T = num_frames
    /// (its pos_embed is added whole), v2 takes any 1 ≤ T ≤ num_frames. `input.count` must be
    /// batch·T·V·C, batch ≤ workspace.capacity.
    public func forward(_ input: UnsafeBufferPointer<Float>, batch: Int, frames: Int? = nil,
                        logits: UnsafeMutableBufferPointer<Float>, workspace ws: ForwardWorkspace) {
        let t = frames ?? config.numFrames
        let d = config.embedDim, n = config.tokens(frames: t), rows = batch * n
        precondition(batch > 0 && batch <= ws.capacity, "batch \(batch) exceeds the workspace's \(ws.capacity)")
        precondition(config.variant == .v1 ? t == config.numFrames : (1...config.numFrames).contains(t),
                     "\(t) frames for a model of \(config.numFrames)")
        precondition(input.count == batch * t * config.inputFeatures, "input has \(input.count) floats")
        precondition(logits.count == batch * config.numClasses, "logits buffer has \(logits.count) floats")
        guard let x = input.baseAddress, let out = logits.baseAddress else { return }
        let w = weights

        if let v2 = w.v2, let flags = config.variant.v2Flags {
            embedV2(x, v2, flags, batch: batch, frames: t, workspace: ws)
        } else {
            // v1 1-2. Input projection, then the positional embedding added whole (T = num_frames).
            apply(w.inputProj, ws.hidden.pointer, x, rows: rows)
            addPerToken(ws.hidden.pointer, w.posEmbed.pointer, batch: batch, tokens: t, dim: d)
        }

        // Pre-norm blocks: x += attn(norm1(x)); x += mlp(norm2(x)).
        let tiled = config.variant != .v1
        for block in w.blocks {
            apply(block.norm1, ws.normed.pointer, ws.hidden.pointer, rows: rows)
            apply(block.qkv, ws.qkv.pointer, ws.normed.pointer, rows: rows)
            for b in 0..<batch {
                if tiled {
                    attendTiled(clip: b, tokens: n, workspace: ws)
                } else {
                    attention(ws.attended.pointer + b * n * d, qkv: ws.qkv.pointer + b * n * 3 * d,
                              scores: ws.scores.pointer, tokens: n, dim: d, heads: config.numHeads)
                }
            }
            apply(block.proj, ws.hidden.pointer, ws.attended.pointer, rows: rows, accumulate: true)

            apply(block.norm2, ws.normed.pointer, ws.hidden.pointer, rows: rows)
            apply(block.fc1, ws.mlp.pointer, ws.normed.pointer, rows: rows)
            gelu(ws.mlp.pointer, count: rows * block.fc1.outDim)
            apply(block.fc2, ws.hidden.pointer, ws.mlp.pointer, rows: rows, accumulate: true)
        }

        // Final norm, then the readout: the cls token (v2 with use_cls_token, only its row needs the
        // norm), else the mean over every token.
        if config.variant.v2Flags?.useClsToken == true {
            for b in 0..<batch {
                apply(w.norm, ws.pooled.pointer + b * d, ws.hidden.pointer + b * n * d, rows: 1)
            }
        } else {
            apply(w.norm, ws.normed.pointer, ws.hidden.pointer, rows: rows)
            meanPool(ws.pooled.pointer, ws.normed.pointer, batch: batch, tokens: n, dim: d)
        }

        // Head: LayerNorm, Linear D→D/2, GELU, Linear D/2→K.
        apply(w.headNorm, ws.pooled.pointer, ws.pooled.pointer, rows: batch)
        apply(w.headFC1, ws.headHidden.pointer, ws.pooled.pointer, rows: batch)
        gelu(ws.headHidden.pointer, count: batch * config.headHiddenDim)
        apply(w.headFC2, out, ws.headHidden.pointer, rows: batch)
    }

    /// One clip's tiled attention, its heads split over the workspace's attention workers.
    private func attendTiled(clip b: Int, tokens n: Int, workspace ws: ForwardWorkspace) {
        let d = config.embedDim, heads = config.numHeads
        let out = ws.attended.pointer + b * n * d, qkv = UnsafePointer(ws.qkv.pointer + b * n * 3 * d)
        let workers = ws.attentionWorkers
        guard workers > 1 else {
            tiledAttention(out, qkv: qkv, scratch: ws.scores.pointer, tokens: n, dim: d, heads: heads)
            return
        }
        let scratchCount = tiledAttentionScratchCount(tokens: config.maxTokens)
        // Each worker writes only its heads' columns of `out` and its own slice of scratch.
        nonisolated(unsafe) let (output, input, scratch) = (out, qkv, ws.scores.pointer)
        BLASThreads.set(1)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            tiledAttention(output, qkv: input, scratch: scratch + w * scratchCount, tokens: n, dim: d, heads: heads,
                           headRange: heads * w / workers..<heads * (w + 1) / workers)
        }
        BLASThreads.set(workers)
    }

    /// Convenience for callers without a workspace of their own (tests): allocates one, runs on the
    /// calling thread with OpenBLAS's current thread count.
    public func logits(for input: [Float], batch: Int, frames: Int? = nil) -> [Float] {
        let workspace = ForwardWorkspace(config: config, capacity: batch)
        var result = [Float](repeating: 0, count: batch * config.numClasses)
        input.withUnsafeBufferPointer { x in
            result.withUnsafeMutableBufferPointer { forward(x, batch: batch, frames: frames, logits: $0, workspace: workspace) }
        }
        return result
    }

    func apply(_ layer: LinearWeights, _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
               rows: Int, accumulate: Bool = false) {
        linear(out, x, weight: layer.weight.pointer, bias: layer.bias.pointer, rows: rows,
               inDim: layer.inDim, outDim: layer.outDim, accumulate: accumulate)
    }

    func apply(_ norm: NormWeights, _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int) {
        layerNorm(out, x, weight: norm.weight.pointer, bias: norm.bias.pointer, rows: rows, dim: config.embedDim)
    }
}
