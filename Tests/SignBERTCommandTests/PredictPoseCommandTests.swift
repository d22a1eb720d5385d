import Foundation
import XCTest

/// `signbert predict --pose` and the landmark-form request file as processes, with the demo model: the answer
/// equals that for the model input numpy computed from the same landmarks (Fixtures/preprocess/, written by
/// tools/make_preprocess_fixtures.py), sent as a preprocessed [64][27][3] clip.
final class PredictPoseCommandTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardized
    static let demoModel = repositoryRoot.appendingPathComponent("models/demo-gestures").path
    static let fixtures = CommandFixtures.root.appendingPathComponent("preprocess")

    /// The numpy model input of the fixture entry `name` (in `file`, under `key`).
    static func expectedInput(_ file: String, _ key: String, _ name: String) throws -> [Double] {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent(file))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entries = try XCTUnwrap(object[key] as? [[String: Any]])
        let entry = try XCTUnwrap(entries.first { $0["name"] as? String == name }, "\(name) not in \(file)")
        return try XCTUnwrap(entry["expected"] as? [Double])
    }

    /// The demo model's logits for a preprocessed clip, through `predict --input`.
    static func logits(forModelInput values: [Double], scratch: TemporaryDirectory) throws -> [Float] {
        let clip = (0..<64).map { t in (0..<27).map { j in Array(values[(t * 27 + j) * 3..<(t * 27 + j) * 3 + 3]) } }
        let request = try scratch.write("preprocessed.json", JSONSerialization.data(
            withJSONObject: ["inputs": [clip], "return_logits": true]))
        let result = try SignBERTProcess.run(["predict", "--model", Self.demoModel, "--input", request.path])
        XCTAssertEqual(result.status, 0, result.summary)
        return try CommandFixtures.logits(fromPredictionJSON: result.stdout)
    }

    /// `predict --pose FILE` as a user types it from the repository's root: the JSON answer, with the logits of the
    /// model input numpy computed from pose-format's reading of the same file (within 1e-3).
    static func assertPredictsLikeNumpy(posePath: String, fixture: String, name: String, topLabel: String? = nil,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try SignBERTProcess.run(["predict", "--model", "models/demo-gestures", "--pose", posePath,
                                              "--return-logits", "--top-k", "2"],
                                             currentDirectory: Self.repositoryRoot)
        XCTAssertEqual(result.status, 0, result.summary, file: file, line: line)
        XCTAssertEqual(result.stderrText, "", file: file, line: line)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let prediction = try XCTUnwrap((object["predictions"] as? [[String: Any]])?.first)
        XCTAssertEqual((prediction["top_k"] as? [Any])?.count, 2, file: file, line: line)
        if let topLabel { XCTAssertEqual(prediction["label"] as? String, topLabel, file: file, line: line) }

        let scratch = try TemporaryDirectory()
        let expected = try Self.logits(forModelInput: Self.expectedInput(fixture, "files", name), scratch: scratch)
        let actual = try CommandFixtures.logits(fromPredictionJSON: result.stdout)
        XCTAssertEqual(actual.count, 8, file: file, line: line)
        XCTAssertLessThanOrEqual(maxAbsDifference(actual, expected), 1e-3, file: file, line: line)
    }

    /// examples/wave.pose (tools/make_pose_recordings.py: a synthetic wave as a v0.1 MediaPipe recording) is a wave.
    func testPredictOnTheExamplePoseFile() throws {
        try Self.assertPredictsLikeNumpy(posePath: "examples/wave.pose", fixture: "pose-files.json", name: "wave.pose",
                                    topLabel: "wave")
    }

    func testPredictOnTheLandmarkExample() throws {
        let example = Self.repositoryRoot.appendingPathComponent("examples/holistic-request.json")
        var body = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: example)) as? [String: Any])
        body["return_logits"] = true
        let scratch = try TemporaryDirectory()
        let request = try scratch.write("holistic.json", JSONSerialization.data(withJSONObject: body))
        let result = try SignBERTProcess.run(["predict", "--model", Self.demoModel, "--input", request.path])
        XCTAssertEqual(result.status, 0, result.summary)
        let expected = try Self.logits(forModelInput: Self.expectedInput("holistic-clips.json", "cases",
                                                               "examples/holistic-request.json"), scratch: scratch)
        XCTAssertLessThanOrEqual(maxAbsDifference(try CommandFixtures.logits(fromPredictionJSON: result.stdout), expected), 1e-3)
    }

    func testMalformedPoseFileIsOneErrorLine() throws {
        let scratch = try TemporaryDirectory()
        let bad = try scratch.write("bad.pose", Data([0xCD, 0xCC, 0xCC, 0x3D, 1, 2]))  // version 0.1, then cut
        assertOneErrorLine(try SignBERTProcess.run(["predict", "--model", Self.demoModel, "--pose", bad.path]),
                           mentioning: ["the .pose body", "truncated"], "truncated .pose")
        let both = try SignBERTProcess.run(["predict", "--model", Self.demoModel, "--pose", bad.path, "--input", bad.path])
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderrText.contains("exactly one of --input and --pose"), both.summary)
    }
}
