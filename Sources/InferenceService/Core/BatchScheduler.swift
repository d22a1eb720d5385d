import Foundation
import SignBERTRuntime
import Synchronization

/// One request's clips waiting for the model.
struct InferenceJob: Sendable {
    let clips: [Float]            // [count, D, V·C]
    let count: Int
    let enqueuedAt: ContinuousClock.Instant
    let deadline: ContinuousClock.Instant
    /// The client is gone: the job is dropped instead of computed.
    let cancellation: InferenceCancellation
    let completion: @Sendable (JobOutcome) -> Void
}

enum JobOutcome: Sendable {
    /// This job's own logits rows [count, K], the size of the (largest) batch it ran in, and in how many
    /// batches its clips were computed (more than one when it carried more clips than a batch holds), and where
    /// its time went (the model's statistics).
    case logits([Float], batchSize: Int, batches: Int, timing: InferenceTiming)
    case timedOut
    /// The client went away while the job was queued; it was not computed.
    case cancelled
}

enum SubmitResult: Sendable { case accepted, queueFull, stopped }

/// A queued job and how far its clips have got: a job of more clips than a batch holds is taken a batch at
/// a time and answered once, when its last clips are computed.
final class QueuedJob: @unchecked Sendable {
    // `@unchecked`: `taken` is only touched with the scheduler's `condition` locked; `logits`, `computed`,
    // `batches`, `largestBatch` and `timing` only on the compute thread; `answered` is a Mutex.
    let job: InferenceJob
    /// Clips handed to batches so far.
    var taken = 0
    var logits: [Float] = []
    var computed = 0
    var batches = 0
    var largestBatch = 0
    var timing = InferenceTiming()
    private let answered = Mutex(false)

    init(_ job: InferenceJob) { self.job = job }

    var remaining: Int { job.count - taken }

    /// Calls the job's completion the first time only: a split job may time out in one batch and have
    /// its client leave before the next.
    func answer(_ outcome: JobOutcome) {
        let first = answered.withLock { done in
            defer { done = true }
            return !done
        }
        if first { job.completion(outcome) }
    }

    var isAnswered: Bool { answered.withLock { $0 } }
}

/// Clips `first ..< first + count` of a queued job, in one batch.
struct JobSlice {
    let entry: QueuedJob
    let first: Int
    let count: Int
}

/// Dynamic batching: jobs from concurrent requests queue here; one compute thread (which owns the
/// OpenBLAS threads) takes batches of up to `maxBatchSize` clips when `BatchingPolicy` says so, runs each
/// as one forward pass and hands every job exactly its own rows. A job of more clips than a batch (up to
/// `maxClipsPerRequest`) runs over several consecutive batches. This type holds the queue, the lock and
/// the threads; the rules of when and what to run are the policy's.
final class BatchScheduler: @unchecked Sendable {
    // `@unchecked`: `pending`, `queuedClips`, `publishedQueue`, `company`, `lastBatchEnd` and `stopping` are only touched
    // with `condition` locked; `engine`, `batchInput` and `batchLogits` only on the compute thread.
    private let condition = NSCondition()
    private var pending: [QueuedJob] = []
    private var pendingStart = 0
    private var queuedClips = 0
    private var stopping = false
    /// Requests under way: how much company a queued request can expect.
    private var company = BatchingPolicy.Company(now: .now)
    private var lastBatchEnd = ContinuousClock.now
    private let policy: BatchingPolicy
    private var thread: Thread?
    /// Entered while the compute thread runs; waiting on it can happen any number of times.
    private let running = DispatchGroup()

    private let model: SignBERTModel
    /// D: the frames of every clip (the run's data.num_frames).
    private let frames: Int
    private let configuration: ServiceConfiguration
    private let metrics: ServiceMetrics
    /// This model version's labelled series (nil in tests that make a bare scheduler).
    private let modelMetrics: ModelMetrics?
    /// Shared with the other models' schedulers: one forward at a time.
    private let pool: ComputePool
    /// What this queue last added to the server's queue gauge (the gauge sums every model's queue).
    private var publishedQueue = 0
    /// The served model's statistics (Triton's statistics extension): every batch run is recorded here.
    let statistics: ModelStatistics
    private let engine: ForwardEngine
    /// The batch's clips side by side, and its logits: allocated once for `maxBatchSize` clips.
    private var batchInput: [Float]
    private var batchLogits: [Float]

