import WireFormats
import XCTest
@testable import InferenceService
import SignBERTRuntime

/// A buffered landmark frame keeps only what the decoder reads, so a client cannot park megabytes per frame in a
/// stream's buffer through fields the decoder ignores; what it keeps decodes exactly as the frame it came from.
final class StreamFrameCompactionTests: XCTestCase {
    private func point(_ i: Int, extra: [(key: String, value: JSONValue)]) -> JSONValue {
        .object([(key: "x", value: .number(0.4 + Double(i) / 200)), (key: "y", value: .number(0.3 + Double(i) / 300)),
                 (key: "z", value: .number(-0.1)), (key: "visibility", value: .number(0.9))] + extra)
    }

    func testIgnoredFieldsAreDroppedAndTheFrameDecodesAlike() throws {
        let junk = JSONValue.tensor(shape: [100_000], values: Array(repeating: 1, count: 100_000))
        let pose = JSONValue.array((0..<33).map { point($0, extra: [(key: "presence", value: .number(1)), (key: "junk", value: junk)]) })
        let hand = JSONValue.tensor(shape: [21, 3], values: (0..<63).map { Double($0) / 100 })
        let frame = JSONValue.object([(key: "pose", value: pose), (key: "left_hand", value: hand),
                                      (key: "right_hand", value: .null), (key: "face", value: junk)])
        let compact = StreamFrameDecoder.compacted(frame)

        XCTAssertNil(compact["face"])
        guard case .array(let points)? = compact["pose"], case .object(let members) = points[0] else {
            return XCTFail("the pose should stay an array of landmark objects")
        }
        XCTAssertEqual(members.map(\.key), ["x", "y", "z", "visibility"])
        XCTAssertEqual(compact["left_hand"], hand)
        XCTAssertEqual(compact["right_hand"], .null)

        func clip(_ frame: JSONValue) throws -> HolisticClip {
            try HolisticRequestDecoder.decodeClip(.object([(key: "image_width", value: .number(640)),
                                                           (key: "image_height", value: .number(480)),
                                                           (key: "frames", value: .array([frame]))]),
                                                  path: "clip", maxFrames: 1)
        }
        XCTAssertEqual(try clip(compact), try clip(frame))
    }
}
