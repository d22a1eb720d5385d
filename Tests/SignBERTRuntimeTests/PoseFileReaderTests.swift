import Foundation
import SignBERTRuntime
import WireFormats
import XCTest

/// The `.pose` reader against pose-format (Fixtures/preprocess/pose-files.json: examples/wave.pose, a v0.1 recording
/// laid out like MediaPipe's, and synthetic-v02.pose, a v0.2 file pose-format wrote from synthetic data with two
/// people and shuffled point order), then malformed files: each an error, never a crash. The real recordings of
/// ../shared/data/pose are read by SharedRecordingsTests, a step of CI of its own.
final class PoseFileReaderTests: XCTestCase {
    private let config = SignBERTConfig.defaults

    private func error(_ bytes: [UInt8], maxFrames: Int = 10_000) -> String {
        do { _ = try PoseFileReader.readFile(bytes, maxFrames: maxFrames); return "accepted" } catch { return error.message }
    }

    func testFilesMatchPoseFormatAndNumpy() throws {
        let fixture = try PreprocessFixture.json("pose-files.json")
        let files = PreprocessFixture.items(fixture["files"])
        XCTAssertEqual(files.map { PreprocessFixture.string($0["name"]) }, ["synthetic-v02.pose", "wave.pose"])
        for item in files {
            let bytes = try PreprocessFixture.bytes(repositoryPath: PreprocessFixture.string(item["path"]))
            try Self.assertMatchesPoseFormat(bytes, item)
        }
    }

    /// The reader's header, frames and preprocessed model input for `bytes` equal pose-format's and numpy's in `item`.
    static func assertMatchesPoseFormat(_ bytes: Data, _ item: JSONValue) throws {
        let name = PreprocessFixture.string(item["name"])
        let pose = try PoseFileReader.readFile(bytes)
        XCTAssertEqual(Double(pose.header.version), PreprocessFixture.numbers(item["version"]).first.map(Double.init) ?? 0,
                       accuracy: 1e-6, name)
        XCTAssertEqual(pose.clip.frameCount, PreprocessFixture.int(item["frames"]), name)
        XCTAssertEqual(pose.fps, Double(PreprocessFixture.int(item["fps"])), name)
        XCTAssertEqual(pose.header.width, PreprocessFixture.int(item["width"]), name)
        XCTAssertEqual(pose.header.height, PreprocessFixture.int(item["height"]), name)
        XCTAssertEqual(pose.header.components.map(\.name),
                       PreprocessFixture.items(item["components"]).map { PreprocessFixture.string($0) }, name)
        // The reader's array form, frame by frame, equals pose-format's arrays mapped per the spec.
        for sample in PreprocessFixture.items(item["clip_samples"]) {
            let t = PreprocessFixture.int(sample["frame"])
            for (key, part) in [("pose", HolisticClip.Part.pose), ("left_hand", .leftHand), ("right_hand", .rightHand)] {
                let size = part.landmarkCount * 3
                PreprocessFixture.assertClose(Array(pose.clip.values(of: part)[t * size..<(t + 1) * size]),
                                              PreprocessFixture.numbers(sample[key]), tolerance: 0,
                                              "\(name) frame \(t) \(key)")
            }
        }
        let expected = PreprocessFixture.numbers(item["expected"])
        let neck = ClipPreparation(frames: 64, centre: .neck), midHip = ClipPreparation(frames: 64, centre: .midHip)
        let config = SignBERTConfig.defaults
        PreprocessFixture.assertClose(try HolisticPreprocessor.modelInput(for: pose.clip, preparation: neck), expected, name)
        PreprocessFixture.assertClose(try PredictionRequestDecoder.decodePose(bytes, config: config, preparation: neck),
                                      expected, "\(name) via decodePose")
        // With the mid-hip centre of commit cf4dfbb (a file without hip points is centred on (0, 0), as the
        // training code's rule gives).
        PreprocessFixture.assertClose(try PredictionRequestDecoder.decodePose(bytes, config: config, preparation: midHip),
                                      PreprocessFixture.numbers(item["expected_mid_hip"]), "\(name) via decodePose, mid-hip")
    }

    func testTruncatedFilesAreErrors() throws {
        let v01 = try PreprocessFixture.bytes(repositoryPath: "examples/wave.pose")
        let synthetic = try Data(contentsOf: PreprocessFixture.directory.appendingPathComponent("synthetic-v02.pose"))
        Self.assertEveryCutIsRefused([("wave.pose", v01), ("synthetic-v02.pose", synthetic)])
        // v0.1 infers the frame count from the size; a cut at a whole frame is caught by the declared count
        // (62 points of 4 float32 per frame).
        let cut = [UInt8](v01).dropLast(62 * 4 * 4)
        XCTAssertEqual(PoseFileReaderTests.message(Array(cut)),
                       "malformed .pose file: it declares 42 frames but its body holds 41 frames of 992 bytes")
    }

