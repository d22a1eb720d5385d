import Foundation
import HTTPServer
@testable import InferenceService
import SwiftProtobuf
import XCTest

/// `inference.GRPCInferenceService` through the server's own responder chain (the one its listeners call), with
/// the PyTorch fixture model: messages, statuses in trailers, the same logits as V2 REST. Real HTTP/2 clients
/// (tritonclient, a grpcio-tools stub) run against a live server in tools/grpc_test.sh.
final class GRPCServiceTests: LiveInferenceTestCase {
    typealias Answer = GRPCTestAnswer

    private func fp32Request(_ clips: [[[Double]]], raw: Bool, type: String = "FP32") -> Inference_ModelInferRequest {
        let values = clips.flatMap { $0.flatMap { $0 } }
        return Inference_ModelInferRequest.with { call in
            call.modelName = "signbert"
            call.id = "r1"
            call.inputs = [.with {
                $0.name = "keypoints"
                $0.datatype = type
                $0.shape = [Int64(clips.count), Int64(clips[0].count), Int64(clips[0][0].count)]
                if !raw { $0.contents.fp32Contents = values.map(Float.init) }
            }]
            if raw {
                var bytes: [UInt8] = []
                for value in values {
                    if type == "FP16" {
                        withUnsafeBytes(of: Float16(value).bitPattern.littleEndian) { bytes += $0 }
                    } else {
                        withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { bytes += $0 }
                    }
                }
                call.rawInputContents = [Data(bytes)]
            }
        }
    }

    private func logits(_ answer: Answer) throws -> [Float] {
        let response = try Inference_ModelInferResponse(serializedBytes: try XCTUnwrap(answer.messages().first))
        let index = try XCTUnwrap(response.outputs.firstIndex { $0.name == "logits" })
        let raw = [UInt8](response.rawOutputContents[index])
        return stride(from: 0, to: raw.count, by: 4).map { offset in
            Float(bitPattern: UInt32(raw[offset]) | UInt32(raw[offset + 1]) << 8 | UInt32(raw[offset + 2]) << 16 | UInt32(raw[offset + 3]) << 24)
        }
    }

    func testHealthAndMetadata() throws {
        let (server, _) = try start()
        let live = try grpcCall(server, "ServerLive", [Inference_ServerLiveRequest()])
        XCTAssertEqual(live.status, 0)
        XCTAssertEqual(live.response.headers["Content-Type"], "application/grpc")
        XCTAssertNotNil(live.response.headers["X-Request-Id"])
        XCTAssertTrue(try Inference_ServerLiveResponse(serializedBytes: XCTUnwrap(live.messages().first)).live)
        let ready = try grpcCall(server, "ServerReady", [Inference_ServerReadyRequest()])
        XCTAssertTrue(try Inference_ServerReadyResponse(serializedBytes: XCTUnwrap(ready.messages().first)).ready)
        let model = try grpcCall(server, "ModelReady", [Inference_ModelReadyRequest.with { $0.name = "signbert"; $0.version = "1" }])
        XCTAssertTrue(try Inference_ModelReadyResponse(serializedBytes: XCTUnwrap(model.messages().first)).ready)
        // A model or version not served: OK and not ready, as Triton answers (tritonclient returns False).
        for (name, version) in [("other", ""), ("signbert", "7")] {
            let missing = try grpcCall(server, "ModelReady", [Inference_ModelReadyRequest.with { $0.name = name; $0.version = version }])
            XCTAssertEqual(missing.status, 0, "\(name) \(version)")
            XCTAssertFalse(try Inference_ModelReadyResponse(serializedBytes: XCTUnwrap(missing.messages().first)).ready)
        }
        let metadata = try grpcCall(server, "ModelMetadata", [Inference_ModelMetadataRequest.with { $0.name = "signbert" }])
        let decoded = try Inference_ModelMetadataResponse(serializedBytes: XCTUnwrap(metadata.messages().first))
        let config = Self.loaded.config
        XCTAssertEqual(decoded.inputs.map(\.name), ["keypoints"])
        XCTAssertEqual(decoded.inputs.first?.shape, [-1, -1, Int64(config.numJoints), Int64(config.numCoords)])
        XCTAssertEqual(decoded.outputs.map(\.name), ["logits", "probabilities"])
        XCTAssertEqual(decoded.outputs.first?.shape, [-1, Int64(config.numClasses)])
        let serverMetadata = try grpcCall(server, "ServerMetadata", [Inference_ServerMetadataRequest()])
        XCTAssertEqual(try Inference_ServerMetadataResponse(serializedBytes: XCTUnwrap(serverMetadata.messages().first)).name, "signbert")
    }