    init(model: SignBERTModel, frames: Int, configuration: ServiceConfiguration, metrics: ServiceMetrics,
         modelMetrics: ModelMetrics? = nil, pool: ComputePool = ComputePool(),
         statistics: ModelStatistics = ModelStatistics()) {
        self.model = model
        self.modelMetrics = modelMetrics
        self.pool = pool
        self.statistics = statistics
        self.frames = frames
        self.configuration = configuration
        self.metrics = metrics
        policy = BatchingPolicy(configuration)
        engine = ForwardEngine(model: model, capacity: configuration.maxBatchSize, threads: configuration.computeThreads)
        let config = model.config
        batchInput = [Float](repeating: 0, count: configuration.maxBatchSize * frames * config.inputFeatures)
        batchLogits = [Float](repeating: 0, count: configuration.maxBatchSize * config.numClasses)
    }

    /// Starts the compute thread; `warmUp` runs one forward pass on it first, then `onWarm` is called.
    func start(onWarm: @escaping @Sendable () -> Void) {
        running.enter()
        let thread = Thread { [self] in
            warmUp()
            onWarm()
            run()
            running.leave()
        }
        thread.name = "signbert-compute"
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
    }

    func submit(_ job: InferenceJob) -> SubmitResult {
        var dropped: [QueuedJob] = []
        defer { cancel(dropped) }  // after unlocking: a completion calls back into the scheduler
        condition.lock()
        defer { condition.unlock() }
        if stopping { return .stopped }
        // A request larger than the queue bound (allowed by maxClipsPerRequest) is taken when the queue is empty.
        func overflows() -> Bool { queuedClips > 0 && queuedClips + job.count > configuration.maxQueuedClips }
        if overflows() {
            // Clients that gave up (typically timed-out clients under overload) make room for this one.
            dropped = removeCancelled()
            if overflows() { return .queueFull }
        }
        pending.append(QueuedJob(job))
        queuedClips += job.count
        publishQueue()
        condition.signal()
        return .accepted
    }

    /// Sets this model's queue gauge and moves the server's total by the change. Called with `condition` locked.
    private func publishQueue() {
        metrics.queueDepth.increment(by: Double(queuedClips - publishedQueue))
        publishedQueue = queuedClips
        modelMetrics?.queueDepth.set(queuedClips)
    }

    /// The bytes this version's batch buffers hold (with the weights: its memory in `GET /`).
    var bufferBytes: Int { (batchInput.count + batchLogits.count) * MemoryLayout<Float>.size }

    /// Takes the waiting jobs whose clients are gone out of the queue. Called with `condition` locked.
    private func removeCancelled() -> [QueuedJob] {
        let waiting = pending[pendingStart...]
        let cancelled = waiting.filter { $0.job.cancellation.isCancelled }
        guard !cancelled.isEmpty else { return [] }
        pending = waiting.filter { !$0.job.cancellation.isCancelled }
        pendingStart = 0
        queuedClips -= cancelled.reduce(0) { $0 + $1.remaining }
        publishQueue()
        return cancelled
    }

    private func cancel(_ entries: [QueuedJob]) {
        guard !entries.isEmpty else { return }
        metrics.cancelledClips.increment(by: entries.reduce(0) { $0 + $1.job.count })
        for entry in entries { entry.answer(.cancelled) }
    }

    /// A request has started (its body is being decoded): company for the queue is on its way.
    func requestStarted() {
        condition.lock()
        defer { condition.unlock() }
        company.started(at: .now)
        condition.signal()
    }

    /// A request has been answered, or refused before it was queued.
    func requestFinished() {
        condition.lock()
        company.finished()
        condition.signal()  // a batch may be waiting for this request, which will not come now
        condition.unlock()
    }

