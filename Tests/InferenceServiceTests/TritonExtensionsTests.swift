import Foundation
import HTTPServer
@testable import InferenceService
import SwiftProtobuf
import XCTest

/// Triton's model configuration and statistics extensions on a live server: REST through real sockets, gRPC
/// through the server's responder chain (real gRPC clients: tools/grpc_test.sh).
final class TritonExtensionsTests: LiveInferenceTestCase {
    private var joints: Int { Self.loaded.config.numJoints }
    private var coords: Int { Self.loaded.config.numCoords }

    private func grpc(_ server: InferenceServer, _ method: String, _ message: any SwiftProtobuf.Message) throws -> (status: Int?, message: [UInt8]?) {
        let answer = try grpcCall(server, method, [message])
        return (answer.status, try answer.messages().first)
    }

    func testTheModelConfigurationOverRESTAndGRPC() throws {
        let (server, client) = try start { service, _ in
            service.modelName = "gestures"
            service.maxBatchSize = 8
            service.maxQueueDelay = .milliseconds(3)
        }
        for path in ["/v2/models/gestures/config", "/v2/models/gestures/versions/1/config"] {
            let response = try client.get(path)
            XCTAssertEqual(response.status, 200, path)
            let config = try XCTUnwrap(response.json)
            XCTAssertEqual(config["name"] as? String, "gestures")
            XCTAssertEqual(config["backend"] as? String, "signbert")
            XCTAssertEqual(config["max_batch_size"] as? Int, 8)
            let input = try XCTUnwrap((config["input"] as? [[String: Any]])?.first)
            XCTAssertEqual(input["name"] as? String, "keypoints")
            XCTAssertEqual(input["data_type"] as? String, "TYPE_FP32")
            XCTAssertEqual(input["dims"] as? [Int], [-1, joints, coords], "the dims leave out the batch")
            let outputs = try XCTUnwrap(config["output"] as? [[String: Any]])
            XCTAssertEqual(outputs.map { $0["name"] as? String }, ["logits", "probabilities"])
            XCTAssertEqual(outputs.first?["dims"] as? [Int], [Self.loaded.config.numClasses])
            XCTAssertEqual((config["dynamic_batching"] as? [String: Any])?["max_queue_delay_microseconds"] as? Int, 3000)
            XCTAssertEqual(((config["version_policy"] as? [String: Any])?["latest"] as? [String: Int])?["num_versions"], 1)
            let parameters = try XCTUnwrap(config["parameters"] as? [String: [String: String]])
            XCTAssertEqual(parameters["frames"]?["string_value"], String(Self.loaded.preparation.frames))
        }
        XCTAssertEqual(try client.get("/v2/models/other/config").status, 404)
        XCTAssertEqual(try client.get("/v2/models/gestures/versions/2/config").status, 404)

        let answer = try grpc(server, "ModelConfig", Inference_ModelConfigRequest.with { $0.name = "gestures" })
        XCTAssertEqual(answer.status, 0)
        let config = try Inference_ModelConfigResponse(serializedBytes: XCTUnwrap(answer.message)).config
        XCTAssertEqual(config.name, "gestures")
        XCTAssertEqual(config.maxBatchSize, 8)
        XCTAssertEqual(config.input.first?.dims, [-1, Int64(joints), Int64(coords)])
        XCTAssertEqual(config.input.first?.dataType, .typeFp32)
        XCTAssertEqual(config.output.map(\.name), ["logits", "probabilities"])
        XCTAssertEqual(config.dynamicBatching.maxQueueDelayMicroseconds, 3000)
        XCTAssertEqual(config.instanceGroup.first?.kind, .cpu)
        XCTAssertEqual(config.parameters["max_queued_clips"]?.stringValue, "256")
        XCTAssertEqual(try grpc(server, "ModelConfig", Inference_ModelConfigRequest.with { $0.name = "other" }).status, 5)  // NOT_FOUND
    }

