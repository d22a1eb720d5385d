import Foundation
import HTTPServer
import SignBERTRuntime

/// One request's clips waiting for the model.
struct InferenceJob: Sendable {
    let clips: [Float]            // [count, T, V·C]
    let count: Int
    let enqueuedAt: ContinuousClock.Instant
    let deadline: ContinuousClock.Instant
    /// The client is gone: the job is dropped instead of computed.
    let cancellation: RequestCancellation
    let completion: @Sendable (JobOutcome) -> Void
}

enum JobOutcome: Sendable {
    /// This job's own logits rows [count, K] and the size of the batch it ran in.
    case logits([Float], batchSize: Int)
    case timedOut
    /// The client went away while the job was queued; it was not computed.
    case cancelled
}

enum SubmitResult: Sendable { case accepted, queueFull, stopped }

/// Dynamic batching: jobs from concurrent requests queue here; one compute thread (which owns the
/// OpenBLAS threads) takes up to `maxBatchSize` clips, or whatever has arrived `maxQueueDelay` after the
/// first waiting clip, runs them as one forward pass and hands every job exactly its own rows.
final class BatchScheduler: @unchecked Sendable {
    // `@unchecked`: `pending`, `queuedClips` and `stopping` are only touched with `condition` locked;
    // `engine`, `batchInput` and `batchLogits` only on the compute thread.
    private let condition = NSCondition()
    private var pending: [InferenceJob] = []
    private var pendingStart = 0
    private var queuedClips = 0
    private var stopping = false
    /// Requests between the start of their decoding and their answer, and the recent peak of that
    /// count: how much company a queued request can expect (see `nextBatch`).
    private var activeRequests = 0
    private var recentPeak = 0
    private var recentPeakAt = ContinuousClock.now
    private var lastBatchEnd = ContinuousClock.now
    /// How long a peak of concurrent requests is remembered.
    private static let peakMemory: Duration = .milliseconds(500)
    /// How long past the queue delay a batch waits for requests that are being decoded.
    private static let decodingGrace: Duration = .milliseconds(10)
    private var thread: Thread?
    /// Entered while the compute thread runs; waiting on it can happen any number of times.
    private let running = DispatchGroup()

    private let model: SignBERTModel
    private let configuration: ServiceConfiguration
    private let metrics: ServiceMetrics
    private let engine: ForwardEngine
    /// The batch's clips side by side, and its logits: allocated once for `maxBatchSize` clips.
    private var batchInput: [Float]
    private var batchLogits: [Float]

    init(model: SignBERTModel, configuration: ServiceConfiguration, metrics: ServiceMetrics) {
        self.model = model
        self.configuration = configuration
        self.metrics = metrics
        engine = ForwardEngine(model: model, capacity: configuration.maxBatchSize, threads: configuration.computeThreads)
        let config = model.config
        batchInput = [Float](repeating: 0, count: configuration.maxBatchSize * config.numFrames * config.inputFeatures)
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
        var dropped: [InferenceJob] = []
        defer { cancel(dropped) }  // after unlocking: a completion calls back into the scheduler
        condition.lock()
        defer { condition.unlock() }
        if stopping { return .stopped }
        if queuedClips + job.count > configuration.maxQueuedClips {
            // Clients that gave up (typically timed-out clients under overload) make room for this one.
            dropped = removeCancelled()
            if queuedClips + job.count > configuration.maxQueuedClips { return .queueFull }
        }
        pending.append(job)
        queuedClips += job.count
        metrics.queueDepth.set(queuedClips)
        condition.signal()
        return .accepted
    }

    /// Takes the waiting jobs whose clients are gone out of the queue. Called with `condition` locked.
    private func removeCancelled() -> [InferenceJob] {
        let waiting = pending[pendingStart...]
        let cancelled = waiting.filter { $0.cancellation.isCancelled }
        guard !cancelled.isEmpty else { return [] }
        pending = waiting.filter { !$0.cancellation.isCancelled }
        pendingStart = 0
        queuedClips -= cancelled.reduce(0) { $0 + $1.count }
        metrics.queueDepth.set(queuedClips)
        return cancelled
    }

    private func cancel(_ jobs: [InferenceJob]) {
        guard !jobs.isEmpty else { return }
        metrics.cancelledClips.increment(by: jobs.reduce(0) { $0 + $1.count })
        for job in jobs { job.completion(.cancelled) }
    }

    /// A request has started (its body is being decoded): company for the queue is on its way.
    func requestStarted() {
        condition.lock()
        defer { condition.unlock() }
        activeRequests += 1
        let now = ContinuousClock.now
        if activeRequests >= recentPeak || recentPeakAt.duration(to: now) > Self.peakMemory {
            recentPeak = activeRequests
            recentPeakAt = now
        }
        condition.signal()
    }

