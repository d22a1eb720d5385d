import Foundation
import SignBERTRuntime
import XCTest

/// The PyTorch parity fixtures hold on every kernel path this CPU supports (baseline, AVX2+FMA, AVX-512),
/// through the single-threaded forward pass and through each of the engine's threading strategies, with the
/// Linear layers on the packed GEMM and on OpenBLAS.
final class KernelPathParityTests: XCTestCase {
    private static let cases = ["v1-small", "v1-features", "v2-flags-1111", "v2-flags-0000", "v2-joints-10", "v2-long"]

    func testParityFixturesOnEveryPathAndStrategy() throws {
        for name in Self.cases {
            let fixture = try ParityCase.load(name)
            // A v2 fixture's flags are given as overrides: a yaml's v2 flags are ignored, as the training code
            // ignores them (see V2ParityTests).
            let flags = fixture.architecture.variant.v2Flags
            let overrides = ArchitectureOverrides(normalizeSkeleton: flags?.normalizeSkeleton, useVelocity: flags?.useVelocity,
                                                  useBone: flags?.useBone)
            let expected = try XCTUnwrap(fixture.expected["f32"])
            for gemm in [LinearGEMM.packed, .openBLAS] {
                // The GEMM is chosen at load: its weights are laid out for it.
                LinearGEMM.use(gemm)
                defer { LinearGEMM.use(.automatic) }
                let loaded = try ModelLoader.load(ModelSource(checkpoint: try fixture.url("safetensors_f32"),
                                                              config: try fixture.url("config_yaml"), overrides: overrides))
                let engines = ForwardEngine.Strategy.allCases.map {
                    ForwardEngine(model: loaded.model, capacity: fixture.batch, threads: 2, strategy: $0)
                }
                try forEachPath { path in
                    let path = "\(path), \(gemm.rawValue) GEMM"
                    BLASThreads.set(1)
                    let alone = loaded.model.logits(for: fixture.inputs, batch: fixture.batch)
                    XCTAssertLessThanOrEqual(maxAbsDifference(alone, expected), fixture.tolerance, "\(name), \(path), alone")
                    for engine in engines {
                        var logits = [Float](repeating: .nan, count: expected.count)
                        fixture.inputs.withUnsafeBufferPointer { x in
                            logits.withUnsafeMutableBufferPointer { engine.forward(x, batch: fixture.batch, logits: $0) }
                        }
                        XCTAssertLessThanOrEqual(maxAbsDifference(logits, expected), fixture.tolerance,
                                                 "\(name), \(path), \(engine.strategy) (\(engine.strategy(for: fixture.batch)))")
                    }
                    if let short = try V2ParityTests.shortInputs(name) {
                        let logits = loaded.model.logits(for: short.values, batch: short.shape[0], frames: short.shape[1])
                        XCTAssertLessThanOrEqual(maxAbsDifference(logits, short.expected), fixture.tolerance, "\(name), \(path), short")
                    }
                }
            }
        }
    }
}
