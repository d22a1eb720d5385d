import Foundation
import SignBERTRuntime
import XCTest

/// The `.pose` reader on the two real MediaPipe Holistic recordings of the shared data (../shared/data/pose, not in
/// the repository) against pose-format and numpy (Fixtures/preprocess/shared-pose-files.json). tools/test.sh leaves
/// the `SharedRecordings` classes out, so that a fresh clone passes; .ci/run runs them as a step of their own
/// (tools/test_shared_recordings.sh), and they fail, never skip, when the recordings are absent.
final class SharedRecordingsTests: XCTestCase {
    func testRealRecordingsMatchPoseFormatAndNumpy() throws {
        let fixture = try PreprocessFixture.json("shared-pose-files.json")
        let files = PreprocessFixture.items(fixture["files"])
        XCTAssertEqual(files.map { PreprocessFixture.string($0["name"]) }, ["mediapipe.pose", "mediapipe_long.pose"])
        for item in files {
            try PoseFileReaderTests.assertMatchesPoseFormat(
                PreprocessFixture.sharedRecording(PreprocessFixture.string(item["path"])), item)
        }
    }

    func testTruncatedRealRecordingIsAnError() throws {
        let real = try PreprocessFixture.sharedRecording("mediapipe.pose")
        PoseFileReaderTests.assertEveryCutIsRefused([("mediapipe.pose", real)])
        // 178 points of 4 float32 per frame; v0.1 infers the frame count from the size.
        let cut = [UInt8](real).dropLast(178 * 4 * 4)
        XCTAssertEqual(PoseFileReaderTests.message(Array(cut)),
                       "malformed .pose file: it declares 170 frames but its body holds 169 frames of 2848 bytes")
    }
}
