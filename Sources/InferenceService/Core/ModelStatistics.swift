import Foundation
import Synchronization

/// Where one request's time went inside the server, summed over the batches that computed it: waiting in the
/// queue (until its first batch began), copying its batch's inputs in, the forward pass, copying the outputs out.
/// A request is charged its whole batch's compute, as Triton charges every request of a batch.
struct InferenceTiming: Sendable, Equatable {
    var queue: Duration = .zero
    var computeInput: Duration = .zero
    var computeInfer: Duration = .zero
    var computeOutput: Duration = .zero
}

/// The inference statistics of one served model version, as Triton's statistics extension reports them
/// (`GET /v2/models/{name}/stats`, gRPC ModelStatistics): counts and cumulative durations since start. Its
/// model's inference path records into it: the scheduler once per batch executed, the inference core once per
/// request answered, whatever the protocol. Thread-safe: one lock, held for a few additions.
final class ModelStatistics: Sendable {
    /// A count and the nanoseconds summed over it (Triton's StatisticDuration).
    struct CountedDuration: Sendable, Equatable {
        var count: UInt64 = 0
        var ns: UInt64 = 0

        mutating func add(_ duration: Duration) {
            count += 1
            ns += UInt64(max(0, duration.nanoseconds))
        }
    }

    /// The executions of one batch size (Triton's InferBatchStatistics).
    struct BatchDurations: Sendable, Equatable {
        var computeInput = CountedDuration()
        var computeInfer = CountedDuration()
        var computeOutput = CountedDuration()
    }

    struct Snapshot: Sendable, Equatable {
        /// Milliseconds since the epoch of the last request answered (with logits or a failure); 0 before any.
        var lastInference: UInt64 = 0
        /// Clips answered with logits (Triton counts each inference of a batched request).
        var inferenceCount: UInt64 = 0
        /// Batches run (forward passes).
        var executionCount: UInt64 = 0
        /// Requests answered with logits, and their time from admission to answer.
        var success = CountedDuration()
        /// Requests refused or failed (invalid input, overload, timeout, cancelled, shutting down), and their time.
        var fail = CountedDuration()
        /// The successful requests' queue and compute time (`InferenceTiming`).
        var queue = CountedDuration()
        var computeInput = CountedDuration()
        var computeInfer = CountedDuration()
        var computeOutput = CountedDuration()
        /// By batch size: how many batches of that size ran, and their durations.
        var batches: [Int: BatchDurations] = [:]
    }

    private let state = Mutex(Snapshot())

    init() {}

    /// One batch of `batchSize` clips ran (from the compute thread).
    func recordExecution(batchSize: Int, computeInput: Duration, computeInfer: Duration, computeOutput: Duration) {
        state.withLock { state in
            state.executionCount += 1
            var batch = state.batches[batchSize, default: BatchDurations()]
            batch.computeInput.add(computeInput)
            batch.computeInfer.add(computeInfer)
            batch.computeOutput.add(computeOutput)
            state.batches[batchSize] = batch
        }
    }

    /// A request of `clips` clips was answered with its logits, `duration` after it was admitted.
    func recordSuccess(clips: Int, duration: Duration, timing: InferenceTiming, at date: Date = Date()) {
        state.withLock { state in
            state.inferenceCount += UInt64(max(0, clips))
            state.success.add(duration)
            state.queue.add(timing.queue)
            state.computeInput.add(timing.computeInput)
            state.computeInfer.add(timing.computeInfer)
            state.computeOutput.add(timing.computeOutput)
            state.lastInference = max(state.lastInference, Self.milliseconds(date))
        }
    }

    /// A request failed or was refused, `duration` after it arrived at the core.
    func recordFailure(duration: Duration, at date: Date = Date()) {
        state.withLock { state in
            state.fail.add(duration)
            state.lastInference = max(state.lastInference, Self.milliseconds(date))
        }
    }

    var snapshot: Snapshot { state.withLock { $0 } }

    private static func milliseconds(_ date: Date) -> UInt64 {
        UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded(.down)))
    }
}
