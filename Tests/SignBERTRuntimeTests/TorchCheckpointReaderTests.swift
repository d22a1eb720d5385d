import Foundation
import XCTest
import ZIPFoundation
@testable import SignBERTRuntime

/// torch.save archives: real ones made by tools/make_reader_fixtures.py, and hostile ones built here.
final class TorchCheckpointReaderTests: XCTestCase {

    // MARK: - Fixtures

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/checkpoint-readers")

    struct ExpectedTensor: Decodable {
        var key: String
        var shape: [Int]
        var dtype: String
        var first: [Double]
        var count: Int
    }

    struct ExpectedFile: Decodable {
        var tensors: [ExpectedTensor]
        var metadata: [String: String]
        var ignored: [String]
    }

    static func expected(_ name: String) throws -> ExpectedFile {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("expected.json"))
        let all = try JSONDecoder().decode([String: ExpectedFile].self, from: data)
        return try XCTUnwrap(all[name], "expected.json has no \(name)")
    }

    /// Checks keys in order, shapes, stored dtypes, counts and the first values against expected.json.
    static func assertMatches(_ stateDict: StateDict, _ name: String, file: StaticString = #filePath,
                              line: UInt = #line) throws
    {
        let expected = try expected(name)
        XCTAssertEqual(stateDict.order, expected.tensors.map(\.key), file: file, line: line)
        XCTAssertEqual(Set(stateDict.tensors.keys), Set(expected.tensors.map(\.key)), file: file, line: line)
        for tensor in expected.tensors {
            let actual = try XCTUnwrap(stateDict.tensors[tensor.key], tensor.key, file: file, line: line)
            XCTAssertEqual(actual.shape, tensor.shape, tensor.key, file: file, line: line)
            XCTAssertEqual(actual.storedDType, tensor.dtype, tensor.key, file: file, line: line)
            XCTAssertEqual(actual.values.count, tensor.count, tensor.key, file: file, line: line)
            XCTAssertEqual(Array(actual.values.prefix(4)), tensor.first.map { Float($0) }, tensor.key,
                           file: file, line: line)
        }
        XCTAssertEqual(stateDict.metadata, expected.metadata, file: file, line: line)
        XCTAssertEqual(stateDict.ignoredEntries, expected.ignored, file: file, line: line)
    }

    private func fixture(_ name: String) -> URL { Self.fixtures.appendingPathComponent(name) }

    private func checkpointError(_ url: URL, file: StaticString = #filePath, line: UInt = #line) -> CheckpointError? {
        do {
            let stateDict = try CheckpointReader.read(url)
            XCTFail("read \(stateDict.order.count) tensors, expected an error", file: file, line: line)
            return nil
        } catch let error as CheckpointError {
            XCTAssertFalse(error.description.contains("\n"), "one line", file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix(url.path + ": "), error.description, file: file, line: line)
            return error
        } catch {
            XCTFail("not a CheckpointError: \(error)", file: file, line: line)
            return nil
        }
    }

    private var temporary: URL!

    override func setUpWithError() throws {
        temporary = FileManager.default.temporaryDirectory.appendingPathComponent("torch-reader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: temporary)
    }

    // MARK: - Real torch.save files

    func testTrainingRunDictWithOptimizerAndNumpyScalars() throws {
        let stateDict = try CheckpointReader.read(fixture("training-run.pth"))
        XCTAssertEqual(stateDict.format, "pytorch")
        try Self.assertMatches(stateDict, "training-run.pth")
        XCTAssertEqual(stateDict.metadata["best_val_acc"], "0.8125")  // numpy float64
        XCTAssertEqual(stateDict.metadata["best_val_f1"], "0.625")    // numpy float32
        XCTAssertTrue(stateDict.ignoredEntries.contains("optimizer_state_dict"))
        XCTAssertEqual(stateDict.tensors["pos_embed"]?.shape, [1, 4, 8])
    }

    func testBareStateDictLosesModulePrefix() throws {
        let stateDict = try CheckpointReader.read(fixture("bare-module-prefix.pth"))
        try Self.assertMatches(stateDict, "bare-module-prefix.pth")
        XCTAssertFalse(stateDict.order.contains { $0.hasPrefix("module.") })
        // Same weights as the training run.
        let training = try CheckpointReader.read(fixture("training-run.pth"))
        XCTAssertEqual(stateDict.tensors, training.tensors)
    }

    func testCompiledStateDictUnderStateDictKeyAtProtocol5() throws {
        let stateDict = try CheckpointReader.read(fixture("compiled-protocol5.pth"))
        try Self.assertMatches(stateDict, "compiled-protocol5.pth")
        XCTAssertEqual(stateDict.tensors, try CheckpointReader.read(fixture("training-run.pth")).tensors)
    }

    func testElementTypesOffsetsAndSharedStorages() throws {
        let stateDict = try CheckpointReader.read(fixture("dtypes.pth"))
        try Self.assertMatches(stateDict, "dtypes.pth")
        let tensors = stateDict.tensors
        XCTAssertEqual(tensors["half"]?.values, [1.0, -2.5, 65504.0, 0.00006103515625, 3.140625, -0.0])
        XCTAssertEqual(tensors["bf16"]?.values.prefix(2), [1.0, -3.0])
        XCTAssertEqual(tensors["double"]?.values, [0.1, -0.001])
        XCTAssertEqual(tensors["long"]?.values, [3, -4, 1_048_576])
        XCTAssertEqual(tensors["long"]?.storedDType, "I64")
        XCTAssertEqual(tensors["flags"]?.values, [1, 0, 1])
        XCTAssertEqual(tensors["row"]?.values, [0.5, 0.625, 0.75, 0.875])  // row 1 of arange(12)/8
        XCTAssertEqual(tensors["tied_a"], tensors["tied_b"])
        XCTAssertEqual(tensors["scalar"], Tensor(shape: [], values: [2.5], storedDType: "F32"))
    }

    // MARK: - Files that must be refused

    func testLegacyFormatIsRefusedWithAdvice() throws {
        let error = try XCTUnwrap(checkpointError(fixture("legacy.pth")))
        XCTAssertEqual(error.kind, .legacyTorchFormat)
        XCTAssertTrue(error.description.contains("re-save with torch>=1.6 or convert to safetensors"))
    }

    func testBigEndianArchiveIsRefused() throws {
        XCTAssertEqual(try XCTUnwrap(checkpointError(fixture("big-endian.pth"))).kind, .bigEndian)
    }

    func testNonContiguousStridesAreRefused() throws {
        let error = try XCTUnwrap(checkpointError(fixture("non-contiguous.pth")))
        guard case .badTensor(let name, let problem) = error.kind else { return XCTFail("\(error)") }
        XCTAssertEqual(name, "w")
        XCTAssertTrue(problem.contains("[1, 3]") && problem.contains("contiguous"), problem)
    }

    func testMissingStorageIsRefused() throws {
        let error = try XCTUnwrap(checkpointError(fixture("missing-storage.pth")))
        guard case .missingArchiveEntry(let member) = error.kind else { return XCTFail("\(error)") }
        XCTAssertTrue(member.hasSuffix("/data/0 (the storage of tensor 'w')"), member)
    }

    func testStorageShorterThanTheTensorIsRefused() throws {
        let error = try XCTUnwrap(checkpointError(fixture("short-storage.pth")))
        guard case .badTensor(let name, let problem) = error.kind else { return XCTFail("\(error)") }
        XCTAssertEqual(name, "w")
        XCTAssertTrue(problem.contains("run past its storage"), problem)
    }

    func testMaliciousReduceIsRefusedByName() throws {
        let error = try XCTUnwrap(checkpointError(fixture("evil-reduce.pth")))
        XCTAssertEqual(error.kind, .refusedGlobal("os.system"))
        XCTAssertEqual(error.detail,
                       "checkpoint refers to os.system, which is not a tensor or plain data; refusing to load it")
    }

    func testTruncatedArchivesFailCleanly() throws {
        let bytes = try Data(contentsOf: fixture("training-run.pth"))
        let cut = temporary.appendingPathComponent("cut.pth")
        for length in [10, 100, 1000, bytes.count / 2, bytes.count - 200, bytes.count - 23, bytes.count - 1] {
            try bytes.prefix(length).write(to: cut)
            let error = checkpointError(cut)
            guard case .damagedArchive? = error?.kind else {
                return XCTFail("length \(length): \(String(describing: error))")
            }
        }
    }

    func testCorruptedStorageBytesFailTheirCRC() throws {
        var bytes = try Data(contentsOf: fixture("bare-module-prefix.pth"))
        // Flip a byte inside the first storage: its local header is 30 bytes, then the name and
        // the extra field (torch pads it so the data is 64-byte aligned).
        let name = try XCTUnwrap(bytes.range(of: Data("data/0".utf8)))
        let header = name.upperBound - "bare-module-prefix/data/0".utf8.count - 30
        XCTAssertEqual(Array(bytes[header..<header + 4]), [0x50, 0x4B, 0x03, 0x04])
        let extraLength = Int(bytes[header + 28]) | Int(bytes[header + 29]) << 8
        bytes[name.upperBound + extraLength + 5] ^= 0xFF
        let url = temporary.appendingPathComponent("corrupt.pth")
        try bytes.write(to: url)
        let error = try XCTUnwrap(checkpointError(url))
        guard case .damagedArchive(let why) = error.kind else { return XCTFail("\(error)") }
        XCTAssertTrue(why.contains("CRC"), why)
    }

    func testCraftedDirectoryOffsetsAreErrorsNotTraps() throws {
        // torch writes a ZIP64 end record; offsets there are 64-bit. Values past Int64.max once
        // trapped a zip library converting them to off_t.
        let original = try Data(contentsOf: fixture("training-run.pth"))
        let record = try XCTUnwrap(original.range(of: Data([0x50, 0x4B, 0x06, 0x06]), options: .backwards)).lowerBound
        let centralDirectory = try XCTUnwrap(original.range(of: Data([0x50, 0x4B, 0x01, 0x02]))).lowerBound
        let cases: [(Int, [UInt8])] = [
            (record + 48, [0xF0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),  // directory offset near 2^64
            (record + 48, [0xF0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),  // near Int64.max
            (record + 32, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),  // entry count
            (record + 40, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),  // directory size
            (centralDirectory + 42, [0xF0, 0xFF, 0xFF, 0x7F]),               // a local header offset
            (centralDirectory + 20, [0xF0, 0xFF, 0xFF, 0x7F]),               // a compressed size
            (centralDirectory + 28, [0xFF, 0xFF]),                           // a name length
        ]
        let url = temporary.appendingPathComponent("crafted.pth")
        for (offset, patch) in cases {
            var bytes = original
            bytes.replaceSubrange(offset..<offset + patch.count, with: patch)
            try bytes.write(to: url)
            guard case .damagedArchive? = checkpointError(url)?.kind else { return XCTFail("patch at \(offset)") }
        }
    }

    func testDeflatedMembersAreInflated() throws {
        var pickle = TorchPickle()
        pickle.op("}"); pickle.str("w"); pickle.tensor(numel: 1000, shape: [10, 100], stride: [100, 1]); pickle.op("s")
        let values = (0..<1000).map { Float($0 % 7) / 4 }
        let url = try makeArchive(pickle, storages: ["0": floats(values)], compression: .deflate)
        XCTAssertEqual(try CheckpointReader.read(url).tensors["w"]?.values, values)

        // The same member cut short inside its deflate stream.
        var bytes = try Data(contentsOf: url)
        let name = try XCTUnwrap(bytes.range(of: Data("archive/data/0".utf8)))
        bytes[name.upperBound + 20] ^= 0x55
        try bytes.write(to: url)
        guard case .damagedArchive? = checkpointError(url)?.kind else { return XCTFail() }
    }

    func testRandomCorruptionNeverCrashes() throws {
        let original = try Data(contentsOf: fixture("dtypes.pth"))
        let url = temporary.appendingPathComponent("fuzz.pth")
        var state: UInt64 = 42
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        for _ in 0..<150 {
            var bytes = original
            for _ in 0..<(1 + next() % 3) { bytes[next() % bytes.count] = UInt8(truncatingIfNeeded: next()) }
            try bytes.write(to: url)
            _ = try? CheckpointReader.read(url)  // any outcome but a crash
        }
    }

    func testNotACheckpoint() throws {
        let text = temporary.appendingPathComponent("notes.pth")
        try Data("hello, world".utf8).write(to: text)
        XCTAssertEqual(checkpointError(text)?.kind, .notACheckpoint)
        XCTAssertEqual(checkpointError(text)?.description, "\(text.path): not a PyTorch or safetensors checkpoint")

        let pickle = temporary.appendingPathComponent("plain.pkl")
        try Data([0x80, 0x04, 0x4B, 0x01, 0x2E]).write(to: pickle)
        XCTAssertEqual(checkpointError(pickle)?.kind, .plainPickle)

        let missing = temporary.appendingPathComponent("nope.pth")
        guard case .unreadable? = checkpointError(missing)?.kind else { return XCTFail() }
        guard case .unreadable? = checkpointError(temporary)?.kind else { return XCTFail("directory") }
    }

    // MARK: - Archives built here

    /// `(storage 0: FloatStorage of `count` elements)` tensor pickled as torch does.
    private struct TorchPickle {
        var bytes: [UInt8] = [0x80, 0x02]
        mutating func op(_ code: Character, _ operand: [UInt8] = []) { bytes.append(code.asciiValue ?? 0); bytes += operand }
        mutating func raw(_ code: UInt8) { bytes.append(code) }
        mutating func str(_ text: String) {
            let utf8 = Array(text.utf8)
            op("X", (0..<4).map { UInt8(truncatingIfNeeded: utf8.count >> (8 * $0)) } + utf8)
        }
        mutating func int(_ value: Int) { op("J", (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }) }
        mutating func global(_ module: String, _ name: String) { op("c", Array("\(module)\n\(name)\n".utf8)) }
        mutating func tuple(_ values: [Int]) { op("("); values.forEach { int($0) }; op("t") }
        mutating func tensor(storage: String = "FloatStorage", key: String = "0", numel: Int, offset: Int = 0,
                             shape: [Int], stride: [Int])
        {
            global("torch._utils", "_rebuild_tensor_v2")
            op("(")
            op("("); str("storage"); global("torch", storage); str(key); str("cpu"); int(numel); op("t")
            op("Q")
            int(offset); tuple(shape); tuple(stride); raw(0x89)
            global("collections", "OrderedDict"); op(")"); op("R")
            op("t"); op("R")
        }
    }

    private func makeArchive(_ pickle: TorchPickle, storages: [String: [UInt8]] = [:], byteorder: String? = "little",
                             compression: CompressionMethod = .none) throws -> URL
    {
        let url = temporary.appendingPathComponent("built-\(UUID().uuidString).pth")
        let archive = try Archive(url: url, accessMode: .create)
        var members: [(String, [UInt8])] = [("archive/data.pkl", pickle.bytes + [UInt8(ascii: ".")])]
        if let byteorder { members.append(("archive/byteorder", Array(byteorder.utf8))) }
        for (key, bytes) in storages.sorted(by: { $0.key < $1.key }) { members.append(("archive/data/\(key)", bytes)) }
        members.append(("archive/version", Array("3\n".utf8)))
        for (path, content) in members {
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(content.count),
                                 compressionMethod: compression) {
                (position: Int64, size: Int) -> Data in
                Data(content[Int(position)..<Int(position) + size])
            }
        }
        return url
    }

    private func floats(_ values: [Float]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
    }

    func testSwiftBuiltArchiveUnderModelKeyWithOffsetView() throws {
        var pickle = TorchPickle()
        pickle.op("}")
        pickle.str("model")
        pickle.op("}")
        pickle.str("_orig_mod.module.w"); pickle.tensor(numel: 6, offset: 2, shape: [2, 2], stride: [2, 1]); pickle.op("s")
        pickle.op("s")
        pickle.str("note"); pickle.str("hello"); pickle.op("s")
        pickle.str("lr"); pickle.op("G", [0x3F, 0x50, 0x62, 0x4D, 0xD2, 0xF1, 0xA9, 0xFC]); pickle.op("s")
        let url = try makeArchive(pickle, storages: ["0": floats([9, 9, 1, 2, 3, 4])], byteorder: nil)
        let stateDict = try CheckpointReader.read(url)
        XCTAssertEqual(stateDict.order, ["w"])
        XCTAssertEqual(stateDict.tensors["w"], Tensor(shape: [2, 2], values: [1, 2, 3, 4]))
        XCTAssertEqual(stateDict.metadata, ["note": "hello", "lr": "0.001"])
    }

    func testDeclaredElementCountBeyondStorageBytes() throws {
        // The pickle claims 1000 elements; the member holds 4 floats.
        var pickle = TorchPickle()
        pickle.op("}"); pickle.str("w"); pickle.tensor(numel: 1000, shape: [10, 100], stride: [100, 1]); pickle.op("s")
        let url = try makeArchive(pickle, storages: ["0": floats([1, 2, 3, 4])])
        guard case .badTensor(let name, _)? = checkpointError(url)?.kind else { return XCTFail() }
        XCTAssertEqual(name, "w")
    }

    func testHugeShapeIsAnErrorNotAnAllocation() throws {
        var pickle = TorchPickle()
        pickle.op("}"); pickle.str("w")
        pickle.tensor(numel: 4, shape: [1 << 30, 1 << 30], stride: [1 << 30, 1]); pickle.op("s")
        let url = try makeArchive(pickle, storages: ["0": floats([1, 2, 3, 4])])
        guard case .badTensor? = checkpointError(url)?.kind else { return XCTFail() }
    }

    func testComplexTensorsAreRefusedByName() throws {
        var pickle = TorchPickle()
        pickle.op("}"); pickle.str("z")
        pickle.tensor(storage: "ComplexFloatStorage", numel: 1, shape: [1], stride: [1]); pickle.op("s")
        let url = try makeArchive(pickle, storages: ["0": floats([1, 2])])
        XCTAssertEqual(checkpointError(url)?.kind, .unsupportedDType(name: "z", dtype: "complex64"))
    }

    func testOnlyTheChosenStateDictsStoragesAreRead() throws {
        // The optimizer's tensor points at a storage that is not in the archive: never looked at.
        var pickle = TorchPickle()
        pickle.op("}")
        pickle.str("model_state_dict"); pickle.op("}")
        pickle.str("w"); pickle.tensor(numel: 2, shape: [2], stride: [1]); pickle.op("s")
        pickle.op("s")
        pickle.str("optimizer_state_dict"); pickle.op("}")
        pickle.str("exp_avg"); pickle.tensor(key: "99", numel: 2, shape: [2], stride: [1]); pickle.op("s")
        pickle.op("s")
        let url = try makeArchive(pickle, storages: ["0": floats([5, 6])])
        let stateDict = try CheckpointReader.read(url)
        XCTAssertEqual(stateDict.tensors["w"]?.values, [5, 6])
        XCTAssertEqual(stateDict.ignoredEntries, ["optimizer_state_dict"])
    }

    func testDictWithoutTensorsIsNotAStateDict() throws {
        var pickle = TorchPickle()
        pickle.op("}"); pickle.str("epoch"); pickle.int(3); pickle.op("s")
        let url = try makeArchive(pickle)
        guard case .noStateDict(let why)? = checkpointError(url)?.kind else { return XCTFail() }
        XCTAssertTrue(why.contains("epoch"), why)

        var list = TorchPickle()
        list.op("]")
        guard case .noStateDict? = checkpointError(try makeArchive(list))?.kind else { return XCTFail() }
    }

    func testArchiveWithoutDataPickle() throws {
        let url = temporary.appendingPathComponent("empty.pth")
        let archive = try Archive(url: url, accessMode: .create)
        try archive.addEntry(with: "archive/version", type: .file, uncompressedSize: Int64(2)) {
            (_: Int64, _: Int) -> Data in Data("3\n".utf8)
        }
        guard case .missingArchiveEntry? = checkpointError(url)?.kind else { return XCTFail() }
    }

    func testMalformedPickleInsideAnArchive() throws {
        var pickle = TorchPickle()
        pickle.raw(0xFF)
        let error = try XCTUnwrap(checkpointError(try makeArchive(pickle)))
        XCTAssertEqual(error.kind, .pickle(.unknownOpcode(0xFF, offset: 2)))
        XCTAssertTrue(error.description.contains("data.pkl: unknown pickle opcode 0xff"), error.description)
    }

    // MARK: - The team's parity fixtures, when present

    private static let parity = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/parity")

    func testParityFixturesAgreeAcrossFormats() throws {
        let small = Self.parity.appendingPathComponent("v1-small")
        guard FileManager.default.fileExists(atPath: small.path) else {
            throw XCTSkip("parity fixtures not generated yet")
        }
        let training = try CheckpointReader.read(small.appendingPathComponent("training_run/checkpoint_best.pth"))
        let bare = try CheckpointReader.read(small.appendingPathComponent("bare_module.pth"))
        let f32 = try CheckpointReader.read(small.appendingPathComponent("model_f32.safetensors"))
        XCTAssertEqual(training.order, bare.order)
        XCTAssertEqual(training.tensors, bare.tensors)
        XCTAssertEqual(Set(training.order), Set(f32.order))
        for key in training.order {
            XCTAssertEqual(training.tensors[key]?.values, f32.tensors[key]?.values, key)
        }
        XCTAssertEqual(training.tensors["pos_embed"]?.shape, [1, 16, 32])
        XCTAssertNotNil(training.metadata["best_val_acc"])
        XCTAssertTrue(training.ignoredEntries.contains("optimizer_state_dict"))
        for (name, tolerance) in [("model_f16.safetensors", Float(1e-3)), ("model_bf16.safetensors", 8e-3)] {
            let reduced = try CheckpointReader.read(small.appendingPathComponent(name))
            for key in training.order {
                let exact = try XCTUnwrap(training.tensors[key]?.values)
                let rounded = try XCTUnwrap(reduced.tensors[key]?.values)
                XCTAssertEqual(exact.count, rounded.count)
                let worst = zip(exact, rounded).map { abs($0 - $1) / max(abs($0), 1e-2) }.max() ?? 0
                XCTAssertLessThan(worst, tolerance, "\(name) \(key)")
            }
        }
        // numpy 1.x names (numpy.core.multiarray.scalar) and an SGD optimizer.
        let heads = try CheckpointReader.read(Self.parity
            .appendingPathComponent("v1-heads-from-config/training_run/checkpoint_best.pth"))
        XCTAssertFalse(heads.order.isEmpty)
        XCTAssertNotNil(heads.metadata["best_val_acc"])

        let evil = Self.parity.appendingPathComponent("broken/evil_os_system.pth")
        XCTAssertEqual(checkpointError(evil)?.kind, .refusedGlobal("posix.system"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/signbert-pwned"))
    }
}
