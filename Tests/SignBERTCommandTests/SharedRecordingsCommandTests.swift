import Foundation
import XCTest

/// `predict --pose` on a real MediaPipe recording of the shared data (../shared/data/pose beside the repository, or
/// SIGNBERT_SHARED_DATA/pose). Left out of tools/test.sh with the other `SharedRecordings` classes and run by .ci/run
/// as a step of its own (tools/test_shared_recordings.sh); fails, never skips, when the recording is absent.
final class SharedRecordingsCommandTests: XCTestCase {
    func testPredictOnTheRealRecording() throws {
        let directory: URL
        if let path = ProcessInfo.processInfo.environment["SIGNBERT_SHARED_DATA"], !path.isEmpty {
            directory = URL(fileURLWithPath: path)
        } else {
            directory = PredictPoseCommandTests.repositoryRoot.appendingPathComponent("../shared/data").standardized
        }
        let poseFile = directory.appendingPathComponent("pose/mediapipe.pose")
        guard FileManager.default.fileExists(atPath: poseFile.path) else {
            return XCTFail("\(poseFile.path) is missing: this test needs the shared MediaPipe recordings "
                           + "(../shared/data/pose beside the repository, or SIGNBERT_SHARED_DATA)")
        }
        try PredictPoseCommandTests.assertPredictsLikeNumpy(posePath: poseFile.path, fixture: "shared-pose-files.json",
                                                            name: "mediapipe.pose")
    }
}
