import Foundation
import SignBERTRuntime
import WireFormats
import XCTest

/// The bundled model in models/demo-gestures: the Swift runtime gives PyTorch's answers on the committed
/// held-out set (same predictions, same accuracy) and on the README's example requests.
final class DemoModelTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
    static let modelDirectory = root.appendingPathComponent("models/demo-gestures")
    static let heldout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/demo-heldout")

    func testHeldOutSetGivesPyTorchsPredictionsAndAccuracy() throws {
        let loaded = try ModelLoader.load(ModelSource(modelDirectory: Self.modelDirectory))
        XCTAssertEqual(loaded.config.numFrames, 64)
        XCTAssertEqual(loaded.storedDTypes.keys.sorted(), ["F16"])
        let set = try CheckpointReader.read(Self.heldout.appendingPathComponent("clips.safetensors"))
        let clips = try XCTUnwrap(set.tensors["clips"])
        let truth = try XCTUnwrap(set.tensors["labels"]).values.map { Int($0) }
        let expected = try XCTUnwrap(JSONSerialization.jsonObject(
            with: Data(contentsOf: Self.heldout.appendingPathComponent("expected.json"))) as? [String: Any])
        let expectedPredictions = try XCTUnwrap(expected["predicted"] as? [Int])
        let expectedLogits = try XCTUnwrap(expected["logits"] as? [[Double]]).flatMap { $0.map(Float.init) }
        let expectedAccuracy = try XCTUnwrap(expected["accuracy"] as? Double)
        XCTAssertEqual(expected["labels"] as? [String], loaded.labels)

        let count = clips.shape[0]
        let logits = loaded.model.logits(for: clips.values, batch: count)
        XCTAssertLessThanOrEqual(maxAbsDifference(logits, expectedLogits), 1e-4, "logits vs PyTorch")
        let k = loaded.config.numClasses
        let predictions = (0..<count).map { i -> Int in
            let row = logits[i * k..<(i + 1) * k]
            return row.indices.max { row[$0] < row[$1] }.map { $0 - i * k } ?? -1
        }
        XCTAssertEqual(predictions, expectedPredictions)
        let accuracy = Double(zip(predictions, truth).filter { $0 == $1 }.count) / Double(count)
        XCTAssertEqual(accuracy, expectedAccuracy)
        XCTAssertGreaterThan(accuracy, 0.85, "the demo model should be well above chance (1/8)")
    }

    /// Each example request in examples/gestures/ is answered with its own class, with a clear margin.
    func testEveryExampleRequestGetsItsClass() throws {
        let loaded = try ModelLoader.load(ModelSource(modelDirectory: Self.modelDirectory))
        let folder = Self.root.appendingPathComponent("examples/gestures")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertEqual(files.count, loaded.labels.count, "one example per class")
        for file in files {
            let body = try Data(contentsOf: folder.appendingPathComponent(file))
            let request = try PredictionRequestDecoder.decode(body, config: loaded.config, preparation: loaded.preparation,
                                                              maxClips: 32)
            let logits = loaded.model.logits(for: request.clips, batch: request.batch)
            let prediction = try XCTUnwrap(Prediction.batch(logits: logits, numClasses: loaded.config.numClasses,
                                                            labels: loaded.labels, topK: 2, includeLogits: false).first)
            XCTAssertEqual(prediction.label + ".json", file)
            XCTAssertGreaterThan(prediction.score, 0.6, file)
            XCTAssertGreaterThan(prediction.score - prediction.topK[1].score, 0.3, file)
        }
    }
}