    func testModelInferMatchesPyTorchAndV2RESTForContentsRawAndFP16() throws {
        let (server, client) = try start()
        let (clips, expected, tolerance) = try Self.pytorchCase()
        let features = clips[0][0].count
        let body = try JSONSerialization.data(withJSONObject: ["inputs": [[
            "name": "keypoints", "datatype": "FP32", "shape": [clips.count, clips[0].count, features],
            "data": clips.flatMap { $0.flatMap { $0 } },
        ]]])
        let rest = try client.post("/v2/models/signbert/infer", json: body)
        XCTAssertEqual(rest.status, 200)
        let restLogits = ((rest.json?["outputs"] as? [[String: Any]])?.first { $0["name"] as? String == "logits" }?["data"] as? [Double] ?? [])
            .map(Float.init)
        XCTAssertEqual(restLogits.count, expected.count)
        for raw in [false, true] {
            let answer = try grpcCall(server, "ModelInfer", [fp32Request(clips, raw: raw)])
            XCTAssertEqual(answer.status, 0, answer.message)
            let logits = try logits(answer)
            XCTAssertEqual(logits, restLogits, "gRPC (raw: \(raw)) and V2 REST give the same float32 logits")
            for (got, want) in zip(logits, expected) { XCTAssertEqual(got, want, accuracy: tolerance) }
        }
        // FP16 raw contents: the clip rounded to half precision, as V2 REST's FP16 binary input is.
        let half = try grpcCall(server, "ModelInfer", [fp32Request(clips, raw: true, type: "FP16")])
        XCTAssertEqual(half.status, 0, half.message)
        let halfLogits = try logits(half)
        XCTAssertEqual(halfLogits.count, expected.count)
        for (got, want) in zip(halfLogits, expected) { XCTAssertEqual(got, want, accuracy: 0.05) }
    }

    func testErrorsArriveAsTheirStatusCodes() throws {
        let (server, _) = try start()
        let (clips, _, _) = try Self.pytorchCase()
        var wrongShape = fp32Request(clips, raw: true)
        wrongShape.inputs[0].shape = [1, 2, 3]
        let shape = try grpcCall(server, "ModelInfer", [wrongShape])
        XCTAssertEqual(shape.status, GRPCStatus.Code.invalidArgument.rawValue)
        XCTAssertTrue(shape.message.contains("shape"), shape.message)
        var unknown = fp32Request(clips, raw: true)
        unknown.modelName = "resnet"
        XCTAssertEqual(try grpcCall(server, "ModelInfer", [unknown]).status, GRPCStatus.Code.notFound.rawValue)
        XCTAssertEqual(try grpcCall(server, "ModelMetadata", [Inference_ModelMetadataRequest.with { $0.name = "resnet" }]).status,
                       GRPCStatus.Code.notFound.rawValue)
        XCTAssertEqual(try grpcCall(server, "SystemSharedMemoryStatus", [Inference_ServerLiveRequest()]).status, GRPCStatus.Code.unimplemented.rawValue)
        // A deadline that has passed when the clips reach the batcher.
        let late = try grpcCall(server, "ModelInfer", [fp32Request(clips, raw: true)], headers: [("grpc-timeout", "1n")])
        XCTAssertEqual(late.status, GRPCStatus.Code.deadlineExceeded.rawValue, late.message)
        XCTAssertEqual(grpcCall(server, "ModelInfer", body: [0, 0, 0, 0, 9, 1]).status, GRPCStatus.Code.internal.rawValue)
        XCTAssertEqual(grpcCall(server, "ModelInfer", body: [0, 0, 0, 0, 2, 0xFF, 0xFF]).status, GRPCStatus.Code.invalidArgument.rawValue)
        // gRPC needs HTTP/2: over HTTP/1.1 the request is REST's, which has no such route.
        XCTAssertEqual(grpcCall(server, "ServerLive", body: [0, 0, 0, 0, 0], version: .http1_1).response.status, 404)
    }

