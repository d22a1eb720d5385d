import Foundation
@testable import SignBERTRuntime
import XCTest

final class ConfigTests: XCTestCase {
    func testDefaultArchitectureCounts() {
        var c = SignBERTConfig.defaults
        c.numClasses = 9
        XCTAssertEqual(c.parameterCount, 4_811_017)  // sum(p.numel()) of the PyTorch reference at K=9
        XCTAssertEqual(c.flopsPerClip / 1e6, 631.9, accuracy: 0.5)  // perf-notes: 631.9 MFLOP per clip
    }

    func testTrainingConfigModelSection() throws {
        let yaml = """
        data:
          root: DATA
        model:
          num_class: 9
          num_joints: 27
          num_coords: 3
          num_frames: 64
          embed_dim: 256
          depth: 6
          num_heads: 4
          mlp_ratio: 4
        """
        let section = try TrainingModelSection.parse(yaml: yaml, source: "config.yaml")
        var expected = TrainingModelSection(numClasses: 9, numJoints: 27, numCoords: 3, numFrames: 64,
                                            embedDim: 256, depth: 6, numHeads: 4, mlpRatio: 4)
        expected.flagsFixedByTrainingCode = true  // a training yaml: v2 is built by the factory, flags on
        XCTAssertEqual(section, expected)
        XCTAssertThrowsError(try TrainingModelSection.parse(yaml: "training: {}", source: "c.yaml")) {
            XCTAssertTrue(String(describing: $0).contains("has no `model:` section"))
        }
        XCTAssertThrowsError(try TrainingModelSection.parse(yaml: "model: {num_heads: many}", source: "c.yaml")) {
            XCTAssertTrue(String(describing: $0).contains("model.num_heads must be an integer"))
        }
        XCTAssertThrowsError(try TrainingModelSection.parse(yaml: "model: [unclosed", source: "c.yaml"))
    }

    /// The repo's own configs/signbert.yaml form: `num_class: null` is absent (the checkpoint's head tells);
    /// `data.num_frames` is D; v2 flags are recorded as ignored, not used.
    func testTrainingConfigAsUsersHaveIt() throws {
        let yaml = """
        model:
          type: signbert
          num_class: null
          num_joints: 27
          num_heads: 8
          mlp_ratio: null
          normalize_skeleton: false
          use_bone: true
          nhead: 4
        data:
          num_frames: 16
        """
        let section = try TrainingModelSection.parse(yaml: yaml, source: "config.yaml")
        XCTAssertNil(section.numClasses)
        XCTAssertNil(section.mlpRatio)
        XCTAssertEqual(section.numHeads, 8)
        XCTAssertEqual(section.dataNumFrames, 16)
        XCTAssertNil(section.normalizeSkeleton)
        XCTAssertNil(section.useBone)
        XCTAssertEqual(section.ignoredV2Flags, [.init(key: "normalize_skeleton", value: false), .init(key: "use_bone", value: true)])
        XCTAssertThrowsError(try TrainingModelSection.parse(yaml: "model: {}\ndata: {num_frames: many}", source: "c.yaml")) {
            XCTAssertTrue(String(describing: $0).contains("data.num_frames must be an integer"), "\($0)")
        }
    }

    func testLabelFiles() throws {
        XCTAssertEqual(LabelFile.parseLines("a\n b \nc\n\n"), ["a", "b", "c"])
        let mapping = Data(#"{"label_to_folder": {"1": "mo", "0": "ban"}, "num_classes": 2}"#.utf8)
        XCTAssertEqual(try LabelFile.parseLabelMapping(mapping, source: "m.json"), ["ban", "mo"])
        XCTAssertThrowsError(try LabelFile.parseLabelMapping(Data(#"{"label_to_folder": {"5": "x"}}"#.utf8), source: "m.json"))
        XCTAssertThrowsError(try LabelFile.parseLabelMapping(Data("{}".utf8), source: "m.json"))
    }

    func testResolverTakesShapesAndChecksStatedValues() throws {
        let config = SignBERTConfig(numJoints: 27, numCoords: 2, numFrames: 10, embedDim: 16, depth: 2, numHeads: 2,
                                    mlpRatio: 2, numClasses: 3)
        let stateDict = StateDict.random(config: config)
        // No config: heads default to 8; V x C split as mediapipe_27.
        let guessed = try ArchitectureResolver.resolve(stateDict: stateDict, config: nil)
        XCTAssertEqual(guessed.numHeads, 8)
        XCTAssertEqual(guessed.numCoords, 2)
        XCTAssertEqual(guessed.depth, 2)
        XCTAssertEqual(guessed.mlpRatio, 2)
        let stated = try ArchitectureResolver.resolve(stateDict: stateDict, config: TrainingModelSection(numHeads: 4),
                                                      overrides: ArchitectureOverrides(numHeads: 2))
        XCTAssertEqual(stated, config)
        XCTAssertThrowsError(try ArchitectureResolver.resolve(stateDict: stateDict, config: TrainingModelSection(depth: 6))) {
            XCTAssertEqual(String(describing: $0), "config.yaml says depth = 6 but the checkpoint's tensors say depth = 2")
        }
        XCTAssertThrowsError(try ArchitectureResolver.resolve(stateDict: stateDict, config: TrainingModelSection(numJoints: 25)))
        XCTAssertThrowsError(try ArchitectureResolver.resolve(stateDict: stateDict, config: TrainingModelSection(mlpRatio: 4)))
    }
}
