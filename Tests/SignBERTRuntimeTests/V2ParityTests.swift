import Foundation
import SignBERTRuntime
import XCTest

/// SignBERT v2 checkpoints against PyTorch (tools/make_fixtures.py, cases `v2-*`), and how the loader
/// tells v2 from v1 and checks the flags against the shapes.
final class V2ParityTests: XCTestCase {
    /// Every flag combination: use_cls_token, normalize_skeleton, use_velocity, use_bone as 0/1 digits.
    static let flagCases = (0..<16).map { i in "v2-flags-" + (0..<4).map { String(i >> (3 - $0) & 1) }.joined() }

    /// Loads `role` of `name` (config.yaml given or found beside it) and compares both the full-length
    /// clips and, when the case has one, a clip shorter than num_frames.
    private func check(_ name: String, _ role: String, config: String? = "config_yaml",
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try ParityCase.load(name)
        // The fixtures' models are built with each flag combination directly, not by the training code's
        // factory (which turns all four on whatever the yaml says, so the loader ignores a yaml's flags):
        // the flags are given explicitly, as `--normalize-skeleton`-style overrides.
        let flags = try XCTUnwrap(fixture.architecture.variant.v2Flags)
        let overrides = ArchitectureOverrides(normalizeSkeleton: flags.normalizeSkeleton, useVelocity: flags.useVelocity,
                                              useBone: flags.useBone)
        let loaded = try ModelLoader.load(ModelSource(checkpoint: try fixture.url(role), config: try config.map { try fixture.url($0) },
                                                      overrides: overrides))
        XCTAssertEqual(loaded.config, fixture.architecture, "\(name)/\(role): architecture", file: file, line: line)
        XCTAssertEqual(loaded.assumedDefaults, [], "\(name)/\(role)", file: file, line: line)
        let logits = loaded.model.logits(for: fixture.inputs, batch: fixture.batch)
        let difference = maxAbsDifference(logits, try XCTUnwrap(fixture.expected["f32"]))
        XCTAssertLessThanOrEqual(difference, fixture.tolerance, "\(name)/\(role) vs PyTorch", file: file, line: line)

        if let short = try Self.shortInputs(name) {
            let logits = loaded.model.logits(for: short.values, batch: short.shape[0], frames: short.shape[1])
            XCTAssertLessThanOrEqual(maxAbsDifference(logits, short.expected), fixture.tolerance,
                                     "\(name)/\(role): \(short.shape[1]) of \(fixture.architecture.numFrames) frames",
                                     file: file, line: line)
        }
    }

    static func shortInputs(_ name: String) throws -> (shape: [Int], values: [Float], expected: [Float])? {
        let data = try Data(contentsOf: ParityCase.root.appendingPathComponent(name).appendingPathComponent("case.json"))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        guard let short = object["short_inputs"] as? [String: Any] else { return nil }
        return (try XCTUnwrap(short["shape"] as? [Int]), try XCTUnwrap(short["values"] as? [Double]).map(Float.init),
                try XCTUnwrap(short["expected"] as? [[Double]]).flatMap { $0.map(Float.init) })
    }

    func testEveryFlagCombination() throws {
        for name in Self.flagCases { try check(name, "safetensors_f32") }
    }

    func testTrainingRunCheckpointWithConfigAndLabelsBesideIt() throws {
        try check("v2-training-run", "training_run", config: nil)
        let fixture = try ParityCase.load("v2-training-run")
        let loaded = try ModelLoader.load(ModelSource(checkpoint: try fixture.url("training_run")))
        XCTAssertEqual(loaded.labels, fixture.labels)
        XCTAssertTrue(loaded.ignoredEntries.contains("optimizer_state_dict"), "\(loaded.ignoredEntries)")
    }

    func testBareStateDictWithModulePrefix() throws { try check("v2-training-run", "bare_module") }
    func testSafetensorsWithConfig() throws { try check("v2-training-run", "safetensors_f32") }
    func testTenJointsHaveNoBonesAndOneHandType() throws { try check("v2-joints-10", "safetensors_f32") }
    func testDefaultTokenCountThroughSeveralAttentionTiles() throws { try check("v2-long", "safetensors_f32") }

