import Foundation
import XCTest

/// `signbert inspect` as a process, on the v1-small training run (config.yaml and label_mapping.json beside it).
final class InspectCommandTests: XCTestCase {
    /// v1-small's parameter count worked out from its architecture (D=32, depth 2, mlp 4.0, T=16, F=81, K=9),
    /// independently of the runtime's own formula.
    static let expectedParameters: Int = {
        let (d, depth, hidden, frames, features, classes) = (32, 2, 128, 16, 81, 9)
        let block = 2 * d /* norm1 */ + (d * 3 * d + 3 * d) /* qkv */ + (d * d + d) /* proj */ + 2 * d /* norm2 */
            + (d * hidden + hidden) /* fc1 */ + (hidden * d + d) /* fc2 */
        let head = 2 * d + (d * d / 2 + d / 2) + (d / 2 * classes + classes)
        return frames * d /* pos_embed */ + (features * d + d) /* input_proj */ + depth * block + 2 * d /* norm */ + head
    }()

    func testTextShowsArchitectureParametersLabelsIgnoredEntriesAndMetadata() throws {
        let fixture = try CommandFixtures.v1SmallCase()
        let result = try SignBERTProcess.run(["inspect", CommandFixtures.trainingRun.path])
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertEqual(result.stderrText, "")
        let text = result.stdoutText
        func line(_ key: String) -> String? {
            text.split(separator: "\n").map(String.init).first { $0.hasPrefix(key + ":") }
        }
        let architecture = try XCTUnwrap(line("architecture"), text)
        for part in ["2 blocks", "embed_dim 32", "4 heads", "9 classes"] {
            XCTAssertTrue(architecture.contains(part), "\(architecture) lacks \(part)")
        }
        XCTAssertTrue(try XCTUnwrap(line("parameters"), text).contains(String(Self.expectedParameters)), text)
        XCTAssertEqual(Self.expectedParameters, 29353)
        let classes = try XCTUnwrap(line("classes"), text)
        for (index, label) in fixture.labels.enumerated() {
            XCTAssertTrue(classes.contains("\(index)=\(label)"), "\(classes) lacks \(index)=\(label)")
        }
        let ignored = try XCTUnwrap(line("ignored"), text)
        XCTAssertTrue(ignored.contains("optimizer_state_dict"), ignored)
        XCTAssertTrue(ignored.contains("scheduler_state_dict"), ignored)
        let metadata = text.split(separator: "\n").filter { $0.hasPrefix("metadata:") }.joined(separator: "\n")
        XCTAssertTrue(metadata.contains("epoch = 1"), text)
        XCTAssertTrue(metadata.contains("best_val_acc"), text)
        XCTAssertTrue(try XCTUnwrap(line("config"), text).hasSuffix("training_run/config.yaml"), text)
        XCTAssertTrue(try XCTUnwrap(line("labels"), text).hasSuffix("training_run/label_mapping.json"), text)
    }

    func testJSONHasTheSameFacts() throws {
        let fixture = try CommandFixtures.v1SmallCase()
        let result = try SignBERTProcess.run(["inspect", "--json", CommandFixtures.trainingRun.path])
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertEqual(result.stderrText, "")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], result.stdoutText)

        let architecture = try XCTUnwrap(object["architecture"] as? [String: Any])
        let caseFile = try XCTUnwrap(JSONSerialization.jsonObject(
            with: Data(contentsOf: CommandFixtures.v1Small.appendingPathComponent("case.json"))) as? [String: Any])
        let expectedArchitecture = try XCTUnwrap(caseFile["architecture"] as? [String: Any])
        for (key, value) in expectedArchitecture {
            XCTAssertEqual((architecture[key] as? NSNumber)?.doubleValue, (value as? NSNumber)?.doubleValue, key)
        }
        XCTAssertEqual(object["parameters"] as? Int, Self.expectedParameters)
        XCTAssertEqual(object["labels"] as? [String], fixture.labels)
        let inputShape = try XCTUnwrap(object["input_shape"] as? [String: Any])
        XCTAssertEqual(inputShape["clip"] as? [Int], [16, 27, 3])
        XCTAssertEqual(inputShape["flat"] as? [Int], [16, 81])

        let checkpoint = try XCTUnwrap(object["checkpoint"] as? [String: Any])
        XCTAssertEqual(checkpoint["format"] as? String, "pytorch")
        XCTAssertEqual(checkpoint["path"] as? String, CommandFixtures.trainingRun.path)
        let ignored = try XCTUnwrap(checkpoint["ignored_entries"] as? [String])
        XCTAssertTrue(ignored.contains("optimizer_state_dict"), "\(ignored)")
        XCTAssertFalse(ignored.contains("model_state_dict"), "\(ignored)")
        XCTAssertEqual(checkpoint["unexpected_keys"] as? [String], [])
        let metadata = try XCTUnwrap(checkpoint["metadata"] as? [String: String])
        XCTAssertEqual(metadata["epoch"], "1")
        XCTAssertNotNil(metadata["best_val_acc"])
        // 35 tensors: pos_embed, input_proj ×2, 12 per block ×2, norm ×2, head ×6.
        XCTAssertEqual(checkpoint["stored_dtypes"] as? [String: Int], ["F32": 35])
    }

    func testSafetensorsWithAnExtraKeyLoadsAndListsIt() throws {
        let result = try SignBERTProcess.run(["inspect", "--json", "--num-heads", "4",
                                              CommandFixtures.broken.appendingPathComponent("extra_key.safetensors").path])
        XCTAssertEqual(result.status, 0, result.summary)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let checkpoint = try XCTUnwrap(object["checkpoint"] as? [String: Any])
        XCTAssertEqual(checkpoint["format"] as? String, "safetensors")
        XCTAssertEqual(checkpoint["unexpected_keys"] as? [String], ["aux_head.weight"])
    }

    func testUnknownFlagIsAUsageError() throws {
        let result = try SignBERTProcess.run(["inspect", "--no-such-flag", CommandFixtures.trainingRun.path])
        XCTAssertFalse(result.signaled)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderrText.contains("--no-such-flag"), result.stderrText)
    }
}
