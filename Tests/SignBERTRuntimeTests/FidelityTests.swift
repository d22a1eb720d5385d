import Foundation
import SignBERTRuntime
import WireFormats
import XCTest

/// Training runs as the training repo leaves them (Fixtures/fidelity/): a v1 run (commit cf4dfbb, mid-hip
/// centre, D = 64) and a v2 run trained on data.num_frames 16 (commit 99e759a, neck centre). Each clip form
/// gets exactly what the training pipeline gave the model, and PyTorch's logits.
final class FidelityTests: XCTestCase {
    static let runs = ["v1-run", "v2-run-d16"]

    func testRunsLoadWithTheirClipLengthAndPreprocessing() throws {
        for name in Self.runs {
            let fixture = try FidelityCase.load(name)
            let loaded = try ModelLoader.load(ModelSource(checkpoint: fixture.checkpoint))
            XCTAssertEqual(loaded.preparation.frames, fixture.clipFrames, name)
            XCTAssertEqual(loaded.preparation.centre, fixture.centre, name)
            XCTAssertEqual(loaded.preparation.framesSource, "data.num_frames in config.yaml", name)
            XCTAssertEqual(loaded.config.numFrames, fixture.numFrames, name)
            XCTAssertEqual(loaded.labels, fixture.labels, name)
            XCTAssertEqual(loaded.assumedDefaults, [], name)
            let text = ModelDescription(loaded).text()
            XCTAssertTrue(text.contains("preprocess:   \(fixture.centre.rawValue)-centred landmarks, commit \(fixture.centre.commit)"), text)
            XCTAssertTrue(text.contains("clip length:  \(fixture.clipFrames) frames (data.num_frames in config.yaml)"), text)
        }
        // The v1 run's yaml has num_class: null (the repo's configs/signbert.yaml): 9 classes from head.5.
        XCTAssertEqual(try ModelLoader.load(ModelSource(checkpoint: try FidelityCase.load("v1-run").checkpoint)).config.numClasses, 9)
        // The v2 run's yaml says normalize_skeleton: false, which its training code ignored: so does the loader.
        let v2 = try ModelLoader.load(ModelSource(checkpoint: try FidelityCase.load("v2-run-d16").checkpoint))
        XCTAssertEqual(v2.config.variant.v2Flags, .trainingDefaults)
        XCTAssertEqual(v2.warnings.count, 1)
        XCTAssertTrue(v2.warnings[0].contains("normalize_skeleton: false, which is ignored"), v2.warnings[0])
    }

    /// Landmarks (steps 1-5), feature arrays of n < D, n = D and n > D (step 5 only) and a .pose file, each
    /// decoded as the server does and run on D frames.
    func testEveryClipFormGetsPyTorchsLogits() throws {
        for name in Self.runs {
            let fixture = try FidelityCase.load(name)
            let loaded = try ModelLoader.load(ModelSource(checkpoint: fixture.checkpoint))
            let d = loaded.preparation.frames
            let landmarks = try PredictionRequestDecoder.decode(fixture.landmarksBody, config: loaded.config,
                                                                preparation: loaded.preparation, maxClips: 8)
            XCTAssertLessThanOrEqual(maxAbsDifference(landmarks.clips, fixture.landmarkInput), fixture.featureTolerance, name)
            XCTAssertLessThanOrEqual(maxAbsDifference(loaded.model.logits(for: landmarks.clips, batch: landmarks.batch, frames: d),
                                                      fixture.landmarkLogits), fixture.tolerance, "\(name) landmarks")
            let arrays = try PredictionRequestDecoder.decode(fixture.arraysBody, config: loaded.config,
                                                             preparation: loaded.preparation, maxClips: 8)
            XCTAssertEqual(arrays.batch, fixture.arrayFrames.count)
            XCTAssertLessThanOrEqual(maxAbsDifference(loaded.model.logits(for: arrays.clips, batch: arrays.batch, frames: d),
                                                      fixture.arrayLogits), fixture.tolerance, "\(name) arrays \(fixture.arrayFrames)")
            let pose = try PredictionRequestDecoder.decodePose(fixture.pose, config: loaded.config, preparation: loaded.preparation)
            XCTAssertLessThanOrEqual(maxAbsDifference(pose, fixture.poseInput), fixture.featureTolerance, name)
            XCTAssertLessThanOrEqual(maxAbsDifference(loaded.model.logits(for: pose, batch: 1, frames: d), fixture.poseLogits),
                                     fixture.tolerance, "\(name) .pose")
        }
    }

