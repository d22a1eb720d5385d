import Foundation
import XCTest

/// Hostile and broken model files: every one must end the process with status 1 and exactly one
/// `error: ...` line that names the problem, never with a crash, and never run anything from a pickle.
final class HostileCheckpointTests: XCTestCase {
    static let pwnedMarker = "/tmp/signbert-pwned"

    private var scratch: TemporaryDirectory!

    override func setUpWithError() throws {
        scratch = try TemporaryDirectory()
    }

    override func tearDown() {
        scratch = nil
    }

    private func inspect(_ file: URL, _ extra: [String] = []) throws -> SignBERTProcess.Result {
        try SignBERTProcess.run(["inspect"] + extra + [file.path], timeout: 30)
    }

    /// A safetensors file from a header object and the data bytes after it.
    private func safetensors(_ name: String, header: [String: Any], data: Data) throws -> URL {
        let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var bytes = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
        return try scratch.write(name, bytes + json + data)
    }

    // MARK: Pickles that would run code

    func testPicklesCallingOSSystemAreRefusedWithoutRunningAnything() throws {
        try? FileManager.default.removeItem(atPath: Self.pwnedMarker)
        let evil = [
            (CommandFixtures.broken.appendingPathComponent("evil_os_system.pth"), "posix.system"),
            (CommandFixtures.readers.appendingPathComponent("evil-reduce.pth"), "os.system"),
        ]
        for (file, global) in evil {
            assertOneErrorLine(try inspect(file), mentioning: [global, file.lastPathComponent], "inspect \(file.lastPathComponent)")
            let request = try scratch.write("request.json", CommandFixtures.v1SmallCase().requestBody())
            let predict = try SignBERTProcess.run(["predict", "--checkpoint", file.path, "--num-heads", "4", "--input", request.path])
            assertOneErrorLine(predict, mentioning: [global], "predict \(file.lastPathComponent)")
            let serve = try SignBERTProcess.run(["serve", "--checkpoint", file.path, "--host", "127.0.0.1", "--port", "0"], timeout: 30)
            assertOneErrorLine(serve, mentioning: [global], "serve \(file.lastPathComponent)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: Self.pwnedMarker), "a pickle ran os.system")
    }

    // MARK: Damaged torch.save archives

    func testTruncatedCheckpoint() throws {
        let whole = try Data(contentsOf: CommandFixtures.trainingRun)
        let half = try scratch.write("checkpoint_best.pth", whole.prefix(whole.count / 2))
        assertOneErrorLine(try inspect(half), mentioning: ["truncated", "checkpoint_best.pth"])
        let request = try scratch.write("request.json", CommandFixtures.v1SmallCase().requestBody())
        assertOneErrorLine(try SignBERTProcess.run(["predict", "--checkpoint", half.path, "--input", request.path]),
                           mentioning: ["truncated"], "predict")
        // Cut anywhere, not only in half: never a crash.
        for fraction in [0.01, 0.1, 0.9, 0.999] {
            let cut = try scratch.write("cut.pth", whole.prefix(Int(Double(whole.count) * fraction)))
            assertOneErrorLine(try inspect(cut), mentioning: ["cut.pth"], "cut at \(fraction)")
        }
    }

    func testLegacyBigEndianAndNonContiguousCheckpoints() throws {
        let cases = [
            ("legacy.pth", ["legacy"]),
            ("big-endian.pth", ["big-endian"]),
            ("non-contiguous.pth", ["contiguous", "'w'"]),
            ("short-storage.pth", ["storage"]),
            ("missing-storage.pth", ["data/0"]),
        ]
        for (name, words) in cases {
            assertOneErrorLine(try inspect(CommandFixtures.readers.appendingPathComponent(name)), mentioning: words + [name], name)
        }
    }

    func testFilesThatAreNoCheckpointAtAll() throws {
        let text = try scratch.write("notes.pth", Data("these are my notes, not a checkpoint\n".utf8))
        assertOneErrorLine(try inspect(text), mentioning: ["not a PyTorch or safetensors checkpoint", "notes.pth"])
        let empty = try scratch.write("empty.safetensors", Data())
        assertOneErrorLine(try inspect(empty), mentioning: ["empty.safetensors"])
        assertOneErrorLine(try inspect(scratch.file("absent.pth")), mentioning: ["absent.pth", "does not exist"])
        let random = try scratch.write("random.bin", Data((0..<4096).map { _ in UInt8.random(in: 0...255) }))
        assertOneErrorLine(try inspect(random), mentioning: ["random.bin"])
    }

    // MARK: safetensors

    func testTruncatedSafetensors() throws {
        let whole = try Data(contentsOf: CommandFixtures.safetensorsF32)
        let half = try scratch.write("half.safetensors", whole.prefix(whole.count / 2))
        assertOneErrorLine(try inspect(half, ["--num-heads", "4"]), mentioning: ["truncated", "half.safetensors"])
        let headerCut = try scratch.write("header-cut.safetensors", whole.prefix(200))
        assertOneErrorLine(try inspect(headerCut, ["--num-heads", "4"]), mentioning: ["header-cut.safetensors"])
    }

    func testHeaderDeclaringA2To60ElementTensor() throws {
        let huge = try safetensors("huge.safetensors",
                                   header: ["w": ["dtype": "F32", "shape": [1 << 60], "data_offsets": [0, 16]]],
                                   data: Data(count: 16))
        assertOneErrorLine(try inspect(huge, ["--num-heads", "4"]), mentioning: ["'w'", "1152921504606846976"])
        // Element counts that overflow Int must be caught, not trap.
        let overflow = try safetensors("overflow.safetensors",
                                       header: ["w": ["dtype": "F32", "shape": [1 << 40, 1 << 40, 1 << 40], "data_offsets": [0, 16]]],
                                       data: Data(count: 16))
        assertOneErrorLine(try inspect(overflow, ["--num-heads", "4"]), mentioning: ["'w'"])
        // And a header length of 2^62 bytes.
        var absurd = Data()
        withUnsafeBytes(of: (UInt64(1) << 62).littleEndian) { absurd.append(contentsOf: $0) }
        let header = try scratch.write("header.safetensors", absurd + Data("{}".utf8))
        assertOneErrorLine(try inspect(header, ["--num-heads", "4"]), mentioning: ["header"])
    }

    func testOffsetsPastTheEndAndOutOfOrder() throws {
        let past = try safetensors("past.safetensors",
                                   header: ["w": ["dtype": "F32", "shape": [4], "data_offsets": [0, 16_000]]],
                                   data: Data(count: 16))
        assertOneErrorLine(try inspect(past, ["--num-heads", "4"]), mentioning: ["'w'", "past the end"])
        let reversed = try safetensors("reversed.safetensors",
                                       header: ["w": ["dtype": "F32", "shape": [4], "data_offsets": [16, 0]]],
                                       data: Data(count: 16))
        assertOneErrorLine(try inspect(reversed, ["--num-heads", "4"]), mentioning: ["'w'"])
        let negative = try safetensors("negative.safetensors",
                                       header: ["w": ["dtype": "F32", "shape": [-4], "data_offsets": [0, 16]]],
                                       data: Data(count: 16))
        assertOneErrorLine(try inspect(negative, ["--num-heads", "4"]), mentioning: ["'w'"])
    }

    func testWrongDType() throws {
        let int8 = try safetensors("int8.safetensors",
                                   header: ["w": ["dtype": "I8", "shape": [4], "data_offsets": [0, 4]]],
                                   data: Data(count: 4))
        assertOneErrorLine(try inspect(int8, ["--num-heads", "4"]), mentioning: ["'w'", "I8"])
    }

    func testMissingKeyAndWrongShape() throws {
        assertOneErrorLine(try inspect(CommandFixtures.broken.appendingPathComponent("missing_key.safetensors"), ["--num-heads", "4"]),
                           mentioning: ["missing", "head.5.bias"])
        assertOneErrorLine(try inspect(CommandFixtures.broken.appendingPathComponent("wrong_shape.safetensors"), ["--num-heads", "4"]),
                           mentioning: ["blocks.1.attn.proj.weight", "[32, 31]", "[32, 32]"])
        let request = try scratch.write("request.json", CommandFixtures.v1SmallCase().requestBody())
        assertOneErrorLine(try SignBERTProcess.run(["predict", "--checkpoint",
                                                    CommandFixtures.broken.appendingPathComponent("missing_key.safetensors").path,
                                                    "--num-heads", "4", "--input", request.path]),
                           mentioning: ["head.5.bias"], "predict")
    }

    func testConfigAndLabelsThatContradictTheCheckpoint() throws {
        assertOneErrorLine(try inspect(CommandFixtures.trainingRun,
                                       ["--config", CommandFixtures.broken.appendingPathComponent("config_contradicts.yaml").path]),
                           mentioning: ["embed_dim", "64", "32"])
        assertOneErrorLine(try inspect(CommandFixtures.trainingRun,
                                       ["--labels", CommandFixtures.broken.appendingPathComponent("labels_wrong_count.txt").path]),
                           mentioning: ["8 labels", "9 classes"])
    }
}
