import Foundation
@testable import InferenceService
import XCTest

/// The statistics recorder and its two renderings (Triton's JSON and protobuf), with chosen durations: every
/// count and sum is known exactly.
final class ModelStatisticsTests: XCTestCase {
    func testCountsAndDurationsAddUpExactly() {
        let statistics = ModelStatistics()
        XCTAssertEqual(statistics.snapshot, ModelStatistics.Snapshot())
        statistics.recordExecution(batchSize: 2, computeInput: .microseconds(3), computeInfer: .milliseconds(5), computeOutput: .nanoseconds(700))
        statistics.recordExecution(batchSize: 1, computeInput: .microseconds(1), computeInfer: .milliseconds(2), computeOutput: .nanoseconds(300))
        statistics.recordExecution(batchSize: 2, computeInput: .microseconds(4), computeInfer: .milliseconds(6), computeOutput: .nanoseconds(800))
        let first = Date(timeIntervalSince1970: 1_700_000_000.123_9)
        statistics.recordSuccess(clips: 3, duration: .milliseconds(9), timing: InferenceTiming(
            queue: .microseconds(10), computeInput: .microseconds(4), computeInfer: .milliseconds(7), computeOutput: .nanoseconds(1000)), at: first)
        statistics.recordSuccess(clips: 2, duration: .milliseconds(8), timing: InferenceTiming(
            queue: .microseconds(20), computeInput: .microseconds(4), computeInfer: .milliseconds(6), computeOutput: .nanoseconds(800)),
            at: first.addingTimeInterval(-5))  // answered out of order: last_inference keeps the latest
        statistics.recordFailure(duration: .microseconds(50), at: first.addingTimeInterval(-1))

        let snapshot = statistics.snapshot
        XCTAssertEqual(snapshot.inferenceCount, 5)
        XCTAssertEqual(snapshot.executionCount, 3)
        XCTAssertEqual(snapshot.lastInference, 1_700_000_000_123)
        XCTAssertEqual(snapshot.success, .init(count: 2, ns: 17_000_000))
        XCTAssertEqual(snapshot.fail, .init(count: 1, ns: 50_000))
        XCTAssertEqual(snapshot.queue, .init(count: 2, ns: 30_000))
        XCTAssertEqual(snapshot.computeInput, .init(count: 2, ns: 8_000))
        XCTAssertEqual(snapshot.computeInfer, .init(count: 2, ns: 13_000_000))
        XCTAssertEqual(snapshot.computeOutput, .init(count: 2, ns: 1_800))
        XCTAssertEqual(snapshot.batches[2], .init(computeInput: .init(count: 2, ns: 7_000), computeInfer: .init(count: 2, ns: 11_000_000),
                                                  computeOutput: .init(count: 2, ns: 1_500)))
        XCTAssertEqual(snapshot.batches[1]?.computeInfer, .init(count: 1, ns: 2_000_000))
        XCTAssertEqual(Set(snapshot.batches.keys), [1, 2])
    }

    func testTheJSONIsTritonsModelStatisticsResponse() throws {
        let statistics = ModelStatistics()
        statistics.recordExecution(batchSize: 4, computeInput: .nanoseconds(11), computeInfer: .nanoseconds(22), computeOutput: .nanoseconds(33))
        statistics.recordSuccess(clips: 4, duration: .nanoseconds(100), timing: InferenceTiming(
            queue: .nanoseconds(5), computeInput: .nanoseconds(11), computeInfer: .nanoseconds(22), computeOutput: .nanoseconds(33)),
            at: Date(timeIntervalSince1970: 2))
        let bytes = ModelStatistics.Snapshot.json([("gestures", "1", statistics.snapshot)])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let model = try XCTUnwrap((object["model_stats"] as? [[String: Any]])?.first)
        XCTAssertEqual(model["name"] as? String, "gestures")
        XCTAssertEqual(model["version"] as? String, "1")
        XCTAssertEqual(model["last_inference"] as? Int, 2000)
        XCTAssertEqual(model["inference_count"] as? Int, 4)
        XCTAssertEqual(model["execution_count"] as? Int, 1)
        let stats = try XCTUnwrap(model["inference_stats"] as? [String: [String: Int]])
        XCTAssertEqual(stats["success"], ["count": 1, "ns": 100])
        XCTAssertEqual(stats["fail"], ["count": 0, "ns": 0])
        XCTAssertEqual(stats["queue"], ["count": 1, "ns": 5])
        XCTAssertEqual(stats["compute_input"], ["count": 1, "ns": 11])
        XCTAssertEqual(stats["compute_infer"], ["count": 1, "ns": 22])
        XCTAssertEqual(stats["compute_output"], ["count": 1, "ns": 33])
        XCTAssertEqual(stats["cache_hit"], ["count": 0, "ns": 0])
        let batch = try XCTUnwrap((model["batch_stats"] as? [[String: Any]])?.first)
        XCTAssertEqual(batch["batch_size"] as? Int, 4)
        XCTAssertEqual(batch["compute_infer"] as? [String: Int], ["count": 1, "ns": 22])

        // The protobuf message carries the same numbers.
        let message = statistics.snapshot.message(name: "gestures", version: "1")
        XCTAssertEqual(message.inferenceCount, 4)
        XCTAssertEqual(message.lastInference, 2000)
        XCTAssertEqual(message.inferenceStats.success.ns, 100)
        XCTAssertEqual(message.inferenceStats.computeOutput.count, 1)
        XCTAssertEqual(message.batchStats.map(\.batchSize), [4])
        XCTAssertEqual(message.batchStats.first?.computeInput.ns, 11)
    }

    func testManyThreadsRecordWithoutLosingCounts() {
        let statistics = ModelStatistics()
        DispatchQueue.concurrentPerform(iterations: 400) { index in
            statistics.recordSuccess(clips: 2, duration: .nanoseconds(10), timing: InferenceTiming())
            statistics.recordExecution(batchSize: 1 + index % 4, computeInput: .zero, computeInfer: .nanoseconds(1), computeOutput: .zero)
        }
        let snapshot = statistics.snapshot
        XCTAssertEqual(snapshot.inferenceCount, 800)
        XCTAssertEqual(snapshot.success, .init(count: 400, ns: 4000))
        XCTAssertEqual(snapshot.executionCount, 400)
        XCTAssertEqual(snapshot.batches.values.map(\.computeInfer.count).reduce(0, +), 400)
    }
}
