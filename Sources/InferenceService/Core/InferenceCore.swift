import SignBERTRuntime

/// Clips ready for the model: [batch, T, V·C].
struct ClipBatch: Sendable {
    var values: [Float]
    var batch: Int
}

/// A request's logits rows [batch, K], with the size of the (largest) batch they ran in and how many
/// batches computed them (more than one for a request of more clips than a batch holds).
struct InferenceResult: Sendable, Equatable {
    var logits: [Float]
    var batchSize: Int
    var batches: Int
}

/// The one path from a request to its logits, independent of any protocol: admission (lifecycle, queue
/// bound), decoding, submission to the batcher with a deadline and a cancellation, the in-flight accounting,
/// and a typed answer. Protocol adapters (the HTTP routes today) decode with their own format and map
/// `InferenceFailure` to their own status codes; every one of them batches with the others.
final class InferenceCore: Sendable {
    let scheduler: BatchScheduler
    let configuration: ServiceConfiguration
    let metrics: ServiceMetrics
    let lifecycle: Lifecycle

    init(scheduler: BatchScheduler, configuration: ServiceConfiguration, metrics: ServiceMetrics, lifecycle: Lifecycle) {
        self.scheduler = scheduler
        self.configuration = configuration
        self.metrics = metrics
        self.lifecycle = lifecycle
    }

    /// Whether a request would be refused before its body is decoded; nil when it is admitted.
    func admissionFailure() -> InferenceFailure? {
        switch lifecycle.current {
        case .ready, .draining: break  // draining: connections already accepted still get their answer
        case .starting: return .notReady
        case .stopped: return .shuttingDown
        }
        // A full queue refuses before the body is decoded: under overload, decoding bodies only to refuse
        // them would take CPU from the batches.
        if scheduler.isFull { return .overloaded(queuedClipLimit: configuration.maxQueuedClips) }
        return nil
    }

    /// Admits the request, then decodes it (`decode` runs only when admitted: its failure is `invalidInput`),
    /// queues its clips and calls `completion` exactly once, with the logits and the decoder's `context`
    /// (what the adapter needs to render its answer), or with the failure. `completion` may run on the
    /// calling thread (refusals) or on the compute thread (answers): it must not block.
    func infer<Context: Sendable>(deadline: ContinuousClock.Instant, cancellation: InferenceCancellation,
                                  decode: () throws(RequestError) -> (ClipBatch, Context),
                                  completion: @escaping @Sendable (Result<(InferenceResult, Context), InferenceFailure>) -> Void) {
        // The model's statistics count every request from here: its time in the core, and how it ended.
        let started = ContinuousClock.now, statistics = scheduler.statistics
        if let failure = admissionFailure() {
            statistics.recordFailure(duration: started.duration(to: .now))
            completion(.failure(failure))
            return
        }
        // From here the request counts as in flight (metrics) and as company for the batcher, until
        // `finish` answers it, exactly once on every path.
        metrics.inFlight.increment()
        scheduler.requestStarted()
        let finish: @Sendable (Result<(InferenceResult, Context), InferenceFailure>) -> Void = { [metrics, scheduler] result in
            metrics.inFlight.decrement()
            scheduler.requestFinished()
            if case .failure = result { statistics.recordFailure(duration: started.duration(to: .now)) }
            completion(result)
        }
        let clips: ClipBatch, context: Context
        do { (clips, context) = try decode() } catch {
            finish(.failure(.invalidInput(error.message)))
            return
        }
        let job = InferenceJob(
            clips: clips.values, count: clips.batch, enqueuedAt: .now, deadline: deadline, cancellation: cancellation,
            completion: { outcome in
                switch outcome {
                case .logits(let logits, let batchSize, let batches, let timing):
                    if logits.contains(where: { !$0.isFinite }) {
                        finish(.failure(.invalidInput(
                            "the clip's values overflow float32 inside the model (non-finite logits); send coordinates of ordinary magnitude")))
                        return
                    }
                    statistics.recordSuccess(clips: clips.batch, duration: started.duration(to: .now), timing: timing)
                    finish(.success((InferenceResult(logits: logits, batchSize: batchSize, batches: batches), context)))
                case .timedOut:
                    finish(.failure(.timedOut))
                case .cancelled:
                    finish(.failure(.cancelled))
                }
            })
        switch scheduler.submit(job) {
        case .accepted: break
        case .queueFull: finish(.failure(.overloaded(queuedClipLimit: configuration.maxQueuedClips)))
        case .stopped: finish(.failure(.shuttingDown))
        }
    }
}
