/// Every activation buffer of the forward pass, allocated once for a batch capacity and reused across
/// layers and calls, so `forward` allocates nothing. Not thread-safe: one workspace per thread.
public final class ForwardWorkspace {
    public let capacity: Int           // clips
    let hidden: Buffer                 // x, the residual stream   [B·T, D]
    let normed: Buffer                 // LayerNorm output         [B·T, D]
    let qkv: Buffer                    // fused projection         [B·T, 3D]
    let attended: Buffer               // heads concatenated       [B·T, D]
    let mlp: Buffer                    // fc1 output               [B·T, D·r]
    let scores: Buffer                 // one head's scores        [T, T]
    let pooled: Buffer                 // mean over frames         [B, D]
    let headHidden: Buffer             // head's inner layer       [B, D/2]

    public init(config: SignBERTConfig, capacity: Int) {
        precondition(capacity > 0, "a workspace holds at least one clip")
        let rows = capacity * config.numFrames, d = config.embedDim
        self.capacity = capacity
        hidden = Buffer(rows * d)
        normed = Buffer(rows * d)
        qkv = Buffer(rows * 3 * d)
        attended = Buffer(rows * d)
        mlp = Buffer(rows * config.hiddenDim)
        scores = Buffer(config.numFrames * config.numFrames)
        pooled = Buffer(capacity * d)
        headHidden = Buffer(capacity * config.headHiddenDim)
    }

    /// Bytes held by the activation buffers.
    public var byteCount: Int {
        [hidden, normed, qkv, attended, mlp, scores, pooled, headHidden].reduce(0) { $0 + $1.count * 4 }
    }
}

/// A fixed-size float buffer owned by its workspace.
final class Buffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }
}
