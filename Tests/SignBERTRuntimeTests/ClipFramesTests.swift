import Foundation
import SignBERTRuntime
import XCTest

/// The two frame-count changes against numpy: Fixtures/frame-sampling.json holds floor(linspace(0, n-1, T))
/// (preprocessing, step 2) and the loader's centre crop / last-frame repeat to D (step 5), as the training
/// pipeline computes them (tools/make_sampling_fixture.py through tools/signbert_preprocess.py).
final class ClipFramesTests: XCTestCase {
    private func fixture() throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/frame-sampling.json")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    func testSampledIndicesEqualNumpysLinspaceFloor() throws {
        let cases = try XCTUnwrap(fixture()["cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 40)
        for entry in cases {
            let n = try XCTUnwrap(entry["n"] as? Int), t = try XCTUnwrap(entry["T"] as? Int)
            XCTAssertEqual(ClipFrames.sampledIndices(from: n, to: t), try XCTUnwrap(entry["indices"] as? [Int]), "n=\(n) T=\(t)")
        }
    }

    /// D = 16 and 64; n < D, n = D, n > D by odd and even differences.
    func testLoaderIndicesEqualTheTrainingLoaders() throws {
        let cases = try XCTUnwrap(fixture()["loader_cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 22)
        for entry in cases {
            let n = try XCTUnwrap(entry["n"] as? Int), d = try XCTUnwrap(entry["D"] as? Int)
            XCTAssertEqual(ClipFrames.loaderIndices(from: n, to: d), try XCTUnwrap(entry["indices"] as? [Int]), "n=\(n) D=\(d)")
        }
    }

    func testLoadedCropsTheCentreRepeatsTheLastOrKeeps() {
        let clip: [Float] = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]  // 5 frames of 2 features
        XCTAssertEqual(ClipFrames.loaded(clip[...], frames: 5, features: 2, to: 5), clip)
        XCTAssertEqual(ClipFrames.loaded(clip[...], frames: 5, features: 2, to: 3), [2, 2, 3, 3, 4, 4])  // (5-3)//2 = 1
        XCTAssertEqual(ClipFrames.loaded(clip[...], frames: 5, features: 2, to: 2), [2, 2, 3, 3])        // (5-2)//2 = 1
        XCTAssertEqual(ClipFrames.loaded(clip[...], frames: 5, features: 2, to: 7), clip + [5, 5, 5, 5])
        XCTAssertEqual(ClipFrames.loaded(clip[4...], frames: 3, features: 2, to: 1), [4, 4])  // a slice, not from 0
    }
}
