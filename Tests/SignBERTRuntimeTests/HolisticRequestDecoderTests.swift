import Foundation
import SignBERTRuntime
import WireFormats
import XCTest

/// The landmark form's checks, one rule per test: each mistake is a RequestError whose message starts with
/// the JSON path of the wrong value and says what was expected.
final class HolisticRequestDecoderTests: XCTestCase {
    private let config = SignBERTConfig.defaults

    private func landmarks(_ count: Int, _ landmark: String) -> String {
        "[" + Array(repeating: landmark, count: count).joined(separator: ",") + "]"
    }
    private var pose: String { landmarks(33, "[0.5,0.4,-0.1,0.9]") }
    private var hand: String { landmarks(21, "[0.6,0.7,0.01]") }
    private var frame: String { "{\"pose\":\(pose),\"left_hand\":\(hand),\"right_hand\":null}" }

    /// A body with one landmark clip of `frames` (default: two good frames).
    private func body(frames: [String]? = nil, clipFields: String = "\"image_width\":1280,\"image_height\":720") -> String {
        let frames = frames ?? [frame, frame]
        return "{\"inputs\":[{\(clipFields),\"frames\":[\(frames.joined(separator: ","))]}]}"
    }

    private func message(_ text: String, config: SignBERTConfig? = nil) -> String {
        do {
            let config = config ?? self.config
            _ = try PredictionRequestDecoder.decode(Data(text.utf8), config: config, preparation: .defaults(for: config), maxClips: 4)
            return "accepted"
        } catch {
            return error.message
        }
    }

    func testAGoodClipIsAcceptedInEveryForm() throws {
        XCTAssertEqual(message(body()), "accepted")
        // Objects, hands with 4 values, missing parts as null or absent, a frame with nothing, face ignored.
        let objectPose = landmarks(33, "{\"x\":0.5,\"y\":0.4,\"z\":0,\"visibility\":0.8,\"presence\":0.9}")
        let objectHand = landmarks(21, "{\"x\":0.6,\"y\":0.7,\"z\":0}")
        let frames = ["{\"pose\":\(objectPose),\"right_hand\":\(objectHand),\"face\":[[0.1,0.2,0.3]]}",
                      "{\"pose\":null,\"left_hand\":\(landmarks(21, "[0.6,0.7,0,0.3]"))}", "{}"]
        XCTAssertEqual(message(body(frames: frames)), "accepted")
        // The values: pixels, visibility for the pose, 1 for a hand, zeros where undetected.
        let document = try JSONParser.parse(Data(body(frames: frames).utf8))
        guard case .array(let inputs)? = document["inputs"], let clipValue = inputs.first else { return XCTFail() }
        let clip = try HolisticRequestDecoder.decodeClip(clipValue, path: "inputs[0]")
        XCTAssertEqual(clip.frameCount, 3)
        XCTAssertEqual(Array(clip.pose[0..<3]), [640, 288, 0.8])
        XCTAssertEqual(Array(clip.rightHand[0..<3]), [Float(0.6 * 1280), Float(0.7 * 720), 1])
        XCTAssertEqual(Array(clip.leftHand[0..<3]), [0, 0, 0])
        XCTAssertEqual(Array(clip.pose[99..<102]), [0, 0, 0])           // frame 1: pose null
        XCTAssertEqual(Array(clip.leftHand[63..<66]), [Float(0.6 * 1280), Float(0.7 * 720), 1])  // visibility ignored
        XCTAssertEqual(clip.pose[198...].allSatisfy { $0 == 0 }, true)  // frame 2: nothing
    }

    func testTheModelMustBeMediapipe27() {
        let other = SignBERTConfig(numJoints: 2, numCoords: 3, numFrames: 2, embedDim: 8, depth: 1, numHeads: 2,
                                   mlpRatio: 2, numClasses: 4)
        XCTAssertEqual(message(body(), config: other),
                       "inputs[0] is a landmark clip, which needs a model of the mediapipe_27 layout (27 joints x 3 "
                       + "coords); this model takes 2 joints x 3 coords")
    }

    func testALandmarkClipMustSitInTheInputsArray() {
        XCTAssertEqual(message("{\"inputs\":{\"image_width\":1280,\"image_height\":720,\"frames\":[\(frame)]}}"),
                       "\"inputs\" must be an array of clips, got an object (put a landmark clip in [ ])")
    }

    func testUnknownClipFieldIsRefused() {
        XCTAssertEqual(message(body(clipFields: "\"image_width\":1280,\"image_height\":720,\"fps\":30")),
                       "inputs[0]: unknown field \"fps\"; a landmark clip has image_width, image_height and frames")
    }

    func testImageSizeIsRequired() {
        XCTAssertEqual(message(body(clipFields: "\"image_height\":720")),
                       "inputs[0].image_width: missing; the image size in pixels is needed")
    }

    func testImageSizeMustBeANumber() {
        XCTAssertEqual(message(body(clipFields: "\"image_width\":\"1280\",\"image_height\":720")),
                       "inputs[0].image_width: expected a number of pixels, got a string")
    }

    func testImageSizeMustBeAPlausibleWholeNumber() {
        for (bad, shown) in [("0", "0"), ("-720", "-720"), ("720.5", "720.5"), ("1e6", "1000000")] {
            XCTAssertEqual(message(body(clipFields: "\"image_width\":1280,\"image_height\":\(bad)")),
                           "inputs[0].image_height: expected a whole number of pixels from 1 to 65535, got \(shown)")
        }
    }

    func testFramesAreRequired() {
        XCTAssertTrue(message("{\"inputs\":[{\"image_width\":1280,\"image_height\":720}]}")
            .hasPrefix("inputs[0].frames: missing; expected an array of frames"))
    }

