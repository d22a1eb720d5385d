import Foundation
import XCTest

/// `signbert convert` as a process, and the model directory it writes read back by `predict --model` and `inspect`.
final class ConvertCommandTests: XCTestCase {
    private func convert(dtype: String?, into scratch: TemporaryDirectory) throws -> URL {
        let output = scratch.file("model-\(dtype ?? "default")")
        var arguments = ["convert", CommandFixtures.trainingRun.path, "--output", output.path]
        if let dtype { arguments += ["--dtype", dtype] }
        let result = try SignBERTProcess.run(arguments)
        XCTAssertEqual(result.status, 0, result.summary)
        XCTAssertEqual(result.stderrText, "")
        XCTAssertTrue(result.stdoutText.hasPrefix("wrote "), result.stdoutText)
        for name in ["model.safetensors", "config.json", "labels.txt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent(name).path), name)
        }
        return output
    }

    private func predictLogits(_ modelArguments: [String], request: URL) throws -> [Float] {
        let result = try SignBERTProcess.run(["predict"] + modelArguments + ["--input", request.path])
        XCTAssertEqual(result.status, 0, result.summary)
        return try CommandFixtures.logits(fromPredictionJSON: result.stdout)
    }

    func testF32RoundTripGivesTheSameLogits() throws {
        let fixture = try CommandFixtures.v1SmallCase()
        let scratch = try TemporaryDirectory()
        let request = try scratch.write("request.json", fixture.requestBody())
        let directory = try convert(dtype: nil, into: scratch)

        let fromCheckpoint = try predictLogits(["--checkpoint", CommandFixtures.trainingRun.path], request: request)
        let fromDirectory = try predictLogits(["--model", directory.path], request: request)
        XCTAssertLessThanOrEqual(maxAbsDifference(fromDirectory, try XCTUnwrap(fixture.expected["f32"])), fixture.tolerance)
        XCTAssertLessThanOrEqual(maxAbsDifference(fromDirectory, fromCheckpoint), 1e-6, "same F32 weights, same runtime")

        // The directory stands alone: config.json carries the 4 heads, labels.txt the labels.
        let labels = try String(contentsOf: directory.appendingPathComponent("labels.txt"), encoding: .utf8)
        XCTAssertEqual(labels, fixture.labels.joined(separator: "\n") + "\n")
        let config = try XCTUnwrap(JSONSerialization.jsonObject(
            with: Data(contentsOf: directory.appendingPathComponent("config.json"))) as? [String: Any])
        XCTAssertEqual(config["num_heads"] as? Int, 4)
        XCTAssertEqual(config["embed_dim"] as? Int, 32)
        XCTAssertEqual(config["num_classes"] as? Int, 9)

        // Only the model's tensors, all F32, bit-identical to PyTorch's own export of the same weights.
        let written = try SafeTensorsFile(directory.appendingPathComponent("model.safetensors"))
        let reference = try SafeTensorsFile(CommandFixtures.safetensorsF32)
        XCTAssertEqual(Set(written.tensors.keys), Set(reference.tensors.keys))
        for (name, tensor) in reference.tensors {
            let mine = try XCTUnwrap(written.tensors[name], name)
            XCTAssertEqual(mine.dtype, "F32", name)
            XCTAssertEqual(mine.shape, tensor.shape, name)
            XCTAssertEqual(mine.bytes, tensor.bytes, "\(name): F32 bytes differ from PyTorch's export")
        }

        let inspect = try SignBERTProcess.run(["inspect", "--json", directory.path])
        XCTAssertEqual(inspect.status, 0, inspect.summary)
        let described = try XCTUnwrap(JSONSerialization.jsonObject(with: inspect.stdout) as? [String: Any])
        XCTAssertEqual(described["labels"] as? [String], fixture.labels)
        XCTAssertEqual(described["parameters"] as? Int, InspectCommandTests.expectedParameters)
    }

