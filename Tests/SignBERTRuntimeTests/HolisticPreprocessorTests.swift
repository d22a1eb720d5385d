import Foundation
import SignBERTRuntime
import WireFormats
import XCTest

/// The landmark form and the preprocessing against numpy (Fixtures/preprocess/holistic-clips.json, from
/// tools/make_preprocess_fixtures.py): missing hands, frames with nothing detected, a hand detected once,
/// missing hips (one, both), n < 64, n = 64, n > 64, landmarks as arrays and as objects; each with the neck
/// centre (commit 99e759a) and the mid-hip centre (cf4dfbb).
final class HolisticPreprocessorTests: XCTestCase {
    private let config = SignBERTConfig.defaults  // mediapipe_27: 27 x 3, T = 64
    private let neck = ClipPreparation(frames: 64, centre: .neck)

    private func cases() throws -> [JSONValue] {
        let fixture = try PreprocessFixture.json("holistic-clips.json")
        XCTAssertEqual(PreprocessFixture.int(fixture["num_frames"]), config.numFrames)
        let cases = PreprocessFixture.items(fixture["cases"])
        XCTAssertEqual(cases.count, 9)
        return cases
    }

    func testLandmarkClipsMatchNumpy() throws {
        for item in try cases() {
            let name = PreprocessFixture.string(item["name"])
            guard let request = item["request"] else { return XCTFail("\(name): no request") }
            let clip = try HolisticRequestDecoder.decodeClip(request, path: "inputs[0]")
            XCTAssertEqual(clip.frameCount, PreprocessFixture.int(item["frames"]), name)
            let input = try HolisticPreprocessor.modelInput(for: clip, preparation: neck)
            PreprocessFixture.assertClose(input, PreprocessFixture.numbers(item["expected"]), name)
            let midHip = try HolisticPreprocessor.modelInput(for: clip, preparation: ClipPreparation(frames: 64, centre: .midHip))
            PreprocessFixture.assertClose(midHip, PreprocessFixture.numbers(item["expected_mid_hip"]), "\(name), mid-hip")
        }
    }

    /// Step 5 after steps 1-4: a run trained on D = 16 gets the centre 16 of the 64 preprocessed frames
    /// (frames 24..<40), whatever the clip's own length.
    func testLandmarkClipsAreBroughtToTheRunsFrames() throws {
        for item in try cases() {
            let name = PreprocessFixture.string(item["name"])
            guard let request = item["request"] else { return XCTFail("\(name): no request") }
            let clip = try HolisticRequestDecoder.decodeClip(request, path: "inputs[0]")
            let input = try HolisticPreprocessor.modelInput(for: clip, preparation: ClipPreparation(frames: 16, centre: .midHip))
            let stored = PreprocessFixture.numbers(item["expected_mid_hip"])
            PreprocessFixture.assertClose(input, Array(stored[24 * 81..<40 * 81]), "\(name), D = 16")
        }
    }

    /// The mid-hip centre by hand: one hip counts alone; without either the centre is (0, 0).
    func testMidHipCentreFromOneHipOrNone() throws {
        var clip = HolisticClip(undetectedFrames: 2)
        for frame in 0..<2 {
            clip.set(.pose, frame: frame, landmark: 11, x: 100, y: 50, c: 1)
            clip.set(.pose, frame: frame, landmark: 12, x: 40, y: 50, c: 1)
        }
        clip.set(.pose, frame: 0, landmark: 24, x: 70, y: 200, c: 1)  // right hip only, frame 0 ...
        clip.set(.pose, frame: 1, landmark: 24, x: 0, y: 300, c: 1)   // ... and x = 0 in frame 1: not present
        let input = try HolisticPreprocessor.preprocessed(clip, frames: 2, centre: .midHip)
        // Shoulder distance 60 in both frames: divisor 72. Frame 0 centres on (70, 200); frame 1 on (0, 0)
        // (the hip has y != 0, so it is interpolated as detected, but its x = 0 does not count as present).
        PreprocessFixture.assertClose(Array(input[3..<5]), [Float(30.0 / 72), Float(-150.0 / 72)], tolerance: 1e-6, "frame 0")
        PreprocessFixture.assertClose(Array(input[81 + 3..<81 + 5]), [Float(100.0 / 72), Float(50.0 / 72)], tolerance: 1e-6, "frame 1")
    }

