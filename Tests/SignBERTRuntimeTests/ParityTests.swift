import Foundation
import SignBERTRuntime
import WireFormats
import XCTest

/// The runtime's logits against PyTorch's, for every checkpoint form the runtime accepts.
final class ParityTests: XCTestCase {
    /// Loads `role` of `name` the way a user would point the CLI at it and compares with PyTorch.
    private func check(_ name: String, _ role: String, config: String? = "config_yaml",
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try ParityCase.load(name)
        let configURL = try config.map { try fixture.url($0) }
        let loaded = try ModelLoader.load(ModelSource(checkpoint: try fixture.url(role), config: configURL))
        XCTAssertEqual(loaded.config, fixture.architecture, "\(name)/\(role): architecture", file: file, line: line)
        let logits = loaded.model.logits(for: fixture.inputs, batch: fixture.batch)
        let key = try XCTUnwrap(fixture.expectedKeyByFile[role])
        let expected = try XCTUnwrap(fixture.expected[key])
        let difference = maxAbsDifference(logits, expected)
        XCTAssertLessThanOrEqual(difference, fixture.tolerance, "\(name)/\(role) vs PyTorch \(key)", file: file, line: line)
    }

    func testTrainingRunCheckpointWithOptimizerStateAndNumpyScalars() throws {
        try check("v1-small", "training_run", config: nil)  // config.yaml and label_mapping.json found beside it
    }

    func testBareStateDictWithModulePrefix() throws { try check("v1-small", "bare_module") }
    func testSafetensorsF32() throws { try check("v1-small", "safetensors_f32") }
    func testSafetensorsF16() throws { try check("v1-small", "safetensors_f16") }
    func testSafetensorsBF16() throws { try check("v1-small", "safetensors_bf16") }
    func testNumHeadsOnlyFromConfigYAML() throws { try check("v1-heads-from-config", "training_run", config: nil) }
    func testTwoCoordinateFeatureInputs() throws { try check("v1-features", "safetensors_f32", config: "config_yaml") }

    func testTrainingRunLabelsAndProvenance() throws {
        let fixture = try ParityCase.load("v1-small")
        let loaded = try ModelLoader.load(ModelSource(checkpoint: try fixture.url("training_run")))
        XCTAssertEqual(loaded.labels, fixture.labels)
        XCTAssertEqual(loaded.checkpointFormat, "pytorch")
        XCTAssertTrue(loaded.ignoredEntries.contains("optimizer_state_dict"), "\(loaded.ignoredEntries)")
        XCTAssertTrue(loaded.ignoredEntries.contains("scheduler_state_dict"), "\(loaded.ignoredEntries)")
        XCTAssertNotNil(loaded.metadata["best_val_acc"], "numpy scalar best_val_acc: \(loaded.metadata)")
    }

    /// The reduced-precision files really hold different weights: their logits are not the F32 ones.
    func testHalfPrecisionFilesAreDistinguishable() throws {
        let fixture = try ParityCase.load("v1-small")
        let loaded = try ModelLoader.load(ModelSource(checkpoint: try fixture.url("safetensors_bf16"),
                                                      config: try fixture.url("config_yaml")))
        let logits = loaded.model.logits(for: fixture.inputs, batch: fixture.batch)
        XCTAssertGreaterThan(maxAbsDifference(logits, try XCTUnwrap(fixture.expected["f32"])), 1e-3)
        XCTAssertEqual(loaded.storedDTypes, ["BF16": SignBERTWeights.expectedShapes(for: fixture.architecture).count])
    }

    /// Without config.yaml the default 8 heads are assumed; the logits then differ, so the test above
    /// proves num_heads really came from config.yaml.
    func testWrongHeadCountChangesTheAnswer() throws {
        let fixture = try ParityCase.load("v1-heads-from-config")
        let loaded = try ModelLoader.load(ModelSource(checkpoint: try fixture.url("training_run"),
                                                      overrides: ArchitectureOverrides(numHeads: 8)))
        XCTAssertEqual(loaded.config.numHeads, 8)
        let logits = loaded.model.logits(for: fixture.inputs, batch: fixture.batch)
        XCTAssertGreaterThan(maxAbsDifference(logits, try XCTUnwrap(fixture.expected["f32"])), 1e-3)
    }

