import Foundation
import SignBERTRuntime
import XCTest

/// Broken and hostile model files: each fails with one clear line naming the problem.
final class ModelLoaderErrorTests: XCTestCase {
    private let broken = ParityCase.root.appendingPathComponent("broken")

    private func loadError(_ source: ModelSource, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try ModelLoader.load(source)
            XCTFail("loading should have failed", file: file, line: line)
            return ""
        } catch {
            let message = String(describing: error)
            XCTAssertFalse(message.contains("\n"), "one line: \(message)", file: file, line: line)
            return message
        }
    }

    private func smallConfig() throws -> URL { try ParityCase.load("v1-small").url("config_yaml") }

    func testMissingKeyIsNamed() throws {
        let message = loadError(ModelSource(checkpoint: broken.appendingPathComponent("missing_key.safetensors"),
                                            config: try smallConfig()))
        XCTAssertTrue(message.contains("missing keys: head.5.bias"), message)
    }

    func testWrongShapeIsNamedWithBothShapes() throws {
        let message = loadError(ModelSource(checkpoint: broken.appendingPathComponent("wrong_shape.safetensors"),
                                            config: try smallConfig()))
        XCTAssertTrue(message.contains("blocks.1.attn.proj.weight is [32, 31] in the file, the model expects [32, 32]"), message)
    }

    func testUnexpectedKeyIsListedNotFatal() throws {
        let fixture = try ParityCase.load("v1-small")
        let loaded = try ModelLoader.load(ModelSource(checkpoint: broken.appendingPathComponent("extra_key.safetensors"),
                                                      config: try smallConfig()))
        XCTAssertEqual(loaded.unexpectedKeys, ["aux_head.weight"])
        let logits = loaded.model.logits(for: fixture.inputs, batch: fixture.batch)
        XCTAssertLessThanOrEqual(maxAbsDifference(logits, try XCTUnwrap(fixture.expected["f32"])), fixture.tolerance)
    }

    func testConfigContradictingTheCheckpointNamesBothValues() throws {
        let fixture = try ParityCase.load("v1-small")
        let message = loadError(ModelSource(checkpoint: try fixture.url("safetensors_f32"),
                                            config: broken.appendingPathComponent("config_contradicts.yaml")))
        XCTAssertTrue(message.contains("embed_dim = 64") && message.contains("embed_dim = 32"), message)
    }

    func testLabelCountMustMatchClassCount() throws {
        let fixture = try ParityCase.load("v1-small")
        let message = loadError(ModelSource(checkpoint: try fixture.url("training_run"),
                                            labels: broken.appendingPathComponent("labels_wrong_count.txt")))
        XCTAssertTrue(message.contains("8 labels") && message.contains("9 classes"), message)
    }

    func testPickleAskingForSystemIsRefusedAndNothingRuns() throws {
        let marker = "/tmp/signbert-pwned"
        try? FileManager.default.removeItem(atPath: marker)
        let message = loadError(ModelSource(checkpoint: broken.appendingPathComponent("evil_os_system.pth")))
        XCTAssertTrue(message.contains("posix.system"), message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "the pickle's payload ran")
    }

    /// What no file or flag said is not silently assumed: the loader names it (inspect, GET / and serve's log
    /// show it), and nothing is named when the training config gives everything.
    func testAssumedDefaultsAreNamed() throws {
        let fixture = try ParityCase.load("v1-small")
        let bare = try ModelLoader.load(ModelSource(checkpoint: try fixture.url("safetensors_f32")))
        XCTAssertEqual(bare.assumedDefaults, ["num_heads", "num_joints x num_coords"])
        XCTAssertTrue(ModelDescription(bare).text().contains("assumed:      num_heads = 8"))
        let flagged = try ModelLoader.load(ModelSource(checkpoint: try fixture.url("safetensors_f32"),
                                                       overrides: ArchitectureOverrides(numHeads: 4, numJoints: 27)))
        XCTAssertEqual(flagged.assumedDefaults, [])
        XCTAssertNil(ModelDescription(flagged).assumptionWarning)
        XCTAssertEqual(try ModelLoader.load(ModelSource(checkpoint: try fixture.url("training_run"))).assumedDefaults, [])
    }

    func testHeadCountThatDoesNotDivideEmbedDim() throws {
        let fixture = try ParityCase.load("v1-small")
        let message = loadError(ModelSource(checkpoint: try fixture.url("safetensors_f32"),
                                            overrides: ArchitectureOverrides(numHeads: 5)))
        XCTAssertTrue(message.contains("embed_dim 32 is not divisible by num_heads 5"), message)
    }

    func testMissingFilesAreReported() {
        let message = loadError(ModelSource(checkpoint: URL(fileURLWithPath: "/nonexistent/model.pth")))
        XCTAssertTrue(message.contains("/nonexistent/model.pth does not exist"), message)
        let directory = loadError(ModelSource(modelDirectory: URL(fileURLWithPath: "/nonexistent-dir")))
        XCTAssertTrue(directory.contains("model directory /nonexistent-dir does not exist"), directory)
    }

    func testNotACheckpointAtAll() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-model-\(UUID()).pth")
        try Data("hello, this is text".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let message = loadError(ModelSource(checkpoint: url))
        XCTAssertFalse(message.isEmpty)
    }
}