    /// Requests of every protocol count in the one model's statistics: clips as inferences, each request once.
    func testStatisticsCountTheRequestsOfEveryProtocol() throws {
        let (server, client) = try start()
        let (clips, _, _) = try Self.pytorchCase()
        func stats(_ path: String) throws -> [String: Any] {
            let response = try client.get(path)
            XCTAssertEqual(response.status, 200, path)
            let models = try XCTUnwrap(response.json?["model_stats"] as? [[String: Any]], path)
            XCTAssertEqual(models.count, 1, path)
            return try XCTUnwrap(models.first)
        }
        func count(_ model: [String: Any], _ key: String) -> Int? { (model["inference_stats"] as? [String: [String: Int]])?[key]?["count"] }
        let start = try stats("/v2/models/signbert/stats")
        XCTAssertEqual(start["name"] as? String, "signbert")
        XCTAssertEqual(start["version"] as? String, "1")
        XCTAssertEqual(start["inference_count"] as? Int, 0)
        XCTAssertEqual(start["last_inference"] as? Int, 0)

        let body = try JSONSerialization.data(withJSONObject: ["inputs": Array(clips.prefix(2))])
        XCTAssertEqual(try client.post("/predict", json: body).status, 200)
        let flat = clips[0].flatMap { $0 }
        let v2 = try JSONSerialization.data(withJSONObject: [
            "inputs": [["name": "keypoints", "shape": [1, clips[0].count, joints, coords], "datatype": "FP32", "data": flat]]])
        XCTAssertEqual(try client.post("/v2/models/signbert/infer", json: v2).status, 200)
        XCTAssertEqual(try client.post("/predict", json: Data("{\"inputs\": 3}".utf8)).status, 400)
        let infer = try grpc(server, "ModelInfer", Inference_ModelInferRequest.with { call in
            call.modelName = "signbert"
            call.inputs = [.with {
                $0.name = "keypoints"
                $0.datatype = "FP32"
                $0.shape = [1, Int64(clips[0].count), Int64(joints), Int64(coords)]
                $0.contents.fp32Contents = flat.map(Float.init)
            }]
        })
        XCTAssertEqual(infer.status, 0)

        for path in ["/v2/models/signbert/stats", "/v2/models/signbert/versions/1/stats", "/v2/models/stats"] {
            let model = try stats(path)
            XCTAssertEqual(model["inference_count"] as? Int, 4, path)  // 2 + 1 + 1 clips
            XCTAssertEqual(count(model, "success"), 3, path)
            XCTAssertEqual(count(model, "fail"), 1, path)
            XCTAssertEqual(count(model, "queue"), 3, path)
            let executions = try XCTUnwrap(model["execution_count"] as? Int)
            XCTAssertTrue((1...3).contains(executions), "\(executions) batches for 3 requests")
            let batches = try XCTUnwrap(model["batch_stats"] as? [[String: Any]])
            XCTAssertEqual(batches.compactMap { ($0["compute_infer"] as? [String: Int])?["count"] }.reduce(0, +), executions)
            let clipsRun = batches.compactMap { batch -> Int? in
                guard let size = batch["batch_size"] as? Int, let runs = (batch["compute_infer"] as? [String: Int])?["count"] else { return nil }
                return size * runs
            }
            XCTAssertEqual(clipsRun.reduce(0, +), 4, "every clip in one batch")
            XCTAssertGreaterThan(model["last_inference"] as? Int ?? 0, 1_700_000_000_000)
        }
        XCTAssertEqual(try client.get("/v2/models/other/stats").status, 404)
        XCTAssertEqual(try client.get("/v2/models/signbert/versions/3/stats").status, 404)

        let answer = try grpc(server, "ModelStatistics", Inference_ModelStatisticsRequest())
        XCTAssertEqual(answer.status, 0)
        let grpcStats = try Inference_ModelStatisticsResponse(serializedBytes: XCTUnwrap(answer.message)).modelStats
        XCTAssertEqual(grpcStats.map(\.name), ["signbert"])
        XCTAssertEqual(grpcStats.first?.inferenceCount, 4)
        XCTAssertEqual(grpcStats.first?.inferenceStats.success.count, 3)
        XCTAssertEqual(grpcStats.first?.inferenceStats.fail.count, 1)
        XCTAssertEqual(try grpc(server, "ModelStatistics", Inference_ModelStatisticsRequest.with { $0.name = "nope" }).status, 5)
    }
}
