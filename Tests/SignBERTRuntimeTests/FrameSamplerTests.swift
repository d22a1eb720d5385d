import Foundation
import SignBERTRuntime
import XCTest

/// The resampler against numpy: Fixtures/frame-sampling.json holds floor(linspace(0, n-1, T)) as the
/// training pipeline computes it (tools/make_sampling_fixture.py through tools/signbert_preprocess.py).
final class FrameSamplerTests: XCTestCase {
    func testIndicesEqualNumpysLinspaceFloor() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/frame-sampling.json")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let cases = try XCTUnwrap(object["cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 40)
        for entry in cases {
            let n = try XCTUnwrap(entry["n"] as? Int), t = try XCTUnwrap(entry["T"] as? Int)
            XCTAssertEqual(FrameSampler.indices(from: n, to: t), try XCTUnwrap(entry["indices"] as? [Int]), "n=\(n) T=\(t)")
        }
    }

    func testResamplePadsSamplesOrKeeps() {
        let clip: [Float] = [1, 1, 2, 2, 3, 3]  // 3 frames of 2 features
        XCTAssertEqual(FrameSampler.resample(clip[...], frames: 3, features: 2, to: 3), clip)
        XCTAssertEqual(FrameSampler.resample(clip[...], frames: 3, features: 2, to: 5), [1, 1, 2, 2, 3, 3, 0, 0, 0, 0])
        XCTAssertEqual(FrameSampler.resample(clip[...], frames: 3, features: 2, to: 2), [1, 1, 3, 3])
        XCTAssertEqual(FrameSampler.resample(clip[2...], frames: 2, features: 2, to: 1), [2, 2])
    }
}