    func testFramesMustBeAnArrayOfObjects() {
        XCTAssertEqual(message("{\"inputs\":[{\"image_width\":1,\"image_height\":1,\"frames\":{}}]}"),
                       "inputs[0].frames: expected an array of frame objects, got an object")
        XCTAssertEqual(message("{\"inputs\":[{\"image_width\":1,\"image_height\":1,\"frames\":[1,2]}]}"),
                       "inputs[0].frames: expected an array of frame objects, got an array of numbers")
        XCTAssertEqual(message(body(frames: [frame, "[1,2]"])),
                       "inputs[0].frames[1]: expected an object with pose, left_hand, right_hand, got an array")
    }

    func testFramesMustNotBeEmpty() {
        XCTAssertEqual(message(body(frames: [])), "inputs[0].frames is empty: send at least one frame")
    }

    func testUnknownFrameFieldIsRefused() {
        XCTAssertEqual(message(body(frames: [frame, "{\"left_hand_landmarks\":\(hand)}"])),
                       "inputs[0].frames[1]: unknown field \"left_hand_landmarks\"; a frame has pose, left_hand and "
                       + "right_hand (face is accepted and ignored)")
    }

    func testAPartMustBeAnArrayOrNull() {
        XCTAssertEqual(message(body(frames: ["{\"pose\":\"none\"}"])),
                       "inputs[0].frames[0].pose: expected an array of 33 landmarks or null, got a string")
    }

    func testLandmarkCountsAreChecked() {
        XCTAssertEqual(message(body(frames: ["{\"pose\":\(landmarks(32, "[0.5,0.4,-0.1,0.9]"))}"])),
                       "inputs[0].frames[0].pose: expected 33 landmarks, got 32")
        XCTAssertEqual(message(body(frames: [frame, "{\"right_hand\":[]}"])),
                       "inputs[0].frames[1].right_hand: expected 21 landmarks, got 0")
    }

    func testPoseLandmarksNeedFourNumbers() {
        let pose = "[" + Array(repeating: "[0.5,0.4,-0.1,0.9]", count: 32).joined(separator: ",") + ",[0.5,0.4,0.1]]"
        XCTAssertEqual(message(body(frames: ["{\"pose\":\(pose)}"])),
                       "inputs[0].frames[0].pose[32]: expected 4 numbers [x, y, z, visibility], got 3")
    }

    func testHandLandmarksNeedThreeOrFourNumbers() {
        let bad = "[[0.1,0.2,0],[0.1,0.2,0],[0.1,0.2,0],[0.1,0.2]," + Array(repeating: "[0.1,0.2,0]", count: 17)
            .joined(separator: ",") + "]"
        let frames = Array(repeating: frame, count: 12) + ["{\"left_hand\":\(bad)}"]
        XCTAssertEqual(message(body(frames: frames)), "inputs[0].frames[12].left_hand[3]: expected 3 or 4 numbers, got 2")
        XCTAssertEqual(message(body(frames: ["{\"left_hand\":\(landmarks(21, "[0.1,0.2,0,1,5]"))}"])),
                       "inputs[0].frames[0].left_hand[0]: expected 3 or 4 numbers, got 5")
    }

    func testLandmarkValuesMustBeNumbers() {
        XCTAssertEqual(message(body(frames: ["{\"right_hand\":\(landmarks(21, "[0.1,\"0.2\",0]"))}"])),
                       "inputs[0].frames[0].right_hand[0]: expected 3 or 4 numbers, got an array holding a string")
        XCTAssertEqual(message(body(frames: ["{\"right_hand\":\(landmarks(21, "{\"x\":0.1,\"y\":null,\"z\":0}"))}"])),
                       "inputs[0].frames[0].right_hand[0].y: expected a number, got null")
        XCTAssertEqual(message(body(frames: ["{\"right_hand\":\(landmarks(21, "true"))}"])),
                       "inputs[0].frames[0].right_hand[0]: expected 3 or 4 numbers or an object, got a boolean")
        XCTAssertEqual(message(body(frames: ["{\"pose\":[" + Array(repeating: "0.5", count: 33).joined(separator: ",") + "]}"])),
                       "inputs[0].frames[0].pose[0]: expected 4 numbers [x, y, z, visibility] or an object, got a number")
    }

    func testLandmarkObjectsNeedTheirFields() {
        XCTAssertEqual(message(body(frames: ["{\"pose\":\(landmarks(33, "{\"x\":0.1,\"y\":0.2,\"z\":0}"))}"])),
                       "inputs[0].frames[0].pose[0].visibility: missing; a pose landmark needs x, y, z and visibility")
        XCTAssertEqual(message(body(frames: ["{\"left_hand\":\(landmarks(21, "{\"x\":0.1,\"y\":0.2}"))}"])),
                       "inputs[0].frames[0].left_hand[0].z: missing; a hand landmark needs x, y and z")
    }

    func testValuesMustBeFinite() {
        XCTAssertEqual(message(body(frames: ["{\"left_hand\":\(landmarks(21, "[0.1,1e400,0]"))}"])),
                       "inputs[0].frames[0].left_hand[0][1]: not a finite number")
        XCTAssertEqual(message(body(frames: ["{\"left_hand\":\(landmarks(21, "{\"x\":-1e999,\"y\":0,\"z\":0}"))}"])),
                       "inputs[0].frames[0].left_hand[0].x: not a finite number")
        XCTAssertEqual(message(body(frames: ["{\"left_hand\":\(landmarks(21, "[1e36,0.5,0]"))}"])),
                       "inputs[0].frames[0].left_hand[0]: a value is beyond float32 once in pixels")
    }
}
