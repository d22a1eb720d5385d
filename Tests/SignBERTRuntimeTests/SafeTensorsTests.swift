import Foundation
import XCTest
@testable import SignBERTRuntime

/// The safetensors writer and reader, against each other, against files the reference library
/// wrote, and against hand-made hostile headers.
final class SafeTensorsTests: XCTestCase {
    private var temporary: URL!

    override func setUpWithError() throws {
        temporary = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: temporary)
    }

    private let sample: [(name: String, tensor: Tensor)] = [
        ("pos_embed", Tensor(shape: [1, 2, 3], values: [0.1, -0.2, 0.3, 1e-3, -65504, 3.14159])),
        ("head.5.bias", Tensor(shape: [2], values: [1.5, -2.25])),
        ("empty", Tensor(shape: [0, 4], values: [])),
        ("scalar", Tensor(shape: [], values: [42])),
    ]

    private func url(_ name: String) -> URL { temporary.appendingPathComponent(name) }

    /// Writes `8-byte length + header + data` as given, for hostile headers.
    private func file(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) throws -> URL {
        let headerBytes = Array(header.utf8)
        let length = declaredLength ?? UInt64(headerBytes.count)
        var bytes = withUnsafeBytes(of: length.littleEndian, Array.init)
        bytes += headerBytes + data
        let target = url("hand-\(UUID().uuidString).safetensors")
        try Data(bytes).write(to: target)
        return target
    }

    private func failure(_ target: URL, file: StaticString = #filePath, line: UInt = #line) -> CheckpointError.Kind? {
        do {
            _ = try CheckpointReader.read(target)
            XCTFail("expected an error", file: file, line: line)
            return nil
        } catch let error as CheckpointError {
            XCTAssertFalse(error.description.contains("\n"), file: file, line: line)
            return error.kind
        } catch {
            XCTFail("not a CheckpointError: \(error)", file: file, line: line)
            return nil
        }
    }

    private func headerProblem(_ target: URL, file: StaticString = #filePath, line: UInt = #line) -> String {
        guard case .badSafeTensorsHeader(let why)? = failure(target, file: file, line: line) else {
            XCTFail("expected a header error", file: file, line: line)
            return ""
        }
        return why
    }

    private func tensorProblem(_ target: URL, file: StaticString = #filePath, line: UInt = #line)
        -> (name: String, problem: String)
    {
        guard case .badTensor(let name, let problem)? = failure(target, file: file, line: line) else {
            XCTFail("expected a tensor error", file: file, line: line)
            return ("", "")
        }
        return (name, problem)
    }

    // MARK: - Round trips

    func testF32RoundTripIsExactAndKeepsOrderAndMetadata() throws {
        let target = url("model.safetensors")
        try SafeTensorsWriter.write(sample, dtype: .f32, metadata: ["format": "pt", "epoch": "7"], to: target)
        let stateDict = try CheckpointReader.read(target)
        XCTAssertEqual(stateDict.format, "safetensors")
        XCTAssertEqual(stateDict.order, sample.map(\.name))
        for (name, tensor) in sample {
            XCTAssertEqual(stateDict.tensors[name], tensor, name)
        }
        XCTAssertEqual(stateDict.metadata, ["format": "pt", "epoch": "7"])
    }

    func testF16RoundTripRoundsToNearestEven() throws {
        let target = url("half.safetensors")
        // 1 + 2^-11 lies halfway between 1 and the next half (1 + 2^-10): ties go to the even 1.0.
        // 1 + 3 * 2^-11 lies halfway between 1 + 2^-10 and 1 + 2^-9: ties go to the even 1 + 2^-9.
        let values: [Float] = [1 + 0x1p-11, 1 + 3 * 0x1p-11, 0.1, -65504, 1e-8, -0.0]
        try SafeTensorsWriter.write([("w", Tensor(shape: [6], values: values))], dtype: .f16, to: target)
        let read = try XCTUnwrap(try CheckpointReader.read(target).tensors["w"])
        XCTAssertEqual(read.storedDType, "F16")
        XCTAssertEqual(read.values[0], 1)
        XCTAssertEqual(read.values[1], 1 + 0x1p-9)
        XCTAssertEqual(read.values[2], 0.0999755859375)
        XCTAssertEqual(read.values[3], -65504)
        XCTAssertEqual(read.values[4], 0)  // below the smallest subnormal's half
        XCTAssertEqual(read.values[5].sign, .minus)

        let all = url("sample16.safetensors")
        try SafeTensorsWriter.write(sample, dtype: .f16, to: all)
        let stateDict = try CheckpointReader.read(all)
        for (name, tensor) in sample {
            XCTAssertEqual(stateDict.tensors[name]?.values, tensor.values.map { Float(Float16($0)) }, name)
        }
    }

    func testF16OverflowIsRefusedNotWrittenAsInfinity() {
        let tensors = [(name: "big", tensor: Tensor(shape: [1], values: [70000]))]
        XCTAssertThrowsError(try SafeTensorsWriter.write(tensors, dtype: .f16, to: url("big.safetensors"))) { error in
            guard case .writeFailed(let why)? = (error as? CheckpointError)?.kind else { return XCTFail("\(error)") }
            XCTAssertTrue(why.contains("big"), why)
        }
    }

    func testBF16IsReadAsTheTopHalfOfFloat32() throws {
        // 1.0 = 0x3F80, -2.5 = 0xC020, 0.333984375 = 0x3EAB
        let target = try file(header: #"{"w":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]}}"#,
                              data: [0x80, 0x3F, 0x20, 0xC0, 0xAB, 0x3E])
        let tensor = try XCTUnwrap(try CheckpointReader.read(target).tensors["w"])
        XCTAssertEqual(tensor.values, [1.0, -2.5, 0.333984375])
        XCTAssertEqual(tensor.storedDType, "BF16")
    }

    func testHeaderIsPaddedWithSpacesToAMultipleOfEight() throws {
        let target = url("padded.safetensors")
        try SafeTensorsWriter.write([("a\"b\\c\n", Tensor(shape: [1], values: [1]))], dtype: .f32, to: target)
        let bytes = try Data(contentsOf: target)
        let length = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(length % 8, 0)
        let header = try XCTUnwrap(String(data: bytes[8..<8 + length], encoding: .utf8))
        XCTAssertTrue(header.hasPrefix("{"))
        XCTAssertEqual(header.trimmingCharacters(in: .whitespaces).last, "}")
        XCTAssertTrue(try JSONSerialization.jsonObject(with: Data(header.utf8)) is [String: Any])
        XCTAssertEqual(try CheckpointReader.read(target).order, ["a\"b\\c\n"])
    }

    func testWriterRefusesInconsistentInput() {
        let mismatch = [(name: "w", tensor: Tensor(shape: [2, 2], values: [1, 2, 3]))]
        XCTAssertThrowsError(try SafeTensorsWriter.write(mismatch, dtype: .f32, to: url("x.safetensors")))
        let repeated = [(name: "w", tensor: Tensor(shape: [1], values: [1])), (name: "w", tensor: Tensor(shape: [1], values: [2]))]
        XCTAssertThrowsError(try SafeTensorsWriter.write(repeated, dtype: .f32, to: url("y.safetensors")))
    }

    func testFilesWrittenByTheReferenceLibrary() throws {
        for name in ["reference-f32.safetensors", "reference-f16.safetensors", "reference-bf16.safetensors"] {
            let stateDict = try CheckpointReader.read(TorchCheckpointReaderTests.fixtures.appendingPathComponent(name))
            try TorchCheckpointReaderTests.assertMatches(stateDict, name)
        }
        // The F32 file holds the same weights as the torch.save training run.
        let f32 = try CheckpointReader.read(TorchCheckpointReaderTests.fixtures
            .appendingPathComponent("reference-f32.safetensors"))
        let torch = try CheckpointReader.read(TorchCheckpointReaderTests.fixtures.appendingPathComponent("training-run.pth"))
        XCTAssertEqual(f32.tensors, torch.tensors)
    }

    func testModulePrefixIsStripped() throws {
        let target = url("prefixed.safetensors")
        try SafeTensorsWriter.write([("module.a", Tensor(shape: [1], values: [1])),
                                     ("module.b", Tensor(shape: [1], values: [2]))], dtype: .f32, to: target)
        let stateDict = try CheckpointReader.read(target)
        XCTAssertEqual(stateDict.order, ["a", "b"])
        XCTAssertEqual(stateDict.tensors["b"]?.values, [2])
    }

    // MARK: - Hostile files

    func testHeaderLengthPastTheEndOfTheFile() throws {
        let target = try file(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
                              data: [0, 0, 0x80, 0x3F], declaredLength: 1 << 20)
        XCTAssertTrue(headerProblem(target).contains("runs past the end of the file"))
        let absurd = try file(header: "{}", declaredLength: .max)
        XCTAssertTrue(headerProblem(absurd).contains("exceeds"))
    }

    func testOffsetsPastTheEndOfTheData() throws {
        let target = try file(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0x80, 0x3F])
        let (name, problem) = tensorProblem(target)
        XCTAssertEqual(name, "w")
        XCTAssertTrue(problem.contains("run past the end"), problem)
    }

    func testBackwardsOffsets() throws {
        let target = try file(header: #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0])
        XCTAssertEqual(tensorProblem(target).name, "w")
        let negative = try file(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, data: [0, 0, 0, 0])
        XCTAssertEqual(tensorProblem(negative).name, "w")
    }

    func testOverlappingTensors() throws {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        let target = try file(header: header, data: [UInt8](repeating: 0, count: 12))
        let why = headerProblem(target)
        XCTAssertTrue(why.contains("'a'") && why.contains("'b'") && why.contains("overlap"), why)
    }

    func testDeclaredSizesThatCannotExist() throws {
        // 2^60 elements: 2^62 bytes, consistent with nothing in a 4-byte data area.
        let huge = try file(header: #"{"w":{"dtype":"F32","shape":[1152921504606846976],"data_offsets":[0,4]}}"#,
                            data: [0, 0, 0, 0])
        XCTAssertEqual(tensorProblem(huge).name, "w")
        // 2^60 x 2^60 overflows Int before the dtype size comes in.
        let overflow = try file(header: #"{"w":{"dtype":"F32","shape":[1152921504606846976,1152921504606846976],"data_offsets":[0,4]}}"#,
                                data: [0, 0, 0, 0])
        XCTAssertTrue(tensorProblem(overflow).problem.contains("too many elements"))
        // Beyond Int64 altogether: a JSON error, not a trap.
        let beyond = try file(header: #"{"w":{"dtype":"F32","shape":[99999999999999999999999],"data_offsets":[0,4]}}"#,
                              data: [0, 0, 0, 0])
        XCTAssertFalse(headerProblem(beyond).isEmpty)
    }

    func testUnknownDTypeIsNamed() throws {
        let target = try file(header: #"{"ids":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#,
                              data: [UInt8](repeating: 0, count: 8))
        XCTAssertEqual(failure(target), .unsupportedDType(name: "ids", dtype: "I64"))
        let fp8 = try file(header: #"{"q":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#, data: [0])
        XCTAssertEqual(failure(fp8), .unsupportedDType(name: "q", dtype: "F8_E4M3"))
    }

    func testByteCountMismatch() throws {
        let target = try file(header: #"{"w":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}}"#,
                              data: [UInt8](repeating: 0, count: 8))
        let (name, problem) = tensorProblem(target)
        XCTAssertEqual(name, "w")
        XCTAssertTrue(problem.contains("holds 8 bytes") && problem.contains("needs 6"), problem)
    }

    func testTruncatedFile() throws {
        let whole = url("whole.safetensors")
        try SafeTensorsWriter.write(sample, dtype: .f32, to: whole)
        let bytes = try Data(contentsOf: whole)
        let cut = url("cut.safetensors")
        for length in [0, 4, 8, 9, 20, bytes.count - 1] {
            try bytes.prefix(length).write(to: cut)
            XCTAssertNotNil(failure(cut), "length \(length)")
        }
    }

    func testMalformedHeaders() throws {
        let cases = [
            "not json at all",
            #"{"w":{"dtype":"F32","shape":[1]}}"#,                               // no data_offsets
            #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#,        // three offsets
            #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#,         // negative dimension
            #"{"__metadata__":{"epoch":7}}"#,                                    // metadata values must be strings
            #"{"w":[1,2,3]}"#,
            #"[1,2,3]"#,
            String(repeating: "[", count: 100_000),
        ]
        for header in cases {
            let target = try file(header: header, data: [0, 0, 0x80, 0x3F])
            XCTAssertNotNil(failure(target), header.prefix(60).description)
        }
    }

    func testMetadataAndEmptyHeader() throws {
        let target = try file(header: #"{"__metadata__":{"format":"pt"}}"#)
        let stateDict = try CheckpointReader.read(target)
        XCTAssertEqual(stateDict.metadata, ["format": "pt"])
        XCTAssertTrue(stateDict.order.isEmpty)
    }
}
