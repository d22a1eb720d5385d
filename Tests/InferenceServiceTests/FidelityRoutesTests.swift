import Foundation
import InferenceService
import SignBERTRuntime
import XCTest

/// Training runs as the training repo leaves them (SignBERTRuntimeTests/Fixtures/fidelity/, written by
/// tools/make_fidelity_fixtures.py), served: a v1 run (cf4dfbb: mid-hip centre, D = 64) and a v2 run trained
/// on data.num_frames 16 (99e759a: neck centre). Every route and clip form answers PyTorch's logits for what
/// the training pipeline made of the clip; a request of more clips than a batch is answered whole.
final class FidelityRoutesTests: LiveInferenceTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../SignBERTRuntimeTests/Fixtures/fidelity").standardized
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    struct Run {
        let loaded: LoadedModel
        let landmarksBody: Data
        let landmarkLogits: [Float]
        let arrays: [Any]
        let arrayLogits: [Float]
        let pose: Data
        let poseLogits: [Float]
    }

    static func run(_ name: String) throws -> Run {
        let folder = root.appendingPathComponent(name)
        let loaded = try ModelLoader.load(ModelSource(checkpoint: folder.appendingPathComponent("training_run/checkpoint_best.pth")))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("case.json"))) as? [String: Any])
        func logits(_ key: String) throws -> [Float] {
            try XCTUnwrap((object[key] as? [String: Any])?["logits"] as? [Double]).map(Float.init)
        }
        let arrays = try XCTUnwrap(((object["arrays"] as? [String: Any])?["request"] as? [String: Any])?["inputs"] as? [Any])
        let posePath = try XCTUnwrap((object["pose"] as? [String: Any])?["path"] as? String)
        return Run(loaded: loaded, landmarksBody: try Data(contentsOf: root.appendingPathComponent("landmarks-request.json")),
                   landmarkLogits: try logits("landmarks"), arrays: arrays, arrayLogits: try logits("arrays"),
                   pose: try Data(contentsOf: repositoryRoot.appendingPathComponent(posePath)), poseLogits: try logits("pose"))
    }

    private func logits(_ response: TestHTTPClient.Response, file: StaticString = #filePath, line: UInt = #line) throws -> [Float] {
        let predictions = try XCTUnwrap(response.json?["predictions"] as? [[String: Any]], String(decoding: response.body, as: UTF8.self),
                                        file: file, line: line)
        return try predictions.flatMap { try XCTUnwrap($0["logits"] as? [Double]).map(Float.init) }
    }

    private func assertClose(_ actual: [Float], _ expected: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        XCTAssertLessThanOrEqual(maxAbsDifference(actual, expected), 1e-4, what, file: file, line: line)
    }

    func testEveryRouteAndClipFormAnswersAsTheTrainingPipeline() throws {
        for name in ["v1-run", "v2-run-d16"] {
            let run = try Self.run(name)
            let (_, client) = try start(model: run.loaded) { service, _ in service.maxBatchSize = 2 }
            let json = { (object: Any) throws -> Data in try JSONSerialization.data(withJSONObject: object) }
            // Landmarks (steps 1-5) and feature arrays (step 5) through /predict and the instances routes.
            assertClose(try logits(client.post("/predict", json: run.landmarksBody)), run.landmarkLogits, "\(name) landmarks")
            let arrays = try logits(client.post("/predict", json: json(["inputs": run.arrays, "return_logits": true])))
            assertClose(arrays, run.arrayLogits, "\(name) arrays")
            assertClose(try logits(client.post("/v1/models/signbert:predict",
                                               json: json(["instances": run.arrays, "parameters": ["return_logits": true]]))),
                         run.arrayLogits, "\(name) instances")
            // A .pose body.
            let pose = try client.send("POST", "/predict?return_logits=true", headers: ["Content-Type": "application/x-pose"], body: run.pose)
            assertClose(try logits(pose), run.poseLogits, "\(name) .pose")
            // V2 infer: one tensor of equal-length clips, here the first array clip (n < D).
            let first = try XCTUnwrap(run.arrays.first as? [[[Double]]])
            let v2 = try client.post("/v2/models/signbert/infer", json: json([
                "inputs": [["name": "keypoints", "shape": [1, first.count, 27, 3], "datatype": "FP32",
                            "data": first.flatMap { $0.flatMap { $0 } }]], "outputs": [["name": "logits"]]]))
            let output = try XCTUnwrap((v2.json?["outputs"] as? [[String: Any]])?.first?["data"] as? [Double],
                                       String(decoding: v2.body, as: UTF8.self))
            assertClose(output.map(Float.init), Array(run.arrayLogits[0..<9]), "\(name) V2 infer")
            // GET / says which preprocessing and clip length, and why.
            let preparation = try XCTUnwrap(client.get("/").json?["clip_preparation"] as? [String: Any])
            XCTAssertEqual(preparation["frames"] as? Int, run.loaded.preparation.frames)
            XCTAssertEqual(preparation["preprocessing"] as? String, run.loaded.preparation.centre.rawValue)
            XCTAssertEqual(preparation["frames_source"] as? String, "data.num_frames in config.yaml")
            // "exact" refuses a clip whose length is not D.
            let exact = try client.post("/predict", json: json(["inputs": [first], "frames": "exact"]))
            XCTAssertEqual(exact.status, 400)
            XCTAssertTrue(String(decoding: exact.body, as: UTF8.self).contains("must have exactly \(run.loaded.preparation.frames)"))
        }
    }

    /// A v2 server at its default limits (2 clips per batch on 2 cores) takes a 40-clip request, computes it
    /// in several batches and answers once, each clip with its own logits.
    func testARequestOfMoreClipsThanABatchIsAnsweredWhole() throws {
        let run = try Self.run("v2-run-d16")
        let recommended = ServingLimits.recommended(for: SignBERTConfig.v2Defaults, cores: 2)
        XCTAssertEqual(recommended.maxBatchSize, 2)
        let (_, client) = try start(model: run.loaded) { service, _ in
            service.maxBatchSize = recommended.maxBatchSize
            service.maxQueuedClips = recommended.maxQueuedClips
        }
        // 40 clips: the four array clips ten times over.
        let clips = (0..<10).flatMap { _ in run.arrays }
        let response = try client.post("/predict", json: JSONSerialization.data(withJSONObject: ["inputs": clips, "return_logits": true]))
        XCTAssertEqual(response.status, 200, String(decoding: response.body, as: UTF8.self))
        let answer = try logits(response)
        XCTAssertEqual(answer.count, 40 * 9)
        assertClose(answer, (0..<10).flatMap { _ in run.arrayLogits }, "40 clips")
        XCTAssertEqual(response.headers["x-batch-count"], "20")
        XCTAssertEqual(response.headers["x-batch-size"], "2")
        // More than --max-clips-per-request is refused with a message naming the limit.
        let (_, limited) = try start(model: run.loaded) { service, _ in
            service.maxBatchSize = 2
            service.maxClipsPerRequest = 3
        }
        let refused = try limited.post("/predict", json: JSONSerialization.data(withJSONObject: ["inputs": Array(clips[0..<4])]))
        XCTAssertEqual(refused.status, 400)
        XCTAssertTrue(String(decoding: refused.body, as: UTF8.self).contains("at most 3 are accepted per request (max clips per request)"))
    }
}