    var queuedClipCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return queuedClips
    }

    /// Whether the queue is at its bound, once the jobs of clients that left are taken out of it.
    var isFull: Bool {
        var dropped: [QueuedJob] = []
        defer { cancel(dropped) }
        condition.lock()
        defer { condition.unlock() }
        if queuedClips >= configuration.maxQueuedClips { dropped = removeCancelled() }
        return queuedClips >= configuration.maxQueuedClips
    }

    /// Finishes every queued job, then ends the compute thread; waits for it. Safe to call again.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
        running.wait()
    }

    /// One forward of a single clip (every BLAS thread) and one of a clip per compute thread (the sharded
    /// path), so that the first requests find the threads started. Not a full batch: that would add a
    /// third of a second to a 1-CPU container's start for nothing (the buffers are already paged in).
    private func warmUp() {
        let sharded = min(configuration.maxBatchSize, max(2, configuration.computeThreads))
        for batch in [1, sharded] {
            let config = model.config
            pool.run(oldest: .now) {
            batchInput.withUnsafeBufferPointer { all in
                batchLogits.withUnsafeMutableBufferPointer { out in
                    engine.forward(UnsafeBufferPointer(rebasing: all[0..<batch * frames * config.inputFeatures]),
                                   batch: batch, frames: frames,
                                   logits: UnsafeMutableBufferPointer(rebasing: out[0..<batch * config.numClasses]))
                }
            }
            }
        }
    }

    private func run() {
        while let (batch, cancelled) = nextBatch() {
            cancel(cancelled)
            if !batch.isEmpty { execute(batch) }
        }
    }

    /// Blocks until the policy says a batch is due; nil once stopping with nothing left. Jobs whose clients
    /// went away meanwhile come back apart, to be answered without computing them.
    private func nextBatch() -> (batch: [JobSlice], cancelled: [QueuedJob])? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            let now = ContinuousClock.now
            let state = BatchingPolicy.QueueState(
                clips: queuedClips, requests: pending.count - pendingStart,
                oldestArrival: pendingStart < pending.count ? pending[pendingStart].job.enqueuedAt : nil,
                lastBatchEnd: lastBatchEnd, company: company, stopping: stopping)
            switch policy.decide(state, now: now) {
            case .stop:
                return nil
            case .waitForWork:
                condition.wait()
            case .wait(let until):
                _ = condition.wait(until: Date(timeIntervalSinceNow: now.duration(to: until).seconds))
            case .run:
                return takeBatch()
            }
        }
    }

    /// Takes the batch the policy plans out of the queue, and the jobs of clients that left. Called with
    /// `condition` locked.
    private func takeBatch() -> (batch: [JobSlice], cancelled: [QueuedJob]) {
        let waiting = pending[pendingStart...]
        // Each job's cancellation is read once, here: it may be set at any moment by another thread.
        let plan = policy.plan(waiting.map {
            BatchingPolicy.QueuedWork(count: $0.job.count, taken: $0.taken, isCancelled: $0.job.cancellation.isCancelled)
        })
        let cancelled = plan.dropped.map { waiting[pendingStart + $0] }
        var batch: [JobSlice] = []
        for slice in plan.slices {
            let entry = waiting[pendingStart + slice.job]
            batch.append(JobSlice(entry: entry, first: slice.first, count: slice.count))
            entry.taken += slice.count
            queuedClips -= slice.count
        }
        queuedClips -= cancelled.reduce(0) { $0 + $1.remaining }
        if cancelled.isEmpty {
            // Without drops, the jobs taken whole are a prefix of the queue.
            while pendingStart < pending.count && pending[pendingStart].remaining == 0 { pendingStart += 1 }
        } else {
            let dropped = Set(plan.dropped.map { pendingStart + $0 })
            pending = waiting.indices.filter { !dropped.contains($0) && waiting[$0].remaining > 0 }.map { waiting[$0] }
            pendingStart = 0
        }
        if pendingStart > 1024 || pendingStart == pending.count {
            pending.removeFirst(pendingStart)
            pendingStart = 0
        }
        publishQueue()
        return (batch, cancelled)
    }

    private func execute(_ slices: [JobSlice]) {
        let now = ContinuousClock.now
        var live: [JobSlice] = []
        for slice in slices where !slice.entry.isAnswered {
            // A split job that timed out in an earlier batch was answered then; its rest is not computed.
            if now >= slice.entry.job.deadline { slice.entry.answer(.timedOut) } else { live.append(slice) }
        }
        guard !live.isEmpty else { return }
        let config = model.config
        let batch = live.reduce(0) { $0 + $1.count }
        let clipFloats = frames * config.inputFeatures
        let inputStart = ContinuousClock.now
        var offset = 0
        batchInput.withUnsafeMutableBufferPointer { destination in
            for slice in live {
                slice.entry.job.clips.withUnsafeBufferPointer { source in
                    guard let from = source.baseAddress, let to = destination.baseAddress else { return }
                    (to + offset).update(from: from + slice.first * clipFloats, count: slice.count * clipFloats)
                }
                offset += slice.count * clipFloats
            }
        }
        // The batch waits its turn in the compute pool (other models' batches), oldest clip first.
        let oldest = live.map(\.entry.job.enqueuedAt).min() ?? now
        let (start, compute) = pool.run(oldest: oldest) { () -> (ContinuousClock.Instant, Duration) in
            let start = ContinuousClock.now
            batchInput.withUnsafeBufferPointer { all in
                let x = UnsafeBufferPointer(rebasing: all[0..<offset])
                batchLogits.withUnsafeMutableBufferPointer { all in
                    engine.forward(x, batch: batch, frames: frames,
                                   logits: UnsafeMutableBufferPointer(rebasing: all[0..<batch * config.numClasses]))
                }
            }
            return (start, start.duration(to: .now))
        }
        condition.lock()
        lastBatchEnd = .now
        condition.unlock()
        metrics.compute.recordNanoseconds(compute.nanoseconds)
        metrics.batchSize.record(batch)
        metrics.clips.increment(by: batch)
        modelMetrics?.compute.recordNanoseconds(compute.nanoseconds)
        modelMetrics?.batchSize.record(batch)
        modelMetrics?.clips.increment(by: batch)
        let k = config.numClasses
        var row = 0
        // The rows are copied out first and the jobs answered after, so that the output time is the copy's alone
        // (an answer is rendered on this thread).
        let outputStart = ContinuousClock.now
        var complete: [(entry: QueuedJob, logits: [Float])] = []
        for slice in live {
            let entry = slice.entry
            let rows = batchLogits[row * k..<(row + slice.count) * k]
            row += slice.count
            if slice.first == 0 {
                let wait = entry.job.enqueuedAt.duration(to: start).nanoseconds
                metrics.queueWait.recordNanoseconds(wait)
                modelMetrics?.queueWait.recordNanoseconds(wait)
                entry.timing.queue = entry.job.enqueuedAt.duration(to: inputStart)
            }
            entry.batches += 1
            entry.largestBatch = max(entry.largestBatch, batch)
            if slice.count == entry.job.count {
                complete.append((entry, Array(rows)))
                continue
            }
            if entry.logits.isEmpty { entry.logits = [Float](repeating: 0, count: entry.job.count * k) }
            entry.logits.replaceSubrange(slice.first * k..<(slice.first + slice.count) * k, with: rows)
            entry.computed += slice.count
            if entry.computed == entry.job.count {
                complete.append((entry, entry.logits))
                entry.logits = []
            }
        }
        let input = inputStart.duration(to: start), output = outputStart.duration(to: .now)
        statistics.recordExecution(batchSize: batch, computeInput: input, computeInfer: compute, computeOutput: output)
        for slice in live {
            slice.entry.timing.computeInput += input
            slice.entry.timing.computeInfer += compute
            slice.entry.timing.computeOutput += output
        }
        for (entry, logits) in complete {
            entry.answer(.logits(logits, batchSize: entry.largestBatch, batches: entry.batches, timing: entry.timing))
        }
    }
}
