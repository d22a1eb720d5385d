import Foundation
import XCTest

/// The fidelity training runs (SignBERTRuntimeTests/Fixtures/fidelity/: a v1 run, mid-hip, D = 64; a v2 run
/// trained on data.num_frames 16, neck) through the command line: `predict` on landmarks, arrays and a .pose
/// file, and a `convert`ed model directory, all with PyTorch's logits; `inspect` says which preprocessing.
final class FidelityCommandTests: XCTestCase {
    static let fidelity = CommandFixtures.root.appendingPathComponent("fidelity")
    static let repository = CommandFixtures.root.appendingPathComponent("../../..").standardized

    struct Run {
        let checkpoint: URL
        let landmarkLogits: [Float]
        let arraysBody: Data
        let arrayLogits: [Float]
        let pose: URL
        let poseLogits: [Float]
        let preprocessing: String
        let clipFrames: Int
    }

    static func run(_ name: String) throws -> Run {
        let folder = fidelity.appendingPathComponent(name)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("case.json"))) as? [String: Any])
        func logits(_ key: String) throws -> [Float] { try XCTUnwrap((object[key] as? [String: Any])?["logits"] as? [Double]).map(Float.init) }
        let arrays = try XCTUnwrap((object["arrays"] as? [String: Any])?["request"])
        return Run(checkpoint: folder.appendingPathComponent("training_run/checkpoint_best.pth"),
                   landmarkLogits: try logits("landmarks"), arraysBody: try JSONSerialization.data(withJSONObject: arrays),
                   arrayLogits: try logits("arrays"),
                   pose: repository.appendingPathComponent(try XCTUnwrap((object["pose"] as? [String: Any])?["path"] as? String)),
                   poseLogits: try logits("pose"), preprocessing: try XCTUnwrap(object["preprocessing"] as? String),
                   clipFrames: try XCTUnwrap(object["clip_frames"] as? Int))
    }

    private func predict(_ model: [String], _ input: [String], file: StaticString = #filePath, line: UInt = #line) throws -> [Float] {
        let result = try SignBERTProcess.run(["predict"] + model + input + ["--threads", "1"])
        XCTAssertEqual(result.status, 0, result.summary, file: file, line: line)
        return try CommandFixtures.logits(fromPredictionJSON: result.stdout)
    }

    func testPredictAndAConvertedDirectoryAnswerAsTheTrainingPipeline() throws {
        let scratch = try TemporaryDirectory()
        for name in ["v1-run", "v2-run-d16"] {
            let run = try Self.run(name)
            let arrays = try scratch.write("\(name)-arrays.json", run.arraysBody)
            let landmarks = Self.fidelity.appendingPathComponent("landmarks-request.json")
            let directory = scratch.file("\(name)-model")
            let converted = try SignBERTProcess.run(["convert", run.checkpoint.path, "--output", directory.path])
            XCTAssertEqual(converted.status, 0, converted.summary)
            let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("config.json"))) as? [String: Any])
            XCTAssertEqual(config["data_num_frames"] as? Int, run.clipFrames, name)
            XCTAssertEqual(config["preprocessing"] as? String, run.preprocessing, name)
            for model in [["--checkpoint", run.checkpoint.path], ["--model", directory.path]] {
                let what = "\(name) \(model[0])"
                XCTAssertLessThanOrEqual(maxAbsDifference(try predict(model, ["--input", landmarks.path]), run.landmarkLogits), 1e-4, what)
                XCTAssertLessThanOrEqual(maxAbsDifference(try predict(model, ["--input", arrays.path]), run.arrayLogits), 1e-4, what)
                XCTAssertLessThanOrEqual(maxAbsDifference(try predict(model, ["--pose", run.pose.path, "--return-logits"]), run.poseLogits),
                                         1e-4, what)
            }
            let inspect = try SignBERTProcess.run(["inspect", directory.path])
            XCTAssertTrue(inspect.stdoutText.contains("preprocess:   \(run.preprocessing)-centred landmarks"), inspect.stdoutText)
            XCTAssertTrue(inspect.stdoutText.contains("clip length:  \(run.clipFrames) frames (data_num_frames in config.json)"),
                          inspect.stdoutText)
        }
    }

    func testConvertRefusesANonEmptyDirectoryWithoutForce() throws {
        let scratch = try TemporaryDirectory()
        let run = try Self.run("v1-run")
        let output = scratch.file("taken")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        _ = try scratch.write("taken/notes.txt", Data("mine\n".utf8))
        let refused = try SignBERTProcess.run(["convert", run.checkpoint.path, "--output", output.path])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderrText.contains("is not empty") && refused.stderrText.contains("--force"), refused.stderrText)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.appendingPathComponent("model.safetensors").path))
        let forced = try SignBERTProcess.run(["convert", run.checkpoint.path, "--output", output.path, "--force"])
        XCTAssertEqual(forced.status, 0, forced.summary)
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("model.safetensors").path))
    }

    /// Without any config, `predict` warns on stderr that num_heads is assumed; `--preprocessing` chooses the
    /// other centre and `inspect` says so; a bad value is a one-line error.
    func testWarningsAndThePreprocessingFlag() throws {
        let scratch = try TemporaryDirectory()
        let run = try Self.run("v1-run")
        let alone = scratch.file("alone.pth")
        try FileManager.default.copyItem(at: run.checkpoint, to: alone)
        let arrays = try scratch.write("arrays.json", run.arraysBody)
        let result = try SignBERTProcess.run(["predict", "--checkpoint", alone.path, "--num-heads", "4", "--num-joints", "27",
                                              "--input", arrays.path])
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertEqual(result.stderrText, "", "num_heads and the joints given: nothing assumed")
        let assumed = try SignBERTProcess.run(["predict", "--checkpoint", alone.path, "--input", arrays.path])
        XCTAssertEqual(assumed.status, 0, assumed.summary)
        XCTAssertTrue(assumed.stderrText.hasPrefix("warning: assumed num_heads = 8"), assumed.stderrText)
        let inspect = try SignBERTProcess.run(["inspect", run.checkpoint.path, "--preprocessing", "neck"])
        XCTAssertTrue(inspect.stdoutText.contains("preprocess:   neck-centred landmarks, commit 99e759a (chosen with --preprocessing)"),
                      inspect.stdoutText)
        // The v2 run's yaml says normalize_skeleton: false, ignored with a warning; the flag sets it.
        let v2 = try Self.run("v2-run-d16")
        let ignored = try SignBERTProcess.run(["inspect", v2.checkpoint.path])
        XCTAssertTrue(ignored.stdoutText.contains("normalize_skeleton=true"), ignored.stdoutText)
        XCTAssertTrue(ignored.stdoutText.contains("warning:      config.yaml says model.normalize_skeleton: false, which is ignored"),
                      ignored.stdoutText)
        let overridden = try SignBERTProcess.run(["inspect", v2.checkpoint.path, "--normalize-skeleton", "false"])
        XCTAssertTrue(overridden.stdoutText.contains("normalize_skeleton=false"), overridden.stdoutText)
        XCTAssertFalse(overridden.stdoutText.contains("warning:"), overridden.stdoutText)
        let bad = try SignBERTProcess.run(["inspect", run.checkpoint.path, "--preprocessing", "hips"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderrText.contains("--preprocessing must be neck"), bad.stderrText)
    }
}
