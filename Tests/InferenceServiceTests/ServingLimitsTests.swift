import InferenceService
import SignBERTRuntime
import XCTest

/// The service's default limits follow the model's cost per clip.
final class ServingLimitsTests: XCTestCase {
    func testV1KeepsItsDefaultsAndLighterModelsToo() {
        XCTAssertEqual(ServingLimits.recommended(for: .defaults, cores: 2), ServingLimits(maxBatchSize: 32, maxQueuedClips: 256))
        let small = SignBERTConfig(numJoints: 27, numCoords: 3, numFrames: 16, embedDim: 32, depth: 2, numHeads: 4,
                                   mlpRatio: 4, numClasses: 9)
        XCTAssertEqual(ServingLimits.recommended(for: small, cores: 2), .v1Defaults)
    }

    func testV2AtItsDefaultsGetsTheSameWorkInFewerClips() {
        // ~55x the work of a v1 clip: 32/55 and 256/55 clips, but never fewer clips per batch than cores.
        XCTAssertEqual(ServingLimits.recommended(for: .v2Defaults, cores: 2), ServingLimits(maxBatchSize: 2, maxQueuedClips: 4))
        XCTAssertEqual(ServingLimits.recommended(for: .v2Defaults, cores: 8), ServingLimits(maxBatchSize: 8, maxQueuedClips: 8))
        // Twice v1's cost: half the clips.
        XCTAssertEqual(ServingLimits.recommended(flopsPerClip: 2 * SignBERTConfig.defaults.flopsPerClip, cores: 2),
                       ServingLimits(maxBatchSize: 16, maxQueuedClips: 128))
    }
}
