/// Runs the model on a compute thread's batches using every core the process may use, through a
/// persistent thread team (one lane per core, the calling thread being lane 0) and OpenBLAS on one
/// thread per lane, in one of two ways per batch:
///
/// - **shard**: the batch is cut into one shard of clips per lane, each forwarded alone on its own
///   workspace (two 1-thread GEMM streams reach ~180 GFLOP/s here, one 2-thread stream ~130);
/// - **split**: the lanes compute each step of one forward pass together: each Linear cut by output
///   columns (each lane one 1-thread sgemm on its columns of the weight) or, for tall inputs, by rows;
///   the attention by (clip, head); the element-wise work by rows; a barrier between steps.
///
/// A single clip can only be split; `automatic` also splits the small batches that would not shard
/// evenly, and shards the even part of a larger uneven batch and splits the rest (`shardAndSplit`; see
/// `strategy(for:)`). OpenBLAS never runs its own threads on these paths, so its idle workers never spin;
/// `openBLAS` (for comparison in `bench`) runs each batch whole on `threads` BLAS threads.
///
/// Not thread-safe: one engine per compute thread. It sets OpenBLAS's (process-wide) thread count
/// itself before each batch, so nothing else in the process may call BLAS concurrently.
public final class ForwardEngine {
    public enum Strategy: String, CaseIterable, Sendable {
        case automatic, shard, split, openBLAS = "openblas"
        /// The largest multiple of the lanes sharded, the clips left over (fewer than the lanes) then split:
        /// no lane idles for a whole clip at the end.
        case shardAndSplit = "shard+split"
    }

    public let model: SignBERTModel
    public let capacity: Int
    public let threads: Int
    public let strategy: Strategy
    private let team: ThreadTeam?
    /// One workspace all lanes share (split, and the openBLAS strategy's whole batches).
    private let whole: ForwardWorkspace?
    /// One workspace per lane (shard).
    private let shards: [ForwardWorkspace]

    public init(model: SignBERTModel, capacity: Int, threads: Int, strategy: Strategy = .automatic) {
        self.model = model
        self.capacity = capacity
        self.threads = max(1, threads)
        self.strategy = strategy
        let lanes = strategy == .openBLAS ? 1 : self.threads
        team = lanes > 1 ? ThreadTeam(lanes: lanes) : nil
        // Each workspace only as large as the batches that use it: a v2 clip's activations are ~20 MB.
        let short = model.config.maxTokens <= ForwardEngine.shortClipTokens
        let plans = (1...max(1, capacity)).map { ForwardEngine.plan(strategy, batch: $0, lanes: lanes, shortClips: short) }
        let largestSplit = zip(1..., plans).map { batch, plan in
            switch plan {
            case .split, .openBLAS, .automatic: return batch
            case .shardAndSplit: return batch % lanes
            case .shard: return 0
            }
        }.max() ?? 0
        let perShard = (capacity + lanes - 1) / lanes
        shards = lanes > 1 && plans.contains(where: { $0 == .shard || $0 == .shardAndSplit })
            ? (0..<lanes).map { _ in ForwardWorkspace(config: model.config, capacity: perShard) } : []
        whole = largestSplit > 0 ? ForwardWorkspace(config: model.config, capacity: largestSplit, lanes: lanes) : nil
    }

    /// How a batch of `batch` clips runs: `.shard`, `.split` or `.openBLAS` (never `.automatic`).
    public func strategy(for batch: Int) -> Strategy {
        ForwardEngine.plan(strategy, batch: batch, lanes: team?.lanes ?? 1,
                           shortClips: model.config.maxTokens <= ForwardEngine.shortClipTokens)
    }

    /// Clips of at most this many tokens (v1's 64) are short enough to split in small uneven batches.
    static let shortClipTokens = 256

    /// `automatic`: alone, or a batch smaller than the team, splits; so does a small batch that would
    /// leave a lane idle for a whole clip (3 clips on 2 lanes: 2 + 1), as long as the clips are short (v1's
    /// 64 tokens: the split's per-step barriers cost little against a whole clip's imbalance; a v2 clip's
    /// activations are ~20 MB, too many to keep a second set of for batches up to 7). Even batches shard:
    /// their lanes need no barriers. Larger uneven ones shard their even part and split the rest (19 clips
    /// on 2 lanes: 9 + 9, then 1 over both), where sharding 10 + 9 left one lane idle for a clip.
    static func plan(_ strategy: Strategy, batch: Int, lanes: Int, shortClips: Bool) -> Strategy {
        switch strategy {
        case .openBLAS: return .openBLAS
        case _ where lanes == 1: return .split  // one lane: the whole batch on the caller, no barriers
        case .shard: return batch >= lanes ? .shard : .split
        case .split: return .split
        case .shardAndSplit: return batch < lanes ? .split : batch % lanes == 0 ? .shard : .shardAndSplit
        case .automatic:
            if shortClips && batch < 8 && batch % lanes != 0 { return .split }
            return plan(.shardAndSplit, batch: batch, lanes: lanes, shortClips: shortClips)
        }
    }

    /// Logits [batch, K] for input [batch, T, V·C]; batch ≤ capacity. T is `frames`, num_frames by default
    /// (see `SignBERTModel.forward`).
    public func forward(_ input: UnsafeBufferPointer<Float>, batch: Int, frames: Int? = nil,
                        logits: UnsafeMutableBufferPointer<Float>) {
        let model = self.model
        switch strategy(for: batch) {
        case .openBLAS, .automatic:
            guard let whole else { return }
            BLASThreads.set(threads)
            model.forward(input, batch: batch, frames: frames, logits: logits, workspace: whole)
        case .split:
            guard let whole else { return }
            BLASThreads.set(1)
            guard let team else {
                model.forward(input, batch: batch, frames: frames, logits: logits, workspace: whole)
                return
            }
            team.run { lane in model.forward(input, batch: batch, frames: frames, logits: logits, workspace: whole, lane: lane) }
        case let plan where plan == .shard || plan == .shardAndSplit:
            guard let team, let inputBase = input.baseAddress, let logitsBase = logits.baseAddress else { return }
            BLASThreads.set(1)
            let config = model.config
            let clipFloats = (frames ?? config.numFrames) * config.inputFeatures, k = config.numClasses
            let shards = self.shards, pieces = shards.count, whole = self.whole
            let sharded = plan == .shardAndSplit && whole != nil ? batch - batch % pieces : batch
            func clips(_ range: Range<Int>) -> (UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) {
                (UnsafeBufferPointer(start: inputBase + range.lowerBound * clipFloats, count: range.count * clipFloats),
                 UnsafeMutableBufferPointer(start: logitsBase + range.lowerBound * k, count: range.count * k))
            }
            // Each lane reads and writes its own rows of the caller's buffers, and uses its own workspace; then
            // every lane computes its share of the clips left over, on the shared one (its first step's barrier
            // waits for the lanes still on their shard).
            team.run { lane in
                let first = sharded * lane.index / pieces, last = sharded * (lane.index + 1) / pieces
                if last > first {
                    let (x, out) = clips(first..<last)
                    model.forward(x, batch: last - first, frames: frames, logits: out, workspace: shards[lane.index])
                }
                if sharded < batch, let whole {
                    let (x, out) = clips(sharded..<batch)
                    model.forward(x, batch: batch - sharded, frames: frames, logits: out, workspace: whole, lane: lane)
                }
            }
        default: return
        }
    }
}