    /// The other commit's centre changes a v1 model's answer (the bug this guards against), and
    /// `--preprocessing` picks it explicitly.
    func testTheOtherCentreIsWrongForV1AndCanBeChosen() throws {
        let fixture = try FidelityCase.load("v1-run")
        let loaded = try ModelLoader.load(ModelSource(checkpoint: fixture.checkpoint, preprocessing: .neck))
        XCTAssertEqual(loaded.preparation.centre, .neck)
        XCTAssertEqual(loaded.preparation.centreSource, "chosen with --preprocessing")
        let request = try PredictionRequestDecoder.decode(fixture.landmarksBody, config: loaded.config,
                                                          preparation: loaded.preparation, maxClips: 8)
        let logits = loaded.model.logits(for: request.clips, batch: request.batch)
        XCTAssertGreaterThan(maxAbsDifference(logits, fixture.landmarkLogits), 0.05)
    }

    /// A v1 run whose data.num_frames is not its pos_embed's length cannot run: the error names both; a v2
    /// run may use any D up to num_frames, not more; without data.num_frames, D is num_frames.
    func testClipLengthFromTheConfigIsChecked() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fidelity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func load(_ run: String, yamlEdit: (String) -> String) throws -> LoadedModel {
            let fixture = try FidelityCase.load(run)
            let yaml = try String(contentsOf: fixture.runFolder.appendingPathComponent("config.yaml"), encoding: .utf8)
            let config = folder.appendingPathComponent("\(run).yaml")
            try yamlEdit(yaml).write(to: config, atomically: true, encoding: .utf8)
            return try ModelLoader.load(ModelSource(checkpoint: fixture.checkpoint, config: config))
        }
        XCTAssertThrowsError(try load("v1-run") { $0.replacingOccurrences(of: "  num_frames: 64", with: "  num_frames: 32") }) {
            let message = String(describing: $0)
            XCTAssertTrue(message.contains("data.num_frames is 32") && message.contains("num_frames 64"), message)
        }
        XCTAssertThrowsError(try load("v2-run-d16") { $0.replacingOccurrences(of: "  num_frames: 16", with: "  num_frames: 65") }) {
            XCTAssertTrue(String(describing: $0).contains("data.num_frames is 65"), "\($0)")
        }
        XCTAssertEqual(try load("v2-run-d16") { $0.replacingOccurrences(of: "  num_frames: 16", with: "  num_frames: 40") }
            .preparation.frames, 40)
        let noData = try load("v2-run-d16") { $0.replacingOccurrences(of: "  num_frames: 16\n", with: "") }
        XCTAssertEqual(noData.preparation.frames, 64)
        XCTAssertTrue(noData.preparation.framesSource.contains("no data.num_frames"), noData.preparation.framesSource)
    }

    /// A model directory records D and the centre; one written before they were recorded gets num_frames
    /// and its variant's centre.
    func testModelDirectoryConfigCarriesThePreparation() throws {
        let config = SignBERTConfig.v2Defaults
        let written = ModelDirectoryConfig(config: config, preparation: ClipPreparation(frames: 16, centre: .midHip))
        let data = try JSONEncoder().encode(written)
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.contains("\"data_num_frames\":16") && text.contains("\"preprocessing\":\"mid-hip\""), text)
        XCTAssertEqual(try JSONDecoder().decode(ModelDirectoryConfig.self, from: data), written)
        let old = try JSONDecoder().decode(ModelDirectoryConfig.self, from: JSONEncoder().encode(ModelDirectoryConfig(config: config)))
        XCTAssertNil(old.dataNumFrames)
        XCTAssertNil(old.preprocessing)
    }
}
