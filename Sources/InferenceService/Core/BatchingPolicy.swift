/// The dynamic-batching rules, as pure functions of a snapshot of the queue and the time: when the compute
/// thread runs a batch (`decide`) and which clips go into it (`plan`). `BatchScheduler` keeps the lock, the
/// condition variable and the queue, and asks this; the rules are tested here without threads or sleeping.
struct BatchingPolicy: Sendable {
    /// Clips per forward pass.
    var maxBatchSize: Int
    /// How long the first waiting clip may wait for company.
    var maxQueueDelay: Duration
    /// Wait the whole delay for company even when none is expected (Triton's fixed delay).
    var fixedQueueDelay: Bool
    /// How long past the queue delay a batch waits for requests that are being decoded: their body is
    /// complete, so they are certain to join within a fraction of a millisecond each.
    var decodingGrace: Duration = .milliseconds(10)

    init(maxBatchSize: Int, maxQueueDelay: Duration, fixedQueueDelay: Bool) {
        self.maxBatchSize = maxBatchSize
        self.maxQueueDelay = maxQueueDelay
        self.fixedQueueDelay = fixedQueueDelay
    }

    init(_ configuration: ServiceConfiguration) {
        self.init(maxBatchSize: configuration.maxBatchSize, maxQueueDelay: configuration.maxQueueDelay,
                  fixedQueueDelay: configuration.fixedQueueDelay)
    }

    /// Requests between the start of their decoding and their answer, and the recent peak of that count:
    /// how much company a queued request can expect.
    struct Company: Sendable, Equatable {
        /// How long a peak of concurrent requests is remembered: between batches, the clients just answered
        /// have not sent their next request yet.
        static let peakMemory: Duration = .milliseconds(500)

        private(set) var active = 0
        private(set) var recentPeak = 0
        private(set) var recentPeakAt: ContinuousClock.Instant

        init(now: ContinuousClock.Instant) { recentPeakAt = now }

        mutating func started(at now: ContinuousClock.Instant) {
            active += 1
            if active >= recentPeak || recentPeakAt.duration(to: now) > Self.peakMemory {
                recentPeak = active
                recentPeakAt = now
            }
        }

        /// Answered, or refused before it was queued.
        mutating func finished() { active -= 1 }

        /// Requests that may join the queue soon: those under way, or as many as were under way at once
        /// within the last `peakMemory`.
        func expected(at now: ContinuousClock.Instant) -> Int {
            max(active, recentPeakAt.duration(to: now) <= Self.peakMemory ? recentPeak : 0)
        }
    }

    /// What `decide` looks at: the queue in aggregate (never the clips themselves).
    struct QueueState: Sendable {
        /// Clips queued and not yet taken into a batch, those of clients that left included until dropped.
        var clips: Int
        /// Jobs queued (a job split over batches counts until its last clips are taken).
        var requests: Int
        /// When the first queued job arrived; nil when the queue is empty.
        var oldestArrival: ContinuousClock.Instant?
        /// When the last forward pass ended.
        var lastBatchEnd: ContinuousClock.Instant
        var company: Company
        /// Draining: what is queued runs at once, then the compute thread ends.
        var stopping: Bool
    }

    enum Decision: Sendable, Equatable {
        /// Take a batch now (see `plan`).
        case run
        /// Wait for company until then (or until woken by a new request or an answered one).
        case wait(until: ContinuousClock.Instant)
        /// Nothing is queued: wait until something is.
        case waitForWork
        /// Stopping with nothing queued: the compute thread ends.
        case stop
    }

    /// Runs a full batch at once. Otherwise waits for company until `maxQueueDelay` after the later of the
    /// first job's arrival and the end of the last batch (clients answered by that batch send their next
    /// request a moment later). Waiting only helps while more requests are under way than are queued: a lone
    /// client (recent peak of 1) is never made to wait, unless the delay is fixed. Requests being decoded
    /// are waited for past the delay, up to `decodingGrace` more.
    func decide(_ queue: QueueState, now: ContinuousClock.Instant) -> Decision {
        guard queue.requests > 0, let oldest = queue.oldestArrival else { return queue.stopping ? .stop : .waitForWork }
        if queue.stopping || queue.clips >= maxBatchSize { return .run }
        let due = max(oldest, queue.lastBatchEnd) + maxQueueDelay
        let hardStop = due + decodingGrace
        let decoding = queue.company.active - queue.requests  // the last batch's requests are finished already
        if decoding > 0 && now < hardStop { return .wait(until: hardStop) }
        if now < due && (fixedQueueDelay || queue.company.expected(at: now) > queue.requests) { return .wait(until: due) }
        return .run
    }

    /// A queued job as `plan` sees it.
    struct QueuedWork: Sendable, Equatable {
        /// Clips in the job.
        var count: Int
        /// Clips already taken into earlier batches.
        var taken: Int
        /// The client went away: the job is dropped, not computed.
        var isCancelled: Bool
    }

    /// Clips `first ..< first + count` of the `job`-th queued job.
    struct Slice: Sendable, Equatable {
        var job: Int
        var first: Int
        var count: Int
    }

    struct Plan: Sendable, Equatable {
        /// Indices of the jobs whose clients left: answered without computing them.
        var dropped: [Int]
        /// The batch, in queue order; at most `maxBatchSize` clips in all.
        var slices: [Slice]
    }

    /// The next batch from the queue, in arrival order. A job that fits a batch goes whole (its answer comes
    /// from one batch's rows), so the batch ends before a job that does not fit the room left; a job larger
    /// than a batch fills what room there is, and its rest goes first into the next batches.
    func plan(_ queue: [QueuedWork]) -> Plan {
        var plan = Plan(dropped: [], slices: [])
        var clips = 0
        var open = true
        for (index, job) in queue.enumerated() {
            if job.isCancelled { plan.dropped.append(index); continue }
            guard open, clips < maxBatchSize else { open = false; continue }
            let remaining = job.count - job.taken
            if job.count <= maxBatchSize && clips + remaining > maxBatchSize { open = false; continue }
            let take = min(remaining, maxBatchSize - clips)
            plan.slices.append(Slice(job: index, first: job.taken, count: take))
            clips += take
            if take < remaining { open = false }
        }
        return plan
    }
}
