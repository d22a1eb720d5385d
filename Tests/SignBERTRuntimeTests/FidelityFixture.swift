import Foundation
import SignBERTRuntime
import XCTest

/// A training run of Fixtures/fidelity/ (tools/make_fidelity_fixtures.py): the run's files, the requests of
/// each clip form and PyTorch's logits for what the training pipeline makes of them.
struct FidelityCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/fidelity")
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardized

    let name: String
    let clipFrames: Int
    let centre: SkeletonCentre
    let numFrames: Int
    let labels: [String]
    let tolerance: Float
    let featureTolerance: Float
    let landmarksBody: Data
    let landmarkInput: [Float]
    let landmarkLogits: [Float]
    let arraysBody: Data
    let arrayFrames: [Int]
    let arrayLogits: [Float]
    let pose: Data
    let poseInput: [Float]
    let poseLogits: [Float]

    var runFolder: URL { Self.root.appendingPathComponent(name).appendingPathComponent("training_run") }
    var checkpoint: URL { runFolder.appendingPathComponent("checkpoint_best.pth") }

    static func load(_ name: String) throws -> FidelityCase {
        let object = try XCTUnwrap(JSONSerialization.jsonObject(
            with: Data(contentsOf: root.appendingPathComponent(name).appendingPathComponent("case.json"))) as? [String: Any])
        func section(_ key: String) throws -> [String: Any] { try XCTUnwrap(object[key] as? [String: Any], key) }
        func floats(_ dictionary: [String: Any], _ key: String) throws -> [Float] {
            try XCTUnwrap(dictionary[key] as? [Double], key).map(Float.init)
        }
        let landmarks = try section("landmarks"), arrays = try section("arrays"), pose = try section("pose")
        return FidelityCase(
            name: name, clipFrames: try XCTUnwrap(object["clip_frames"] as? Int),
            centre: try XCTUnwrap(SkeletonCentre(rawValue: try XCTUnwrap(object["preprocessing"] as? String))),
            numFrames: try XCTUnwrap(object["num_frames"] as? Int), labels: try XCTUnwrap(object["labels"] as? [String]),
            tolerance: Float(try XCTUnwrap(object["tolerance"] as? Double)),
            featureTolerance: Float(try XCTUnwrap(object["feature_tolerance"] as? Double)),
            landmarksBody: try Data(contentsOf: root.appendingPathComponent(try XCTUnwrap(landmarks["request"] as? String))),
            landmarkInput: try floats(landmarks, "model_input"), landmarkLogits: try floats(landmarks, "logits"),
            arraysBody: try JSONSerialization.data(withJSONObject: try XCTUnwrap(arrays["request"])),
            arrayFrames: try XCTUnwrap(arrays["frames"] as? [Int]), arrayLogits: try floats(arrays, "logits"),
            pose: try Data(contentsOf: repositoryRoot.appendingPathComponent(try XCTUnwrap(pose["path"] as? String))),
            poseInput: try floats(pose, "model_input"), poseLogits: try floats(pose, "logits"))
    }
}