    /// A request has been answered, or refused before it was queued.
    func requestFinished() {
        condition.lock()
        activeRequests -= 1
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
        var dropped: [InferenceJob] = []
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
            batchInput.withUnsafeBufferPointer { all in
                batchLogits.withUnsafeMutableBufferPointer { out in
                    engine.forward(UnsafeBufferPointer(rebasing: all[0..<batch * config.numFrames * config.inputFeatures]),
                                   batch: batch, logits: UnsafeMutableBufferPointer(rebasing: out[0..<batch * config.numClasses]))
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

    /// Blocks until a batch is due; nil once stopping with nothing left. Jobs whose clients went away
    /// meanwhile come back apart, to be answered without computing them.
    private func nextBatch() -> (batch: [InferenceJob], cancelled: [InferenceJob])? {
        condition.lock()
        defer { condition.unlock() }
        while pendingStart == pending.count {
            if stopping { return nil }
            condition.wait()
        }
        // Wait for company until the batch is full or maxQueueDelay has passed since the later of the first
        // job's arrival and the end of the last batch (clients answered by that batch send their next
        // request a moment later). Waiting only helps while more requests are under way than are queued:
        // a lone client (recent peak of 1) is never made to wait. Requests whose body is complete and
        // being decoded are certain to join within a fraction of a millisecond each: they are waited for
        // past the delay, up to `decodingGrace` more.
        let due = max(pending[pendingStart].enqueuedAt, lastBatchEnd) + configuration.maxQueueDelay
        let hardStop = due + Self.decodingGrace
        while queuedClips < configuration.maxBatchSize && !stopping {
            let queuedRequests = pending.count - pendingStart
            let now = ContinuousClock.now
            let decoding = activeRequests - queuedRequests  // the last batch's requests are finished already
            let limit: ContinuousClock.Instant
            if decoding > 0 && now < hardStop {
                limit = hardStop
            } else if now < due && (configuration.fixedQueueDelay || expectedRequests() > queuedRequests) {
                limit = due
            } else {
                break
            }
            _ = condition.wait(until: Date(timeIntervalSinceNow: now.duration(to: limit).seconds))
        }
        let cancelled = removeCancelled()
        var batch: [InferenceJob] = []
        var clips = 0
        while pendingStart < pending.count {
            let job = pending[pendingStart]
            // Whole requests only; a request never exceeds maxBatchSize (checked on decode).
            if clips + job.count > configuration.maxBatchSize { break }
            pendingStart += 1
            queuedClips -= job.count
            batch.append(job)
            clips += job.count
        }
        if pendingStart > 1024 || pendingStart == pending.count {
            pending.removeFirst(pendingStart)
            pendingStart = 0
        }
        metrics.queueDepth.set(queuedClips)
        return (batch, cancelled)
    }

    /// Requests that may join the queue soon: those under way, or as many as were under way at once
    /// within the last `peakMemory` (between batches, answered clients have not sent again yet).
    private func expectedRequests() -> Int {
        let peakIsRecent = recentPeakAt.duration(to: .now) <= Self.peakMemory
        return max(activeRequests, peakIsRecent ? recentPeak : 0)
    }

    private func execute(_ jobs: [InferenceJob]) {
        let now = ContinuousClock.now
        var live: [InferenceJob] = []
        for job in jobs {
            if now >= job.deadline { job.completion(.timedOut) } else { live.append(job) }
        }
        guard !live.isEmpty else { return }
        let config = model.config
        let batch = live.reduce(0) { $0 + $1.count }
        var offset = 0
        batchInput.withUnsafeMutableBufferPointer { destination in
            for job in live {
                job.clips.withUnsafeBufferPointer { source in
                    guard let from = source.baseAddress, let to = destination.baseAddress else { return }
                    (to + offset).update(from: from, count: job.clips.count)
                }
                offset += job.clips.count
            }
        }
        let start = ContinuousClock.now
        batchInput.withUnsafeBufferPointer { all in
            let x = UnsafeBufferPointer(rebasing: all[0..<offset])
            batchLogits.withUnsafeMutableBufferPointer { all in
                engine.forward(x, batch: batch, logits: UnsafeMutableBufferPointer(rebasing: all[0..<batch * config.numClasses]))
            }
        }
        let compute = start.duration(to: .now)
        condition.lock()
        lastBatchEnd = .now
        condition.unlock()
        metrics.compute.recordNanoseconds(compute.nanoseconds)
        metrics.batchSize.record(batch)
        metrics.clips.increment(by: batch)
        var row = 0
        for job in live {
            let rows = Array(batchLogits[row * config.numClasses..<(row + job.count) * config.numClasses])
            row += job.count
            let wait = job.enqueuedAt.duration(to: start)
            metrics.queueWait.recordNanoseconds(wait.nanoseconds)
            job.completion(.logits(rows, batchSize: batch))
        }
    }
}