    /// Without config.yaml: cls token presence and the joint count come from the tensors; a 9-wide
    /// input_proj is taken as 3 coords x [x, vel, bone] (the training defaults), and what was assumed is named.
    func testWithoutConfigTheFlagsComeFromShapesAndDefaults() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("v2-noconfig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        /// The model file alone, away from the config.yaml beside it in the fixture.
        func alone(_ fixture: ParityCase) throws -> URL {
            let copy = folder.appendingPathComponent(fixture.name + ".safetensors")
            try FileManager.default.copyItem(at: try fixture.url("safetensors_f32"), to: copy)
            return copy
        }
        for name in ["v2-flags-1111", "v2-flags-0111"] {
            let fixture = try ParityCase.load(name)
            let loaded = try ModelLoader.load(ModelSource(checkpoint: try alone(fixture),
                                                          overrides: ArchitectureOverrides(numHeads: 2)))
            XCTAssertEqual(loaded.config, fixture.architecture, name)
            XCTAssertEqual(loaded.assumedDefaults, ["normalize_skeleton", "use_velocity/use_bone", "num_coords"], name)
            let logits = loaded.model.logits(for: fixture.inputs, batch: fixture.batch)
            XCTAssertLessThanOrEqual(maxAbsDifference(logits, try XCTUnwrap(fixture.expected["f32"])), fixture.tolerance, name)
            XCTAssertNotNil(ModelDescription(loaded).assumptionWarning)
        }
        // 6 = 3 coords x 2 groups: velocity or bone; velocity is taken, and said so.
        let fixture = try ParityCase.load("v2-flags-1110")
        let loaded = try ModelLoader.load(ModelSource(checkpoint: try alone(fixture),
                                                      overrides: ArchitectureOverrides(numHeads: 2, numCoords: 3)))
        XCTAssertEqual(loaded.config.variant.v2Flags?.useVelocity, true)
        XCTAssertEqual(loaded.config.variant.v2Flags?.useBone, false)
        XCTAssertEqual(loaded.assumedDefaults, ["normalize_skeleton", "use_velocity/use_bone"])
    }

    /// A flag in a training run's config.yaml is ignored, as the training code ignored it (its factory builds
    /// v2 with all four on): the model loads with the flags the checkpoint and the factory give, and the
    /// loader warns about each stated value it does not use. A v1 checkpoint ignores them too.
    func testConfigFlagsAreIgnoredAsTheTrainingCodeIgnoredThem() throws {
        let fixture = try ParityCase.load("v2-flags-1111")
        let yaml = try String(contentsOf: try fixture.url("config_yaml"), encoding: .utf8)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("v2-flags-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for flag in ["use_cls_token", "normalize_skeleton", "use_bone"] {
            let config = folder.appendingPathComponent("\(flag).yaml")
            try yaml.replacingOccurrences(of: "\(flag): true", with: "\(flag): false").write(to: config, atomically: true, encoding: .utf8)
            let loaded = try ModelLoader.load(ModelSource(checkpoint: try fixture.url("safetensors_f32"), config: config))
            XCTAssertEqual(loaded.config, fixture.architecture, flag)
            XCTAssertEqual(loaded.assumedDefaults, [], flag)
            XCTAssertEqual(loaded.warnings.count, 1, flag)
            XCTAssertTrue(loaded.warnings.first?.contains("says model.\(flag): false, which is ignored as the training code ignored it") ?? false,
                          "\(loaded.warnings)")
            let logits = loaded.model.logits(for: fixture.inputs, batch: fixture.batch)
            XCTAssertLessThanOrEqual(maxAbsDifference(logits, try XCTUnwrap(fixture.expected["f32"])), fixture.tolerance, flag)
            XCTAssertTrue(ModelDescription(loaded).text().contains("warning:      \(flag).yaml says model.\(flag): false"), flag)
        }
        // The training yaml as it is (flags all true): nothing to warn about.
        XCTAssertEqual(try ModelLoader.load(ModelSource(checkpoint: try fixture.url("safetensors_f32"),
                                                        config: try fixture.url("config_yaml"))).warnings, [])
        // An explicit override still sets a flag (a model built outside the factory).
        let overridden = try ModelLoader.load(ModelSource(checkpoint: try fixture.url("safetensors_f32"),
                                                          config: try fixture.url("config_yaml"),
                                                          overrides: ArchitectureOverrides(normalizeSkeleton: false)))
        XCTAssertEqual(overridden.config.variant.v2Flags?.normalizeSkeleton, false)
        // A v1 checkpoint whose config states a cls token loads as v1.
        let v1 = try ParityCase.load("v1-small")
        let v1Yaml = try String(contentsOf: try v1.url("config_yaml"), encoding: .utf8)
        XCTAssertTrue(v1Yaml.contains("model:\n"))
        let promised = folder.appendingPathComponent("v1-with-cls.yaml")
        try v1Yaml.replacingOccurrences(of: "model:\n", with: "model:\n  use_cls_token: true\n")
            .write(to: promised, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ModelLoader.load(ModelSource(checkpoint: try v1.url("safetensors_f32"), config: promised)).config.variant, .v1)
    }

