public import SignBERTRuntime

/// The service's default batch and queue limits, scaled by what a clip costs to compute.
///
/// The v1 defaults (32 clips per batch, 256 queued) were tuned for a clip of the default v1 architecture
/// (~0.63 GFLOP). What they bound is work: how long one batch holds the compute thread and how much work
/// may wait. A heavier model gets the same work budget in fewer clips (a v2 clip at its defaults is ~55x
/// a v1 clip: 2 clips per batch on 2 cores, 4 queued); a model no heavier than v1 keeps 32 and 256.
public struct ServingLimits: Sendable, Equatable {
    public var maxBatchSize: Int
    public var maxQueuedClips: Int

    /// The v1 defaults and the cost they were set for.
    public static let v1Defaults = ServingLimits(maxBatchSize: 32, maxQueuedClips: 256)
    public static let referenceFlopsPerClip = SignBERTConfig.defaults.flopsPerClip

    public init(maxBatchSize: Int, maxQueuedClips: Int) {
        self.maxBatchSize = maxBatchSize
        self.maxQueuedClips = maxQueuedClips
    }

    /// Limits for a model costing `flopsPerClip`, on `cores` compute cores. A batch never gets fewer clips
    /// than cores (the engine gives each core one clip's shard; fewer would leave a core idle).
    public static func recommended(flopsPerClip: Double, cores: Int) -> ServingLimits {
        let relative = max(flopsPerClip, 1) / referenceFlopsPerClip
        let batch = min(v1Defaults.maxBatchSize, max(max(cores, 1), Int(Double(v1Defaults.maxBatchSize) / relative)))
        let queue = min(v1Defaults.maxQueuedClips, max(batch, Int(Double(v1Defaults.maxQueuedClips) / relative)))
        return ServingLimits(maxBatchSize: batch, maxQueuedClips: queue)
    }

    public static func recommended(for config: SignBERTConfig, cores: Int) -> ServingLimits {
        recommended(flopsPerClip: config.flopsPerClip, cores: cores)
    }
}
