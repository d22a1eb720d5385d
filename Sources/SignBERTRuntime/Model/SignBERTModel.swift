/// SignBERT v1 or v2, forward only (eval mode: Dropout and DropPath are the identity).
public final class SignBERTModel: Sendable {
    public let config: SignBERTConfig
    let weights: SignBERTWeights
    /// v2's bone parents and hand types per joint (spec, "v2"), fixed by the joint count.
    let parents: [Int]
    let handTypes: [Int]

    /// The memory its weights take (`SignBERTWeights.bytes`).
    public var weightBytes: Int { weights.bytes }

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
        forward(input, batch: batch, frames: frames, logits: logits, workspace: ws, lane: .solo)
    }

    /// The forward pass as run by one lane of a team (every lane calls it with the same arguments and
    /// workspace, and computes its share of each step: Linear tiles, attention heads, rows), or alone.
    func forward(_ input: UnsafeBufferPointer<Float>, batch: Int, frames: Int? = nil,
                 logits: UnsafeMutableBufferPointer<Float>, workspace ws: ForwardWorkspace, lane: Lane) {
        let t = frames ?? config.numFrames
        let d = config.embedDim, n = config.tokens(frames: t), rows = batch * n
        precondition(batch > 0 && batch <= ws.capacity, "batch \(batch) exceeds the workspace's \(ws.capacity)")
        precondition(config.variant == .v1 ? t == config.numFrames : (1...config.numFrames).contains(t),
                     "\(t) frames for a model of \(config.numFrames)")
        precondition(input.count == batch * t * config.inputFeatures, "input has \(input.count) floats")
        precondition(logits.count == batch * config.numClasses, "logits buffer has \(logits.count) floats")
        precondition(lane.count <= ws.lanes, "\(lane.count) lanes for a workspace of \(ws.lanes)")
        guard let x = input.baseAddress, let out = logits.baseAddress else { return }
        let w = weights
        let (hidden, normed, qkv, attended, mlp) = (ws.hidden.pointer, ws.normed.pointer, ws.qkv.pointer,
                                                    ws.attended.pointer, ws.mlp.pointer)

        if let v2 = w.v2, let flags = config.variant.v2Flags {
            // v2 1-5 (a small share of v2's work: one lane).
            if lane.index == 0 { embedV2(x, v2, flags, batch: batch, frames: t, workspace: ws) }
        } else {
            // v1 1-2. Input projection, then the positional embedding added whole (T = num_frames).
            apply(w.inputProj, hidden, x, rows: rows, lane: lane)
            lane.barrier()
            let mine = lane.share(batch)
            addPerToken(hidden + mine.lowerBound * n * d, w.posEmbed.pointer, batch: mine.count, tokens: t, dim: d)
        }
        lane.barrier()
        apply(w.blocks.first?.norm1 ?? w.norm, normed, hidden, rows: rows, lane: lane)
        lane.barrier()

        // Pre-norm blocks: x += attn(norm1(x)); x += mlp(norm2(x)). The residual GEMMs leave their bias to
        // the pass that computes the next norm, which `normed` holds when each block starts.
        for (i, block) in w.blocks.enumerated() {
            apply(block.qkv, qkv, normed, rows: rows, lane: lane)
            lane.barrier()
            attend(batch: batch, tokens: n, workspace: ws, lane: lane)
            lane.barrier()
            apply(block.proj, hidden, attended, rows: rows, lane: lane, accumulate: true, bias: .leftPending)
            lane.barrier()
            apply(block.norm2, normed, hidden, pendingBias: block.proj, rows: rows, lane: lane)
            lane.barrier()
            apply(block.fc1, mlp, normed, rows: rows, lane: lane, bias: .withGELU)
            lane.barrier()
            apply(block.fc2, hidden, mlp, rows: rows, lane: lane, accumulate: true, bias: .leftPending)
            lane.barrier()
            let next = i + 1 < w.blocks.count ? w.blocks[i + 1].norm1 : w.norm
            apply(next, normed, hidden, pendingBias: block.fc2, rows: rows, lane: lane)
            lane.barrier()
        }

        // `normed` now holds the final norm of every token. The readout: the cls token (v2 with
        // use_cls_token), else the mean over every token; then the head: LayerNorm, Linear D→D/2, GELU,
        // Linear D/2→K. A few rows: one lane.
        guard lane.index == 0 else { return }
        if config.variant.v2Flags?.useClsToken == true {
            for b in 0..<batch { (ws.pooled.pointer + b * d).update(from: normed + b * n * d, count: d) }
        } else {
            meanPool(ws.pooled.pointer, normed, batch: batch, tokens: n, dim: d)
        }
        apply(w.headNorm, ws.pooled.pointer, ws.pooled.pointer, rows: batch)
        apply(w.headFC1, ws.headHidden.pointer, ws.pooled.pointer, rows: batch, bias: .withGELU)
        apply(w.headFC2, out, ws.headHidden.pointer, rows: batch)
    }

    /// Every clip's attention, (clip, head) pairs shared out over the lanes, each lane with its own scratch.
    private func attend(batch: Int, tokens n: Int, workspace ws: ForwardWorkspace, lane: Lane) {
        let d = config.embedDim, heads = config.numHeads
        let scratch = ws.attentionScratch.pointer + lane.index * ws.scratchPerLane
        for item in lane.share(batch * heads) {
            let b = item / heads, head = item % heads
            let out = ws.attended.pointer + b * n * d, qkv = UnsafePointer(ws.qkv.pointer + b * n * 3 * d)
            attention(out, qkv: qkv, scratch: scratch, tokens: n, dim: d, heads: heads, headRange: head..<head + 1)
        }
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

    /// What a Linear does with its bias: add it, add it and apply GELU in the same pass, or leave it for
    /// the next step (`apply(_:_:_:pendingBias:...)`).
    enum BiasStep { case add, withGELU, leftPending }

    /// out = x · layerᵀ + bias (or `+=`), this lane's tile of it.
    func apply(_ layer: LinearWeights, _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
               rows: Int, lane: Lane = .solo, accumulate: Bool = false, bias step: BiasStep = .add) {
        let tile = lane.tile(rows: rows, cols: layer.outDim)
        let first = tile.rows.lowerBound
        let (o, input) = (out + first * layer.outDim, x + first * layer.inDim)
        let (c0, bias) = (tile.cols.lowerBound, layer.bias.pointer + tile.cols.lowerBound)
        // A fresh output gets its bias from the GEMM as it stores: no pass of its own.
        let withBias = step == .add && !accumulate
        matmul(o, input, layer: layer, rows: tile.rows.count, columns: tile.cols, accumulate: accumulate,
               bias: withBias ? bias : nil)
        switch step {
        case .add where accumulate: addRowBias(o + c0, bias, rows: tile.rows.count, cols: tile.cols.count, ld: layer.outDim)
        case .withGELU: biasGELU(o + c0, bias: bias, rows: tile.rows.count, cols: tile.cols.count, ld: layer.outDim)
        case .add, .leftPending: break
        }
    }

    /// out = LayerNorm(x), this lane's rows.
    func apply(_ norm: NormWeights, _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int,
               lane: Lane = .solo) {
        let mine = lane.share(rows), d = config.embedDim
        layerNorm(out + mine.lowerBound * d, x + mine.lowerBound * d, weight: norm.weight.pointer,
                  bias: norm.bias.pointer, rows: mine.count, dim: d)
    }

    /// x += the bias `pendingBias` left out, then out = LayerNorm(x): one pass, this lane's rows.
    func apply(_ norm: NormWeights, _ out: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>,
               pendingBias: LinearWeights, rows: Int, lane: Lane) {
        let mine = lane.share(rows), d = config.embedDim
        addBiasLayerNorm(out + mine.lowerBound * d, x + mine.lowerBound * d, pendingBias: pendingBias.bias.pointer,
                         weight: norm.weight.pointer, bias: norm.bias.pointer, rows: mine.count, dim: d)
    }
}
