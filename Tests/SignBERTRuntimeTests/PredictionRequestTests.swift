import Foundation
import SignBERTRuntime
import WireFormats
import XCTest

final class PredictionRequestTests: XCTestCase {
    private let config = SignBERTConfig(numJoints: 2, numCoords: 3, numFrames: 2, embedDim: 8, depth: 1, numHeads: 2,
                                        mlpRatio: 2, numClasses: 4)

    /// D = num_frames = 2 (a v1 model's).
    private let preparation = ClipPreparation(frames: 2, centre: .midHip)

    private func decode(_ text: String, maxBatch: Int = 8) throws(RequestError) -> PredictionRequest {
        try PredictionRequestDecoder.decode(Data(text.utf8), config: config, preparation: preparation, maxClips: maxBatch)
    }

    private func message(_ text: String, maxBatch: Int = 8) -> String {
        do { _ = try decode(text, maxBatch: maxBatch); return "accepted" } catch { return error.message }
    }

    private let clip = "[[[1,2,3],[4,5,6]],[[7,8,9],[10,11,12]]]"

    func testNestedAndFlatClipsDecodeToTheSameFloats() throws {
        let nested = try decode("{\"inputs\": [\(clip), \(clip)]}")
        let flat = try decode("{\"inputs\": [[[1,2,3,4,5,6],[7,8,9,10,11,12]]], \"top_k\": 2, \"return_logits\": true}")
        XCTAssertEqual(nested.batch, 2)
        XCTAssertEqual(nested.clips, (1...12).map(Float.init) + (1...12).map(Float.init))
        XCTAssertEqual(nested.topK, 4)  // default 5, capped at K
        XCTAssertFalse(nested.returnLogits)
        XCTAssertEqual(flat.clips, (1...12).map(Float.init))
        XCTAssertEqual(flat.topK, 2)
        XCTAssertTrue(flat.returnLogits)
        // Clips of both forms in one request.
        let mixed = try decode("{\"inputs\": [\(clip), [[1,2,3,4,5,6],[7,8,9,10,11,12]]]}")
        XCTAssertEqual(mixed.clips, nested.clips)
    }

    func testEveryMistakeNamesTheFieldAndWhy() {
        XCTAssertTrue(message("{\"inputs\": [").hasPrefix("malformed JSON"))
        XCTAssertTrue(message("[1]").contains("must be a JSON object"))
        XCTAssertTrue(message("{}").contains("missing field \"inputs\""))
        XCTAssertTrue(message("{\"inputs\": \"x\"}").contains("\"inputs\" must be an array of clips, got a string"))
        XCTAssertTrue(message("{\"inputs\": []}").contains("\"inputs\" is empty"))
        XCTAssertTrue(message("{\"inputs\": [\(clip),\(clip),\(clip)]}", maxBatch: 2).contains("has 3 clips; at most 2"))
        XCTAssertTrue(message("{\"inputs\": [[[[1,2,3],[4,5,6]]]], \"frames\": \"exact\"}")
            .contains("has 1 frames; with \"frames\": \"exact\" it must have exactly 2"))
        XCTAssertTrue(message("{\"inputs\": [\(clip)], \"frames\": \"all\"}").contains("\"frames\" must be \"sample\""))
        XCTAssertTrue(message("{\"inputs\": [\(clip)], \"frames\": 3}").contains("got a number"))
        XCTAssertTrue(message("{\"inputs\": [[[[1,2],[4,5]],[[7,8],[1,2]]]]}").contains("has shape [2][2][2]; expected [frames][2 joints][3 coords] or [frames][6 features]"))
        XCTAssertTrue(message("{\"inputs\": [[[[1,2,3],[4,5,6]],[[7,8,9],[10,11]]]]}").contains("inputs[0][1] has joints of different lengths"))
        XCTAssertTrue(message("{\"inputs\": [\(clip), [[[1,2,3],[4,5,\"6\"]],[[7,8,9],[10,11,12]]]]}")
            .contains("inputs[1][0][1] must be a number or an array of numbers, got an array"))
        XCTAssertTrue(message("{\"inputs\": [[[[1,2,3],[4,5,6]],[[7,8,9],[10,11,1e39]]]]}").contains("not a finite float32"))
        XCTAssertTrue(message("{\"inputs\": [\(clip)], \"top_k\": 0}").contains("\"top_k\" must be a whole number"))
        XCTAssertTrue(message("{\"inputs\": [\(clip)], \"top_k\": 1.5}").contains("\"top_k\" must be a whole number"))
        XCTAssertTrue(message("{\"inputs\": [\(clip)], \"top_k\": \"3\"}").contains("\"top_k\" must be a number"))
        XCTAssertTrue(message("{\"inputs\": [\(clip)], \"return_logits\": 1}").contains("\"return_logits\" must be true or false"))
        XCTAssertTrue(message("{\"inputs\": [NaN]}").hasPrefix("malformed JSON"))
    }

