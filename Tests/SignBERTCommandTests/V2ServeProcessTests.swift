import Foundation
import XCTest

/// A SignBERT v2 training run through the binary: `inspect` names the variant and flags, `predict` and
/// `serve`'s /predict answer PyTorch's logits, and the same ones.
final class V2ServeProcessTests: XCTestCase {
    func testInspectShowsVariantFlagsAndCost() throws {
        let text = try SignBERTProcess.run(["inspect", CommandFixtures.v2TrainingRun.path])
        XCTAssertEqual(text.status, 0, text.summary)
        let output = String(decoding: text.stdout, as: UTF8.self)
        XCTAssertTrue(output.contains("SignBERT v2 (use_cls_token=true normalize_skeleton=true use_velocity=true use_bone=true)"), output)
        XCTAssertTrue(output.contains("217 tokens per clip"), output)  // 1 + 8 x 27
        XCTAssertTrue(output.contains("GFLOP per clip"), output)

        let json = try SignBERTProcess.run(["inspect", "--json", CommandFixtures.v2TrainingRun.path])
        XCTAssertEqual(json.status, 0, json.summary)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        let architecture = try XCTUnwrap(object["architecture"] as? [String: Any])
        XCTAssertEqual(architecture["name"] as? String, "signbert-v2")
        for flag in ["use_cls_token", "normalize_skeleton", "use_velocity", "use_bone"] {
            XCTAssertEqual(architecture[flag] as? Bool, true, flag)
        }
        XCTAssertEqual(architecture["tokens_per_clip"] as? Int, 217)
        XCTAssertGreaterThan(try XCTUnwrap(object["gflop_per_clip"] as? Double), 0)
    }

    func testPredictAndServeGiveThePyTorchLogits() throws {
        let fixture = try CommandFixtures.parityCase("v2-training-run")
        let expected = try XCTUnwrap(fixture.expected["f32"])
        let scratch = try TemporaryDirectory()
        let request = try scratch.write("request.json", fixture.requestBody(topK: 2))
        let predicted = try SignBERTProcess.run(["predict", "--checkpoint", CommandFixtures.v2TrainingRun.path, "--input", request.path])
        XCTAssertEqual(predicted.status, 0, predicted.summary)
        let predictLogits = try CommandFixtures.logits(fromPredictionJSON: predicted.stdout)
        XCTAssertLessThanOrEqual(maxAbsDifference(predictLogits, expected), fixture.tolerance)

        let server = try ServerProcess(["--checkpoint", CommandFixtures.v2TrainingRun.path, "--host", "127.0.0.1", "--port", "0",
                                        "--max-queue-delay-ms", "5"])
        defer { server.stop() }
        let port = try server.waitForPort()
        try server.waitUntilReady(port: port)
        let started = try XCTUnwrap(server.logLines.first { $0["message"] as? String == "started" }, server.log)
        XCTAssertTrue((started["architecture"] as? String)?.hasPrefix("signbert-v2 use_cls_token=true") == true, server.log)
        let client = RawHTTPClient(port: port)
        let response = try client.postJSON("/predict", fixture.requestBody(topK: 2))
        XCTAssertEqual(response.status, 200, response.text)
        let served = try CommandFixtures.logits(fromPredictionJSON: response.body)
        XCTAssertLessThanOrEqual(maxAbsDifference(served, expected), fixture.tolerance)
        // The server batches through the sharded engine, predict runs the batch whole: equal up to the
        // GEMMs' blocking for another row count.
        XCTAssertLessThanOrEqual(maxAbsDifference(served, predictLogits), 1e-5)
        let labels = try XCTUnwrap(response.json?["predictions"] as? [[String: Any]]).compactMap { $0["label"] as? String }
        XCTAssertEqual(labels.count, fixture.batch)
        XCTAssertTrue(labels.allSatisfy(fixture.labels.contains), "\(labels)")

        let description = try client.request("GET", "/")
        XCTAssertEqual(description.status, 200)
        let architecture = try XCTUnwrap(description.json?["architecture"] as? [String: Any])
        XCTAssertEqual(architecture["name"] as? String, "signbert-v2")
        XCTAssertEqual(architecture["use_bone"] as? Bool, true)
        XCTAssertNotNil(description.json?["gflop_per_clip"] as? Double)

        // A clip with the wrong joint count is a 4xx naming the shape, not a crash.
        let bad = try client.postJSON("/predict", Data("{\"inputs\": [[[[1, 2, 3]]]]}".utf8))
        XCTAssertEqual(bad.status, 400, bad.text)
        XCTAssertNotNil(bad.json?["error"] as? String, bad.text)
    }

    /// `convert` writes a v2 model directory (architecture signbert-v2 and the four flags in config.json)
    /// that `predict --model` loads to the same logits.
    func testConvertedModelDirectoryKeepsVariantAndFlags() throws {
        let fixture = try CommandFixtures.parityCase("v2-training-run")
        let scratch = try TemporaryDirectory()
        let output = scratch.file("v2-model")
        let converted = try SignBERTProcess.run(["convert", CommandFixtures.v2TrainingRun.path, "--output", output.path])
        XCTAssertEqual(converted.status, 0, converted.summary)
        let config = try XCTUnwrap(JSONSerialization.jsonObject(
            with: Data(contentsOf: output.appendingPathComponent("config.json"))) as? [String: Any])
        XCTAssertEqual(config["architecture"] as? String, "signbert-v2")
        XCTAssertEqual(config["use_cls_token"] as? Bool, true)
        let request = try scratch.write("request.json", fixture.requestBody())
        let predicted = try SignBERTProcess.run(["predict", "--model", output.path, "--input", request.path])
        XCTAssertEqual(predicted.status, 0, predicted.summary)
        let logits = try CommandFixtures.logits(fromPredictionJSON: predicted.stdout)
        XCTAssertLessThanOrEqual(maxAbsDifference(logits, try XCTUnwrap(fixture.expected["f32"])), fixture.tolerance)
    }
}