    /// The whole /predict body: all landmark clips in one batch, beside an array clip, parsed from bytes.
    func testLandmarkClipsThroughThePredictBody() throws {
        let cases = try cases()
        let arrayClip = (0..<10).map { t in (0..<27).map { j in [Double(t), Double(j), 0.5] } }
        var inputs: [Any] = [arrayClip]
        for item in cases {
            guard let request = item["request"] else { return XCTFail("no request") }
            inputs.append(try foundationObject(request))
        }
        let body = try JSONSerialization.data(withJSONObject: ["inputs": inputs, "top_k": 2])
        let decoded = try PredictionRequestDecoder.decode(body, config: config, preparation: neck, maxClips: 16)
        XCTAssertEqual(decoded.batch, cases.count + 1)
        let perClip = config.numFrames * config.inputFeatures
        for (index, item) in cases.enumerated() {
            let slice = Array(decoded.clips[(index + 1) * perClip..<(index + 2) * perClip])
            PreprocessFixture.assertClose(slice, PreprocessFixture.numbers(item["expected"]),
                                          "inputs[\(index + 1)] \(PreprocessFixture.string(item["name"]))")
        }
        // The array clip went through the loader's step only (10 frames, the last repeated to 64).
        XCTAssertEqual(Array(decoded.clips[0..<6]), [0, 0, 0.5, 0, 1, 0.5])
        XCTAssertEqual(Array(decoded.clips[10 * 81..<11 * 81]), Array(decoded.clips[9 * 81..<10 * 81]))
        XCTAssertEqual(Array(decoded.clips[63 * 81..<63 * 81 + 3]), [9, 0, 0.5])
    }

    func testExactFramesAndLimitsApplyToLandmarkClips() throws {
        let cases = try cases()
        guard let n64 = cases.first(where: { PreprocessFixture.string($0["name"]) == "n64_all_detected" })?["request"],
              let short = cases.first(where: { PreprocessFixture.int($0["frames"]) == 20 })?["request"] else {
            return XCTFail("fixture cases missing")
        }
        func body(_ clip: JSONValue, _ frames: String) -> JSONValue {
            .object([("inputs", .array([clip])), ("frames", .string(frames))])
        }
        XCTAssertEqual(try PredictionRequestDecoder.decode(document: body(n64, "exact"), config: config, preparation: neck,
                                                           maxClips: 1).batch, 1)
        XCTAssertThrowsError(try PredictionRequestDecoder.decode(document: body(short, "exact"), config: config,
                                                                 preparation: neck, maxClips: 1)) { error in
            XCTAssertEqual((error as? RequestError)?.message,
                           "inputs[0].frames has 20 frames; with \"frames\": \"exact\" it must have exactly 64 "
                           + "(the clip length the model was trained on, data.num_frames)")
        }
        // "exact" means the run's D: a 20-frame clip is refused by a run of D = 16 too, and taken by D = 20.
        XCTAssertThrowsError(try PredictionRequestDecoder.decode(document: body(short, "exact"), config: config,
                                                                 preparation: ClipPreparation(frames: 16, centre: .neck), maxClips: 1))
        XCTAssertEqual(try PredictionRequestDecoder.decode(document: body(short, "exact"), config: config,
                                                           preparation: ClipPreparation(frames: 20, centre: .neck), maxClips: 1).clips.count,
                       20 * 81)
        XCTAssertThrowsError(try PredictionRequestDecoder.decode(document: body(short, "sample"), config: config,
                                                                 preparation: neck, maxClips: 1, maxFrames: 19)) { error in
            XCTAssertEqual((error as? RequestError)?.message, "inputs[0].frames has 20 frames; at most 19 are accepted")
        }
    }