    /// Feature arrays of any length are brought to the run's D frames by default as its loader did (spec
    /// step 5): a short one repeats its last frame, a long one keeps its centre frames; the length limit holds.
    func testClipsOfAnyLengthAreBroughtToTheRunsFrames() throws {
        let short = try decode("{\"inputs\": [[[[1,2,3],[4,5,6]]]]}")  // 1 frame
        XCTAssertEqual(short.clips, [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6])
        // 5 frames of 6 features (flat form), frame k holding k in every feature: frames 1 and 2 are kept.
        let long = try decode("{\"inputs\": [[" + (0..<5).map { k in "[" + Array(repeating: "\(k)", count: 6).joined(separator: ",") + "]" }
            .joined(separator: ",") + "]]}")
        XCTAssertEqual(long.clips, Array(repeating: 1, count: 6) + Array(repeating: 2, count: 6))
        // Mixed lengths in one request.
        let mixed = try decode("{\"inputs\": [[[[1,2,3],[4,5,6]]], \(clip)]}")
        XCTAssertEqual(mixed.batch, 2)
        XCTAssertEqual(Array(mixed.clips[12...]), (1...12).map(Float.init))
        XCTAssertEqual(try decode("{\"inputs\": [\(clip)], \"frames\": \"exact\"}").clips, (1...12).map(Float.init))
        do {
            _ = try PredictionRequestDecoder.decode(Data("{\"inputs\": [\(clip)]}".utf8), config: config, preparation: preparation,
                                                    maxClips: 8, maxFrames: 1)
            XCTFail("a clip over the frame limit was accepted")
        } catch {
            XCTAssertTrue(error.message.contains("has 2 frames; at most 1 are accepted"), error.message)
        }
    }

    func testPredictionsRankBySoftmaxAndEncode() throws {
        let predictions = Prediction.batch(logits: [0, 2, 1, 2, 5, 0, 0, 0], numClasses: 4, labels: ["a", "b", "c", "d"],
                                           topK: 2, includeLogits: true)
        XCTAssertEqual(predictions.map(\.classID), [1, 0])
        XCTAssertEqual(predictions[0].topK.map(\.classID), [1, 3])  // tie between 1 and 3: lower id first
        let total = exp(0.0) + 2 * exp(2.0) + exp(1.0)
        XCTAssertEqual(predictions[0].score, exp(2.0) / total, accuracy: 1e-12)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(PredictionEncoder.encode(predictions))) as? [String: Any])
        let first = try XCTUnwrap((json["predictions"] as? [[String: Any]])?.first)
        XCTAssertEqual(first["class_id"] as? Int, 1)
        XCTAssertEqual(first["label"] as? String, "b")
        XCTAssertEqual(first["logits"] as? [Double], [0, 2, 1, 2])
        XCTAssertEqual((first["top_k"] as? [[String: Any]])?.count, 2)
    }
}