    /// The same clips as [T][V][C] and as [T][F] JSON go through the request decoder to the same logits.
    func testBothInputLayoutsThroughTheRequestDecoder() throws {
        let fixture = try ParityCase.load("v1-small")
        let loaded = try ModelLoader.load(ModelSource(checkpoint: try fixture.url("training_run")))
        let c = fixture.architecture
        func body(nested: Bool) -> Data {
            var clips: [Any] = []
            for b in 0..<fixture.batch {
                var frames: [Any] = []
                for t in 0..<c.numFrames {
                    let start = (b * c.numFrames + t) * c.inputFeatures
                    let frame = fixture.inputs[start..<start + c.inputFeatures].map(Double.init)
                    frames.append(nested ? stride(from: 0, to: frame.count, by: c.numCoords).map {
                        Array(frame[$0..<$0 + c.numCoords])
                    } : frame)
                }
                clips.append(frames)
            }
            return try! JSONSerialization.data(withJSONObject: ["inputs": clips, "return_logits": true])
        }
        for nested in [true, false] {
            let request = try PredictionRequestDecoder.decode(body(nested: nested), config: c, preparation: loaded.preparation,
                                                              maxClips: 32)
            XCTAssertEqual(request.batch, fixture.batch)
            XCTAssertEqual(request.clips, fixture.inputs)
            let logits = loaded.model.logits(for: request.clips, batch: request.batch)
            XCTAssertLessThanOrEqual(maxAbsDifference(logits, try XCTUnwrap(fixture.expected["f32"])), fixture.tolerance)
        }
    }

    /// A batch computed together equals each clip computed alone: no row leaks into another. (Equal to
    /// float rounding: OpenBLAS blocks a GEMM differently for another row count, so the last bits move.)
    func testBatchRowsAreIndependent() throws {
        let fixture = try ParityCase.load("v1-small")
        let loaded = try ModelLoader.load(ModelSource(checkpoint: try fixture.url("training_run")))
        let all = loaded.model.logits(for: fixture.inputs, batch: fixture.batch)
        let perClip = fixture.inputs.count / fixture.batch
        let k = fixture.architecture.numClasses
        for b in 0..<fixture.batch {
            let single = loaded.model.logits(for: Array(fixture.inputs[b * perClip..<(b + 1) * perClip]), batch: 1)
            XCTAssertLessThanOrEqual(maxAbsDifference(single, Array(all[b * k..<(b + 1) * k])), 1e-5, "clip \(b)")
        }
    }

    /// The automatic strategy: one clip, or a small uneven batch of short (v1) clips, is split over the
    /// team; even batches are sharded; larger uneven ones (any uneven v2 batch) shard their even part and split
    /// the rest; v2's long clips split only when fewer than the lanes.
    func testAutomaticStrategyPerBatch() throws {
        let v1 = SignBERTConfig(numJoints: 27, numCoords: 3, numFrames: 64, embedDim: 32, depth: 1, numHeads: 2,
                                mlpRatio: 2, numClasses: 3)
        let v2 = SignBERTConfig(numJoints: 27, numCoords: 3, numFrames: 64, embedDim: 32, depth: 1, numHeads: 2,
                                mlpRatio: 2, numClasses: 3, variant: .v2(.trainingDefaults))
        for (config, expected) in [(v1, "split shard split shard split shard split shard shard+split shard"),
                                   (v2, "split shard shard+split shard shard+split shard shard+split shard shard+split shard")] {
            let model = SignBERTModel(config: config, weights: try SignBERTWeights(stateDict: .random(config: config), config: config))
            let engine = ForwardEngine(model: model, capacity: 10, threads: 2)
            XCTAssertEqual((1...10).map { engine.strategy(for: $0).rawValue }.joined(separator: " "), expected)
            XCTAssertEqual(ForwardEngine(model: model, capacity: 10, threads: 1).strategy(for: 4), .split, "one thread: no team")
        }
    }

    /// Every engine strategy (shards of clips, clips split over a thread team, OpenBLAS's own threads, and
    /// the automatic choice between them) gives the whole batch's answer, for batches that do and do not
    /// divide evenly, on 2 and 3 threads.
    func testShardedEngineMatchesTheWholeBatch() throws {
        let config = SignBERTConfig(numJoints: 27, numCoords: 3, numFrames: 64, embedDim: 64, depth: 2, numHeads: 4,
                                    mlpRatio: 4, numClasses: 7)
        let model = SignBERTModel(config: config, weights: try SignBERTWeights(stateDict: .random(config: config), config: config))
        var generator = SplitMix64(seed: 42)
        for batch in [1, 2, 5, 8] {
            let input = (0..<(batch * config.numFrames * config.inputFeatures)).map { _ in Float.random(in: -1..<1, using: &generator) }
            BLASThreads.set(1)
            let whole = model.logits(for: input, batch: batch)
            for threads in [2, 3] {
                for strategy in ForwardEngine.Strategy.allCases {
                    let engine = ForwardEngine(model: model, capacity: 8, threads: threads, strategy: strategy)
                    var logits = [Float](repeating: .nan, count: batch * config.numClasses)
                    input.withUnsafeBufferPointer { x in logits.withUnsafeMutableBufferPointer { engine.forward(x, batch: batch, logits: $0) } }
                    XCTAssertLessThanOrEqual(maxAbsDifference(logits, whole), 1e-5, "batch \(batch), \(threads) threads, \(strategy)")
                }
            }
        }
    }
}
