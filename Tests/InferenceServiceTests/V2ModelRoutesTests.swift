import Foundation
import SignBERTRuntime
import XCTest

/// A SignBERT v2 training run served through every prediction route: the same logits everywhere, PyTorch's.
final class V2ModelRoutesTests: LiveInferenceTestCase {
    static let v2Fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../SignBERTRuntimeTests/Fixtures/parity/v2-training-run").standardized

    func testEveryRouteAnswersPyTorchsV2Logits() throws {
        let model = try ModelLoader.load(ModelSource(checkpoint: Self.v2Fixture.appendingPathComponent("training_run/checkpoint_best.pth")))
        XCTAssertEqual(model.config.variant.name, "signbert-v2")
        let (_, client) = try start(model: model) { service, _ in service.maxBatchSize = 4 }
        let fixture = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: Self.v2Fixture.appendingPathComponent("case.json"))) as? [String: Any])
        let inputs = try XCTUnwrap(fixture["inputs"] as? [String: Any])
        let shape = try XCTUnwrap(inputs["shape"] as? [Int])
        let values = try XCTUnwrap(inputs["values"] as? [Double])
        let expected = try XCTUnwrap((fixture["expected"] as? [String: Any])?["f32"] as? [[Double]]).flatMap { $0.map(Float.init) }
        let (b, t, v, c) = (shape[0], shape[1], shape[2], shape[3])
        let clips = (0..<b).map { i in (0..<t).map { f in (0..<v).map { j in Array(values[((i * t + f) * v + j) * c..<((i * t + f) * v + j) * c + c]) } } }

        func logits(_ response: TestHTTPClient.Response) throws -> [Float] {
            let predictions = try XCTUnwrap(response.json?["predictions"] as? [[String: Any]], String(decoding: response.body, as: UTF8.self))
            return try predictions.flatMap { try XCTUnwrap($0["logits"] as? [Double]).map(Float.init) }
        }
        func body(_ object: Any) throws -> Data { try JSONSerialization.data(withJSONObject: object) }
        let predict = try logits(client.post("/predict", json: body(["inputs": clips, "return_logits": true])))
        XCTAssertLessThanOrEqual(maxAbsDifference(predict, expected), 1e-4)
        XCTAssertEqual(predict.count, expected.count)
        XCTAssertEqual(try logits(client.post("/invocations", json: body(["inputs": clips, "return_logits": true]))), predict)
        XCTAssertEqual(try logits(client.post("/v1/models/signbert:predict",
                                              json: body(["instances": clips, "parameters": ["return_logits": true]]))), predict)
        let v2 = try client.post("/v2/models/signbert/infer", json: body([
            "inputs": [["name": "keypoints", "shape": shape, "datatype": "FP32", "data": values]], "outputs": [["name": "logits"]]]))
        let output = try XCTUnwrap((v2.json?["outputs"] as? [[String: Any]])?.first?["data"] as? [Double])
        XCTAssertEqual(output.map(Float.init), predict)
        let description = try XCTUnwrap(client.get("/").json)
        XCTAssertNotNil(description["gflop_per_clip"])
    }
}