    /// Steps 1-4 by hand on a tiny clip, so a failure points at the step: the right shoulder is missing in
    /// frame 1 (interpolated between frames 0 and 2) and the left hand seen only in frame 2 (kept as it is).
    func testStepsOnATinyClip() throws {
        var clip = HolisticClip(undetectedFrames: 3)
        for frame in 0..<3 {
            clip.set(.pose, frame: frame, landmark: 11, x: 100, y: 50, c: 0.9)
            if frame != 1 { clip.set(.pose, frame: frame, landmark: 12, x: 40 + 10 * Float(frame), y: 50, c: 0.5) }
        }
        clip.set(.leftHand, frame: 2, landmark: 4, x: 70, y: 20, c: 1)
        let input = try HolisticPreprocessor.preprocessed(clip, frames: 4, centre: .neck)
        func joint(_ frame: Int, _ j: Int) -> [Float] { Array(input[(frame * 27 + j) * 3..<(frame * 27 + j) * 3 + 3]) }
        // Shoulder distances 60, 50 (interpolated: right shoulder at 50), 40; median 50, divisor 60.
        let d = 60.0
        PreprocessFixture.assertClose(joint(1, 2), [Float(-25 / d), 0, 0.5], tolerance: 1e-7, "right shoulder, frame 1")
        PreprocessFixture.assertClose(joint(1, 0), [0, 0, 0.7], tolerance: 1e-7, "neck, frame 1")
        // Hand landmark 4 is joint 7; frame 2's neck is (80, 50).
        PreprocessFixture.assertClose(joint(2, 7), [Float(-10 / d), Float(-30 / d), 1], tolerance: 1e-7, "hand, frame 2")
        // Detected once: not interpolated, so undetected elsewhere, and minus the neck like every joint.
        PreprocessFixture.assertClose(joint(0, 7), [Float(-70 / d), Float(-50 / d), 0], tolerance: 1e-7, "hand, frame 0")
        XCTAssertEqual(joint(3, 0) + joint(3, 26), [0, 0, 0, 0, 0, 0])  // padding stays zero
    }

    func testNonFiniteResultIsRefused() {
        var clip = HolisticClip(undetectedFrames: 2)
        // Shoulders 2e-38 apart: a hand 1000 pixels away is 4e40 shoulder widths away, beyond float32.
        clip.set(.pose, frame: 0, landmark: 11, x: 1e-38, y: 0, c: 1)
        clip.set(.pose, frame: 0, landmark: 12, x: -1e-38, y: 0, c: 1)
        clip.set(.rightHand, frame: 0, landmark: 0, x: 1000, y: 0, c: 1)
        XCTAssertThrowsError(try HolisticPreprocessor.modelInput(for: clip, preparation: neck)) { error in
            XCTAssertTrue((error as? RequestError)?.message.contains("not finite") ?? false, "\(error)")
        }
    }

    /// JSONValue back to Foundation objects, to serialise a fixture's request into a body.
    private func foundationObject(_ value: JSONValue) throws -> Any {
        switch value {
        case .null: return NSNull()
        case .bool(let flag): return flag
        case .number(let number): return number
        case .string(let text): return text
        case .array(let items): return try items.map(foundationObject)
        case .object(let members):
            var dictionary: [String: Any] = [:]
            for member in members { dictionary[member.key] = try foundationObject(member.value) }
            return dictionary
        case .tensor(let shape, let values):
            func nest(_ level: Int, _ offset: Int) -> Any {
                if level == shape.count - 1 { return Array(values[offset..<offset + shape[level]]) }
                let stride = shape[(level + 1)...].reduce(1, *)
                return (0..<shape[level]).map { nest(level + 1, offset + $0 * stride) }
            }
            return nest(0, 0)
        }
    }
}
