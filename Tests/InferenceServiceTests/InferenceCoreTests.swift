import Foundation
@testable import InferenceService
import SignBERTRuntime
import XCTest

/// The inference core with the real batcher and the small PyTorch fixture model, called directly (no
/// protocol): every way a request ends is a typed result.
final class InferenceCoreTests: XCTestCase {
    private static var loaded: LoadedModel { LiveInferenceTestCase.loaded }
    private var schedulers: [BatchScheduler] = []

    override func tearDown() {
        for scheduler in schedulers { scheduler.stop() }
        schedulers = []
    }

    /// A core over a started, warm batcher; `ready` moves the lifecycle to `.ready`.
    private func core(ready: Bool = true, _ configure: (inout ServiceConfiguration) -> Void = { _ in }) -> InferenceCore {
        var configuration = ServiceConfiguration()
        configure(&configuration)
        let metrics = ServiceMetrics(maxBatchSize: configuration.maxBatchSize)
        let scheduler = BatchScheduler(model: Self.loaded.model, frames: Self.loaded.preparation.frames,
                                       configuration: configuration, metrics: metrics)
        let warm = DispatchSemaphore(value: 0)
        scheduler.start { warm.signal() }
        schedulers.append(scheduler)
        XCTAssertEqual(warm.wait(timeout: .now() + 30), .success)
        let lifecycle = Lifecycle()
        if ready { XCTAssertTrue(lifecycle.transition(from: [.starting], to: .ready)) }
        return InferenceCore(scheduler: scheduler, configuration: configuration, metrics: metrics, lifecycle: lifecycle)
    }

    private func clips(_ count: Int) -> ClipBatch {
        let floats = Self.loaded.preparation.frames * Self.loaded.config.inputFeatures
        return ClipBatch(values: (0..<count * floats).map { Float($0 % 97) / 97 - 0.5 }, batch: count)
    }

    /// Calls `infer` and waits for its one answer.
    private func infer(_ core: InferenceCore, _ input: ClipBatch, tag: String = "context",
                       deadline: Duration = .seconds(30), cancellation: InferenceCancellation = .never,
                       decodeError: String? = nil) -> Result<(InferenceResult, String), InferenceFailure>? {
        let answers = Answers()
        let done = DispatchSemaphore(value: 0)
        core.infer(deadline: .now + deadline, cancellation: cancellation, decode: { () throws(RequestError) in
            if let decodeError { throw RequestError(decodeError) }
            return (input, tag)
        }, completion: { result in
            answers.append(result)
            done.signal()
        })
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        Thread.sleep(forTimeInterval: 0.01)
        XCTAssertEqual(answers.count, 1, "answered exactly once")
        return answers.first
    }

    private func failure(_ result: Result<(InferenceResult, String), InferenceFailure>?) -> InferenceFailure? {
        if case .failure(let failure)? = result { return failure }
        return nil
    }

    func testAnswersTheModelsLogitsAndTheDecodersContext() throws {
        let core = core()
        let input = clips(3)
        guard case .success(let (result, tag))? = infer(core, input, tag: "options") else { return XCTFail("no logits") }
        XCTAssertEqual(tag, "options")
        XCTAssertEqual(result.batches, 1)
        XCTAssertEqual(result.batchSize, 3)
        let expected = Self.loaded.model.logits(for: input.values, batch: 3)
        XCTAssertEqual(result.logits.count, expected.count)
        XCTAssertLessThanOrEqual(maxAbsDifference(result.logits, expected), 1e-5)
    }

    func testARequestLargerThanABatchIsAnsweredOnceFromSeveralBatches() throws {
        let core = core { $0.maxBatchSize = 2; $0.maxClipsPerRequest = 5 }
        guard case .success(let (result, _))? = infer(core, clips(5)) else { return XCTFail("no logits") }
        XCTAssertEqual(result.batches, 3)
        XCTAssertEqual(result.batchSize, 2)
        XCTAssertLessThanOrEqual(maxAbsDifference(result.logits, Self.loaded.model.logits(for: clips(5).values, batch: 5)), 1e-5)
    }

    func testRefusalsBeforeDecodingAreTyped() {
        let starting = core(ready: false)
        XCTAssertEqual(failure(infer(starting, clips(1))), .notReady)
        XCTAssertTrue(starting.lifecycle.transition(from: [.starting], to: .stopped))
        XCTAssertEqual(failure(infer(starting, clips(1))), .shuttingDown)
        let stopped = core()
        stopped.scheduler.stop()  // lifecycle still ready, the batcher no longer takes work
        XCTAssertEqual(failure(infer(stopped, clips(1))), .shuttingDown)
    }

    func testADecodingErrorIsInvalidInput() {
        XCTAssertEqual(failure(infer(core(), clips(1), decodeError: "missing field \"inputs\"")),
                       .invalidInput("missing field \"inputs\""))
    }

    func testNonFiniteLogitsAreInvalidInput() {
        // The decoders refuse non-finite numbers; the core still checks what comes out of the model.
        var input = clips(1)
        input.values[0] = .infinity
        guard case .invalidInput(let message)? = failure(infer(core(), input)) else { return XCTFail("not invalid input") }
        XCTAssertTrue(message.contains("non-finite logits"), message)
    }

    func testAPastDeadlineTimesOut() {
        XCTAssertEqual(failure(infer(core(), clips(1), deadline: .milliseconds(-1))), .timedOut)
    }

