import Dispatch

/// Runs the model on a compute thread's batches using every core the process may use, in the way
/// that is fastest on OpenBLAS (perf-notes): a batch of several clips is cut into one shard per core,
/// each shard forwarded on its own thread with one BLAS thread (two 1-thread GEMM streams reach ~180
/// GFLOP/s here, one 2-thread stream ~130); a single clip cannot be cut, so it gets all BLAS threads.
/// Never both at once: two concurrent multi-threaded GEMMs serialise.
///
/// Not thread-safe: one engine per compute thread. It sets OpenBLAS's (process-wide) thread count
/// itself before each batch, so nothing else in the process may call BLAS concurrently.
public final class ForwardEngine {
    public let model: SignBERTModel
    public let capacity: Int
    public let threads: Int
    private let whole: ForwardWorkspace
    private let shards: [ForwardWorkspace]

    /// `sharding: false` runs every batch whole on `threads` BLAS threads (for comparison in `bench`).
    public init(model: SignBERTModel, capacity: Int, threads: Int, sharding: Bool = true) {
        self.model = model
        self.capacity = capacity
        self.threads = max(1, threads)
        let perShard = (capacity + self.threads - 1) / self.threads
        shards = sharding && self.threads > 1 && capacity > 1
            ? (0..<self.threads).map { _ in ForwardWorkspace(config: model.config, capacity: perShard) }
            : []
        // With shards, only a single clip runs whole: one clip's buffers (a v2 batch of 8 would otherwise
        // hold its activations twice, ~140 MB more). The whole path runs on every thread; v2's attention
        // then shares each clip's heads out.
        whole = ForwardWorkspace(config: model.config, capacity: shards.isEmpty ? capacity : 1,
                                 attentionWorkers: self.threads)
    }

    /// Logits [batch, K] for input [batch, T, V·C]; batch ≤ capacity. T is `frames`, num_frames by default
    /// (see `SignBERTModel.forward`).
    public func forward(_ input: UnsafeBufferPointer<Float>, batch: Int, frames: Int? = nil,
                        logits: UnsafeMutableBufferPointer<Float>) {
        let config = model.config
        let clipFloats = (frames ?? config.numFrames) * config.inputFeatures, k = config.numClasses
        let pieces = min(shards.count, batch)
        guard pieces > 1, let inputBase = input.baseAddress, let logitsBase = logits.baseAddress else {
            BLASThreads.set(threads)
            model.forward(input, batch: batch, frames: frames, logits: logits, workspace: whole)
            return
        }
        BLASThreads.set(1)
        // Each shard reads and writes its own rows of the caller's buffers, and uses its own workspace:
        // nothing is shared between the concurrent iterations but the immutable model.
        nonisolated(unsafe) let x = inputBase
        nonisolated(unsafe) let out = logitsBase
        nonisolated(unsafe) let shards = self.shards
        let model = self.model
        DispatchQueue.concurrentPerform(iterations: pieces) { piece in
            let first = batch * piece / pieces, last = batch * (piece + 1) / pieces
            model.forward(UnsafeBufferPointer(start: x + first * clipFloats, count: (last - first) * clipFloats),
                          batch: last - first, frames: frames,
                          logits: UnsafeMutableBufferPointer(start: out + first * k, count: (last - first) * k),
                          workspace: shards[piece])
        }
    }
}