    func testF16ConversionRoundsLikePyTorchHalf() throws {
        let fixture = try CommandFixtures.v1SmallCase()
        let scratch = try TemporaryDirectory()
        let request = try scratch.write("request.json", fixture.requestBody())
        let directory = try convert(dtype: "f16", into: scratch)

        // The F16 rows of case.json were computed by PyTorch from weights rounded with .half().
        let logits = try predictLogits(["--model", directory.path], request: request)
        let expectedF16 = try XCTUnwrap(fixture.expected["f16"])
        XCTAssertLessThanOrEqual(maxAbsDifference(logits, expectedF16), fixture.tolerance)

        // Stronger: every half is bit-identical to PyTorch's model_f16.safetensors (round to nearest, ties to even).
        let written = try SafeTensorsFile(directory.appendingPathComponent("model.safetensors"))
        let reference = try SafeTensorsFile(CommandFixtures.v1Small.appendingPathComponent("model_f16.safetensors"))
        XCTAssertEqual(Set(written.tensors.keys), Set(reference.tensors.keys))
        for (name, tensor) in reference.tensors {
            let mine = try XCTUnwrap(written.tensors[name], name)
            XCTAssertEqual(tensor.dtype, "F16", name)
            XCTAssertEqual(mine.dtype, "F16", name)
            XCTAssertEqual(mine.shape, tensor.shape, name)
            XCTAssertEqual(mine.bytes, tensor.bytes, "\(name): F16 bytes differ from PyTorch's .half()")
        }
        let f32Size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: CommandFixtures.safetensorsF32.path)[.size] as? Int)
        let f16Size = try XCTUnwrap(FileManager.default.attributesOfItem(
            atPath: directory.appendingPathComponent("model.safetensors").path)[.size] as? Int)
        XCTAssertLessThan(f16Size, f32Size * 6 / 10, "F16 weights take about half the room")
    }

    func testConvertFromSafetensorsWithHeadsGiven() throws {
        let fixture = try CommandFixtures.v1SmallCase()
        let scratch = try TemporaryDirectory()
        let request = try scratch.write("request.json", fixture.requestBody())
        let output = scratch.file("from-safetensors")
        let result = try SignBERTProcess.run(["convert", CommandFixtures.safetensorsF32.path, "--num-heads", "4",
                                              "--labels", CommandFixtures.v1Small.appendingPathComponent("training_run/label_mapping.json").path,
                                              "--output", output.path])
        XCTAssertEqual(result.status, 0, result.summary)
        let logits = try predictLogits(["--model", output.path], request: request)
        XCTAssertLessThanOrEqual(maxAbsDifference(logits, try XCTUnwrap(fixture.expected["f32"])), fixture.tolerance)
    }

    func testConvertIntoAnImpossiblePlaceIsOneErrorLine() throws {
        let scratch = try TemporaryDirectory()
        let blocker = try scratch.write("a-file", Data("x".utf8))
        let result = try SignBERTProcess.run(["convert", CommandFixtures.trainingRun.path,
                                              "--output", blocker.appendingPathComponent("model").path])
        assertOneErrorLine(result, mentioning: ["a-file/model"])
    }
}

/// Just enough of a safetensors reader to compare files tensor by tensor.
struct SafeTensorsFile {
    struct Tensor {
        var dtype: String
        var shape: [Int]
        var bytes: Data
    }

    var tensors: [String: Tensor] = [:]
    var metadata: [String: String] = [:]

    init(_ url: URL) throws {
        let data = try Data(contentsOf: url)
        XCTAssertGreaterThanOrEqual(data.count, 8)
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: data.subdata(in: 8..<8 + headerLength)) as? [String: Any])
        let base = 8 + headerLength
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = value as? [String: String] ?? [:]
                continue
            }
            let entry = try XCTUnwrap(value as? [String: Any], name)
            let offsets = try XCTUnwrap(entry["data_offsets"] as? [Int], name)
            tensors[name] = Tensor(dtype: try XCTUnwrap(entry["dtype"] as? String), shape: try XCTUnwrap(entry["shape"] as? [Int]),
                                   bytes: data.subdata(in: base + offsets[0]..<base + offsets[1]))
        }
    }
}