    /// A caller that has left is answered without its clips being computed.
    func testAGoneCallerIsCancelled() {
        let core = core { $0.maxQueueDelay = .milliseconds(200); $0.fixedQueueDelay = true }
        XCTAssertEqual(failure(infer(core, clips(1), cancellation: InferenceCancellation { true })), .cancelled)
        let text = String(decoding: core.metrics.exposition(), as: UTF8.self)
        XCTAssertTrue(text.contains("signbert_cancelled_clips_total 1"), text)
        XCTAssertFalse(text.contains("signbert_clips_total 1"), "the clip was computed")
    }

    func testAFullQueueIsOverloaded() {
        let core = core { $0.maxBatchSize = 4; $0.maxQueuedClips = 2; $0.maxQueueDelay = .seconds(2); $0.fixedQueueDelay = true }
        let first = DispatchSemaphore(value: 0)
        core.infer(deadline: .now + .seconds(30), cancellation: .never, decode: { () throws(RequestError) in (clips(2), ()) },
                   completion: { _ in first.signal() })
        XCTAssertEqual(failure(infer(core, clips(1))), .overloaded(queuedClipLimit: 2))
        core.scheduler.stop()  // a drain runs the queued request at once
        XCTAssertEqual(first.wait(timeout: .now() + 10), .success)
    }

    /// The model's statistics (Triton's extension) move with the core's answers: clips and batches counted once
    /// each, and the request's compute time equal to its batches' (it is alone in them).
    func testStatisticsCountARequestSplitOverBatches() throws {
        let core = core { $0.maxBatchSize = 2; $0.maxClipsPerRequest = 5 }
        let statistics = core.scheduler.statistics
        let before = Date().timeIntervalSince1970 * 1000
        guard case .success? = infer(core, clips(5)) else { return XCTFail("no logits") }
        let snapshot = statistics.snapshot
        XCTAssertEqual(snapshot.inferenceCount, 5)
        XCTAssertEqual(snapshot.executionCount, 3)
        XCTAssertEqual(snapshot.batches[2]?.computeInfer.count, 2)
        XCTAssertEqual(snapshot.batches[1]?.computeInfer.count, 1)
        XCTAssertEqual(Set(snapshot.batches.keys), [1, 2], "the warm-up passes are not executions")
        XCTAssertEqual(snapshot.success.count, 1)
        XCTAssertEqual(snapshot.fail.count, 0)
        XCTAssertEqual(snapshot.queue.count, 1)
        XCTAssertEqual(snapshot.computeInfer.count, 1)
        XCTAssertEqual(snapshot.computeInfer.ns, snapshot.batches.values.map(\.computeInfer.ns).reduce(0, +))
        XCTAssertEqual(snapshot.computeInput.ns, snapshot.batches.values.map(\.computeInput.ns).reduce(0, +))
        XCTAssertEqual(snapshot.computeOutput.ns, snapshot.batches.values.map(\.computeOutput.ns).reduce(0, +))
        XCTAssertGreaterThan(snapshot.computeInfer.ns, 0)
        // The request's time in the core holds its queue wait and all three batches' compute.
        XCTAssertGreaterThanOrEqual(snapshot.success.ns,
                                    snapshot.queue.ns + snapshot.computeInput.ns + snapshot.computeInfer.ns + snapshot.computeOutput.ns)
        XCTAssertGreaterThanOrEqual(Double(snapshot.lastInference), before.rounded(.down))

        guard case .success? = infer(core, clips(1)) else { return XCTFail("no logits") }
        XCTAssertEqual(statistics.snapshot.inferenceCount, 6)
        XCTAssertEqual(statistics.snapshot.executionCount, 4)
        XCTAssertEqual(statistics.snapshot.success.count, 2)
        XCTAssertEqual(statistics.snapshot.batches[1]?.computeInfer.count, 2)
    }

    /// Every way a request fails counts once as a failure, and nothing as an inference.
    func testStatisticsCountEveryFailure() {
        let starting = core(ready: false)
        XCTAssertEqual(failure(infer(starting, clips(1))), .notReady)
        XCTAssertEqual(starting.scheduler.statistics.snapshot.fail.count, 1)

        let core = core()
        let statistics = core.scheduler.statistics
        XCTAssertNotNil(failure(infer(core, clips(1), decodeError: "bad")))
        XCTAssertEqual(failure(infer(core, clips(1), deadline: .milliseconds(-1))), .timedOut)
        XCTAssertEqual(failure(infer(core, clips(1), cancellation: InferenceCancellation { true })), .cancelled)
        var input = clips(1)
        input.values[0] = .infinity
        XCTAssertNotNil(failure(infer(core, input)))  // computed, then refused: an execution, not an inference
        let snapshot = statistics.snapshot
        XCTAssertEqual(snapshot.fail.count, 4)
        XCTAssertEqual(snapshot.success.count, 0)
        XCTAssertEqual(snapshot.inferenceCount, 0)
        XCTAssertEqual(snapshot.executionCount, 1)
        XCTAssertEqual(snapshot.queue.count, 0)
        XCTAssertGreaterThan(snapshot.lastInference, 0)
    }
}

/// Answers gathered from the compute thread.
private final class Answers: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Result<(InferenceResult, String), InferenceFailure>] = []

    func append(_ item: Result<(InferenceResult, String), InferenceFailure>) { lock.withLock { items.append(item) } }
    var count: Int { lock.withLock { items.count } }
    var first: Result<(InferenceResult, String), InferenceFailure>? { lock.withLock { items.first } }
}