    /// The HTTP/2 layer cancels a request whose stream the client reset (RST_STREAM): its clips are not computed
    /// and the call ends CANCELLED (what the access log and metrics record; the client is gone).
    func testAResetCallIsCancelledNotComputed() throws {
        let (server, _) = try start()
        let (clips, _, _) = try Self.pytorchCase()
        var body: [UInt8] = []
        GRPCMessageFraming.frame(try fp32Request(clips, raw: true).serializedBytes(), into: &body)
        let cancellation = RequestCancellation()
        cancellation.cancel()
        let answer = grpcCall(server, "ModelInfer", body: body, cancellation: cancellation)
        XCTAssertEqual(answer.status, GRPCStatus.Code.cancelled.rawValue, answer.message)
        XCTAssertTrue(answer.response.body.isEmpty)
        let metrics = String(decoding: server.metrics.exposition(), as: UTF8.self)
        XCTAssertTrue(metrics.contains("signbert_cancelled_clips_total \(clips.count)"), "the clips were dropped, not computed")
    }

    func testAPIKeyInAuthorizationMetadata() throws {
        let (server, _) = try start { service, _ in service.apiKeys = ["k1"] }
        let (clips, _, _) = try Self.pytorchCase()
        let request = fp32Request(clips, raw: true)
        XCTAssertEqual(try grpcCall(server, "ModelInfer", [request]).status, GRPCStatus.Code.unauthenticated.rawValue)
        XCTAssertEqual(try grpcCall(server, "ModelInfer", [request], headers: [("authorization", "Bearer k2")]).status,
                       GRPCStatus.Code.unauthenticated.rawValue)
        XCTAssertEqual(try grpcCall(server, "ModelInfer", [request], headers: [("authorization", "Bearer k1")]).status, 0)
        // From the head alone too, before any body is read.
        let head = HTTPRequest(method: "POST", target: "/inference.GRPCInferenceService/ModelStreamInfer", version: .http2,
                               headers: ["Content-Type": "application/grpc"])
        XCTAssertEqual(server.responder.admit(head)?.trailers?["grpc-status"], "16")
        // Health stays open, as REST's GET routes do.
        XCTAssertEqual(try grpcCall(server, "ServerLive", [Inference_ServerLiveRequest()]).status, 0)
    }

    func testStreamAnswersEachRequestInOrderAndKeepsGoingAfterAnError() throws {
        let (server, _) = try start()
        let (clips, expected, tolerance) = try Self.pytorchCase()
        var bad = fp32Request(clips, raw: true)
        bad.inputs[0].datatype = "INT8"
        bad.id = "bad"
        var second = fp32Request(clips, raw: false)
        second.id = "r2"
        let answer = try grpcCall(server, "ModelStreamInfer", [fp32Request(clips, raw: true), bad, second])
        XCTAssertEqual(answer.status, 0)
        let responses = try answer.messages().map { try Inference_ModelStreamInferResponse(serializedBytes: $0) }
        XCTAssertEqual(responses.map(\.inferResponse.id), ["r1", "bad", "r2"])
        XCTAssertEqual(responses.map { $0.errorMessage.isEmpty }, [true, false, true])
        XCTAssertTrue(responses[1].errorMessage.contains("INT8"), responses[1].errorMessage)
        XCTAssertEqual(responses[2].inferResponse.outputs.count, 2)
        let raw = [UInt8](responses[0].inferResponse.rawOutputContents[0])
        XCTAssertEqual(raw.count, expected.count * 4)
        let first = Float(bitPattern: UInt32(raw[0]) | UInt32(raw[1]) << 8 | UInt32(raw[2]) << 16 | UInt32(raw[3]) << 24)
        XCTAssertEqual(first, expected[0], accuracy: tolerance)
    }
}