    /// Detection: v1 files stay v1, v2 files are v2 with their flags; the cost follows the token count.
    func testVariantAndCost() throws {
        let v1 = try ModelLoader.load(ModelSource(checkpoint: try ParityCase.load("v1-small").url("training_run")))
        XCTAssertEqual(v1.config.variant, .v1)
        let v2 = try ModelLoader.load(ModelSource(checkpoint: try ParityCase.load("v2-training-run").url("training_run")))
        XCTAssertEqual(v2.config.variant, .v2(.trainingDefaults))
        XCTAssertEqual(v2.config.maxTokens, 1 + 8 * 27)
        let json = String(decoding: ModelDescription(v2).json(), as: UTF8.self)
        XCTAssertTrue(json.contains("\"name\":\"signbert-v2\""), json)
        XCTAssertTrue(json.contains("\"use_cls_token\":true"), json)
        XCTAssertTrue(ModelDescription(v2).text().contains("SignBERT v2"))
        // At the defaults: 1,729 tokens, ~35 GFLOP per clip, ~55x a v1 clip (spec).
        let ratio = SignBERTConfig.v2Defaults.flopsPerClip / SignBERTConfig.defaults.flopsPerClip
        XCTAssertEqual(SignBERTConfig.v2Defaults.maxTokens, 1729)
        XCTAssertEqual(SignBERTConfig.v2Defaults.flopsPerClip / 1e9, 34.7, accuracy: 0.1)
        XCTAssertEqual(ratio, 55, accuracy: 1)
    }

    /// The engine's strategies for v2 (clips split over a thread team, batches in shards, whole batches on
    /// OpenBLAS's threads) give the single-threaded answer, for every flag combination's readout (cls or mean).
    func testEngineMatchesSingleThreadedForward() throws {
        for flags in [SignBERTV2Flags.trainingDefaults, SignBERTV2Flags(useClsToken: false, normalizeSkeleton: true,
                                                                         useVelocity: false, useBone: true)] {
            let config = SignBERTConfig(numJoints: 27, numCoords: 3, numFrames: 8, embedDim: 32, depth: 2, numHeads: 4,
                                        mlpRatio: 2, numClasses: 5, variant: .v2(flags))
            let model = SignBERTModel(config: config, weights: try SignBERTWeights(stateDict: .random(config: config), config: config))
            var generator = SplitMix64(seed: 9)
            for batch in [1, 3] {
                let input = (0..<(batch * config.numFrames * config.inputFeatures)).map { _ in Float.random(in: -1..<1, using: &generator) }
                BLASThreads.set(1)
                let reference = model.logits(for: input, batch: batch)
                for strategy in ForwardEngine.Strategy.allCases {
                    let engine = ForwardEngine(model: model, capacity: 4, threads: 2, strategy: strategy)
                    var logits = [Float](repeating: .nan, count: batch * config.numClasses)
                    input.withUnsafeBufferPointer { x in logits.withUnsafeMutableBufferPointer { engine.forward(x, batch: batch, logits: $0) } }
                    XCTAssertLessThanOrEqual(maxAbsDifference(logits, reference), 1e-5, "batch \(batch), \(strategy)")
                }
            }
        }
    }
}
