/// Every activation buffer of the forward pass, allocated once for a batch capacity and reused across
/// layers and calls, so `forward` allocates nothing. Not thread-safe: one workspace per thread.
public final class ForwardWorkspace {
    public let capacity: Int           // clips
    let hidden: Buffer                 // x, the residual stream   [B·N, D]  (N tokens per clip)
    let normed: Buffer                 // LayerNorm output         [B·N, D]
    let qkv: Buffer                    // fused projection         [B·N, 3D]
    let attended: Buffer               // heads concatenated       [B·N, D]
    let mlp: Buffer                    // fc1 output               [B·N, D·r]
    let attentionScratch: Buffer       // per lane: the attention kernel's scratch (one head's K, V, a score tile)
    /// Lanes of a thread team that may run one forward pass on this workspace together (see init).
    public let lanes: Int
    /// Floats of `attentionScratch` per lane.
    let scratchPerLane: Int
    let pooled: Buffer                 // mean over tokens or cls  [B, D]
    let headHidden: Buffer             // head's inner layer       [B, D/2]
    let features: Buffer               // v2: per-joint features   [B·T·V, C']
    let normalised: Buffer             // v2: one clip, normalised [T, V, C]
    let distances: Buffer              // v2: one clip's shoulder distances [T]

    /// `lanes` > 1: that many threads of a team may run one forward pass on this workspace together
    /// (ForwardEngine's split path); each needs its own attention scratch, everything else is shared.
    public init(config: SignBERTConfig, capacity: Int, lanes: Int = 1) {
        precondition(capacity > 0, "a workspace holds at least one clip")
        let rows = capacity * config.maxTokens, d = config.embedDim
        self.capacity = capacity
        self.lanes = max(1, lanes)
        hidden = Buffer(rows * d)
        normed = Buffer(rows * d)
        qkv = Buffer(rows * 3 * d)
        attended = Buffer(rows * d)
        mlp = Buffer(rows * config.hiddenDim)
        pooled = Buffer(capacity * d)
        headHidden = Buffer(capacity * config.headHiddenDim)
        if config.variant.v2Flags != nil {
            features = Buffer(capacity * config.numFrames * config.numJoints * config.tokenFeatures)
            normalised = Buffer(config.numFrames * config.inputFeatures)
            distances = Buffer(config.numFrames)
        } else {
            features = Buffer(0)
            normalised = Buffer(0)
            distances = Buffer(0)
        }
        scratchPerLane = attentionScratchCount(tokens: config.maxTokens, headDim: d / config.numHeads)
        attentionScratch = Buffer(self.lanes * scratchPerLane)
    }

    /// Bytes held by the activation buffers.
    public var byteCount: Int {
        [hidden, normed, qkv, attended, mlp, attentionScratch, pooled, headHidden, features, normalised, distances]
            .reduce(0) { $0 + $1.count * 4 }
    }
}

/// A fixed-size float buffer owned by its workspace.
final class Buffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    /// Zeroed, on a 64-byte boundary: rows of a multiple of 16 floats then start on a cache line, so the GEMMs'
    /// 16-column tiles and the vector kernels never straddle two lines (malloc's 16-byte alignment put every
    /// tile across two: the packed GEMM ran 10 % slower on such an output).
    init(_ count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.initializeMemory(as: Float.self, repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }
}