    static func message(_ bytes: [UInt8]) -> String {
        do { _ = try PoseFileReader.readFile(bytes, maxFrames: 10_000); return "accepted" } catch { return error.message }
    }

    /// Every cut in the header region, then every 97th byte of the body, is an error.
    static func assertEveryCutIsRefused(_ files: [(String, Data)]) {
        for (name, data) in files {
            let bytes = [UInt8](data)
            var cuts = Set(0..<min(3_000, bytes.count))
            cuts.formUnion(stride(from: 3_000, to: bytes.count, by: 97))
            for cut in cuts.sorted() {
                XCTAssertNotEqual(message(Array(bytes[0..<cut])), "accepted", "\(name) cut at \(cut)")
            }
        }
    }

    /// Random corruption of the header and the start of the body (counts, lengths, names, fps, frame count):
    /// each file is refused with a PoseFileError or read into a finite clip within the frame limit; no crash.
    func testCorruptedFilesNeverCrash() throws {
        let synthetic = [UInt8](try Data(contentsOf: PreprocessFixture.directory.appendingPathComponent("synthetic-v02.pose")))
        let built = PoseFileBuilder.holistic().bytes()
        var random = SplitMix64(seed: 2026)
        var refused = 0
        for round in 0..<3_000 {
            var bytes = round % 2 == 0 ? synthetic : built
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let at = Int.random(in: 0..<min(bytes.count, 1_600), using: &random)
                bytes[at] = [0x00, 0xFF, 0x7F, UInt8.random(in: 0...255, using: &random)][Int.random(in: 0..<4, using: &random)]
            }
            do {
                let clip = try PoseFileReader.read(bytes, maxFrames: 500)
                XCTAssertLessThanOrEqual(clip.frameCount, 500)
                XCTAssertTrue((clip.pose + clip.leftHand + clip.rightHand).allSatisfy(\.isFinite), "round \(round)")
            } catch {
                refused += 1
                XCTAssertFalse(error.message.isEmpty || error.message.contains("\n"), "round \(round): \(error.message)")
            }
        }
        XCTAssertGreaterThan(refused, 1_000, "most corruptions of counts and names are refused")
    }

    func testWrongVersionsAreErrors() {
        for version: Float in [0, 0.3, 1, .nan] {
            var builder = PoseFileBuilder.holistic()
            builder.version = version
            XCTAssertTrue(error(builder.bytes()).hasPrefix("unsupported .pose version"), "\(version)")
        }
        var v02 = PoseFileBuilder.holistic()
        v02.version = 0.2
        XCTAssertEqual(error(v02.bytes()), "accepted")
    }

    func testHugeCountsAreErrorsBeforeAllocation() {
        var bytes = PoseFileBuilder.holistic().bytes()
        bytes[10] = 0xFF; bytes[11] = 0xFF  // the number of components: 65535
        XCTAssertTrue(error(bytes).hasPrefix("truncated .pose file: 65535 components needs 655350 bytes"), error(bytes))

        bytes = PoseFileBuilder.holistic().bytes()
        bytes[12] = 0xFF; bytes[13] = 0xFF  // the first component's name length
        XCTAssertTrue(error(bytes).hasPrefix("truncated .pose file: the name of component 0 needs 65535 bytes"), error(bytes))

        var builder = PoseFileBuilder.holistic()
        builder.version = 0.2
        builder.declaredFrames = 0xFFFF_FFFF
        XCTAssertTrue(error(builder.bytes()).hasPrefix("truncated .pose file: 4294967295 frames need"), error(builder.bytes()))

        builder.declaredFrames = nil
        builder.frames = 12
        XCTAssertEqual(error(builder.bytes(), maxFrames: 11), "the .pose file has 12 frames; at most 11 are accepted")

        var padded = PoseFileBuilder.holistic()
        padded.version = 0.2
        XCTAssertEqual(error(padded.bytes() + [0, 0, 0, 0]), "malformed .pose file: 4 bytes follow its last frame")
    }

    func testPointCountBeyondTheFileIsAnError() {
        var builder = PoseFileBuilder(components: [.init(name: "POSE_LANDMARKS", points: ["A"])])
        var bytes = builder.bytes()
        // After version, sizes, component count (12 bytes), name (2 + 14) and format (2 + 4): the point count.
        let at = 12 + 16 + 6
        bytes[at] = 0xFF; bytes[at + 1] = 0xFF
        XCTAssertTrue(error(bytes).hasPrefix("truncated .pose file: the 65535 point names of POSE_LANDMARKS"), error(bytes))
        builder.components[0].format = "C"
        XCTAssertTrue(error(builder.bytes()).contains("point formats have 1 values"), error(builder.bytes()))
    }

    func testMissingComponentsAndPointsAreErrors() {
        var builder = PoseFileBuilder.holistic()
        builder.components[2].name = "LEFT_HAND"
        XCTAssertEqual(error(builder.bytes()),
                       "the .pose file has no LEFT_HAND_LANDMARKS component (it has: POSE_LANDMARKS, FACE_LANDMARKS, "
                       + "LEFT_HAND, RIGHT_HAND_LANDMARKS); MediaPipe Holistic landmarks are needed")
        builder = PoseFileBuilder.holistic()
        builder.components[0].points[12] = "RIGHT_SHOULDER_X"
        XCTAssertEqual(error(builder.bytes()),
                       "the .pose file's POSE_LANDMARKS has no point RIGHT_SHOULDER, which the model uses")
        // Pose points the model does not use may be missing (pose-format's reduced files keep 8).
        builder = PoseFileBuilder.holistic()
        builder.components[0].points[0] = "NOT_THE_NOSE"
        XCTAssertEqual(error(builder.bytes()), "accepted")
    }

    func testBadBodiesAreErrors() {
        var builder = PoseFileBuilder.holistic()
        builder.people = 0
        XCTAssertEqual(error(builder.bytes()), "malformed .pose file: it records 0 people")
        builder = PoseFileBuilder.holistic()
        builder.frames = 0
        XCTAssertEqual(error(builder.bytes()), "the .pose file holds no frames")
        builder = PoseFileBuilder.holistic()
        builder.point = { frame, _, index in index == 13 && frame == 1 ? (.nan, 1, 1) : (1, 1, 1) }
        XCTAssertEqual(error(builder.bytes()), "malformed .pose file: frame 1, POSE_LANDMARKS point LEFT_ELBOW is not finite")
        builder.point = { _, _, index in (1, 1, index == 35 ? -1 : 1) }
        XCTAssertEqual(error(builder.bytes()),
                       "malformed .pose file: frame 0, LEFT_HAND_LANDMARKS point WRIST has confidence -1.0")
        var bytes = PoseFileBuilder.holistic().bytes()
        bytes[14] = 0xC3  // the first byte of "POSE_LANDMARKS": a UTF-8 lead byte without its continuation
        XCTAssertTrue(error(bytes).hasSuffix("is not UTF-8"), error(bytes))
    }

    /// The array form: x, y as stored, pose confidence, 1 for a detected hand, zeros under confidence 0
    /// (whatever coordinates are stored there); the first person only; points found by name.
    func testMappingToTheArrayForm() throws {
        var builder = PoseFileBuilder.holistic()
        builder.components[2].points.reverse()  // left hand listed PINKY_TIP ... WRIST
        builder.people = 2
        builder.point = { frame, person, index in
            let confidence: Float = index >= 35 && index < 56 && frame == 1 ? 0 : (index < 33 ? 0.75 : 0.5)
            return (Float(10 * index + person), Float(frame), confidence)
        }
        let clip = try PoseFileReader.read(builder.bytes())
        XCTAssertEqual(clip.frameCount, 3)
        XCTAssertEqual(Array(clip.pose[3 * 11..<3 * 11 + 3]), [110, 0, 0.75])
        // Left hand WRIST is the component's last point: index 33 + 2 + 20.
        XCTAssertEqual(Array(clip.leftHand[0..<3]), [550, 0, 1])
        XCTAssertEqual(Array(clip.leftHand[63..<66]), [0, 0, 0])  // frame 1: confidence 0
        XCTAssertEqual(Array(clip.rightHand[63..<66]), [560, 1, 1])
    }

    func testDecodePoseChecksTheModel() throws {
        let neck = ClipPreparation(frames: 64, centre: .neck)
        var builder = PoseFileBuilder.holistic()
        builder.frames = 64
        XCTAssertEqual(try PredictionRequestDecoder.decodePose(builder.bytes(), config: config, preparation: neck, exact: true).count, 64 * 81)
        builder.frames = 3
        XCTAssertThrowsError(try PredictionRequestDecoder.decodePose(builder.bytes(), config: config, preparation: neck, exact: true)) {
            XCTAssertEqual(($0 as? RequestError)?.message,
                           "the .pose body has 3 frames; with \"frames\": \"exact\" it must have exactly 64 "
                           + "(the clip length the model was trained on, data.num_frames)")
        }
        XCTAssertThrowsError(try PredictionRequestDecoder.decodePose([1, 2, 3], config: config, preparation: neck)) {
            XCTAssertEqual(($0 as? RequestError)?.message,
                           "the .pose body: truncated .pose file: the version needs 4 bytes at offset 0, 3 remain")
        }
        let other = SignBERTConfig(numJoints: 2, numCoords: 3, numFrames: 2, embedDim: 8, depth: 1, numHeads: 2,
                                   mlpRatio: 2, numClasses: 4)
        XCTAssertThrowsError(try PredictionRequestDecoder.decodePose(builder.bytes(), config: other, preparation: neck)) {
            XCTAssertTrue(($0 as? RequestError)?.message.contains("needs a model of the mediapipe_27 layout") ?? false)
        }
    }
}
