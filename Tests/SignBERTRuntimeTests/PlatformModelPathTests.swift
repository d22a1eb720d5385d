import Foundation
import SignBERTRuntime
import XCTest

/// Where `serve` finds a platform's model: AIP_STORAGE_URI, then the SageMaker folder; what kind of model a
/// folder holds; one-line refusals for what cannot be served.
final class PlatformModelPathTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("platform-model-path-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try FileManager.default.removeItem(at: scratch) }

    private var trainingRun: URL { ParityCase.root.appendingPathComponent("v1-small/training_run") }

    /// A folder under the scratch directory with copies of `files` (or empty).
    private func folder(_ name: String, copying files: [URL] = []) throws -> URL {
        let url = scratch.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for file in files { try FileManager.default.copyItem(at: file, to: url.appendingPathComponent(file.lastPathComponent)) }
        return url
    }

    private func trainingRunFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: trainingRun, includingPropertiesForKeys: nil)
    }

    private func resolve(_ environment: [String: String], sageMaker: URL) throws -> ModelSource? {
        try PlatformModelPath.source(environment: environment, sageMakerDirectory: sageMaker.path)
    }

    private func refusal(_ environment: [String: String], sageMaker: URL,
                         file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            let source = try resolve(environment, sageMaker: sageMaker)
            XCTFail("expected a refusal, got \(String(describing: source))", file: file, line: line)
            return ""
        } catch {
            let message = String(describing: error)
            XCTAssertFalse(message.contains("\n"), "one line: \(message)", file: file, line: line)
            return message
        }
    }

    func testNothingGivenWhenNoURIAndTheSageMakerFolderIsMissingOrEmpty() throws {
        XCTAssertNil(try resolve([:], sageMaker: scratch.appendingPathComponent("absent")))
        XCTAssertNil(try resolve(["AIP_STORAGE_URI": ""], sageMaker: try folder("empty")))
    }

    func testSageMakerFolderWithATrainingRunServesItsBestCheckpoint() throws {
        let sageMaker = try folder("opt-ml-model", copying: try trainingRunFiles())
        let source = try XCTUnwrap(try resolve([:], sageMaker: sageMaker))
        XCTAssertEqual(source.checkpoint?.lastPathComponent, "checkpoint_best.pth")
        XCTAssertNil(source.modelDirectory)
        // The checkpoint's companions (config.yaml, label_mapping.json) are found beside it, as for --checkpoint.
        let loaded = try ModelLoader.load(source)
        XCTAssertEqual(loaded.configPath, sageMaker.appendingPathComponent("config.yaml").path)
        XCTAssertEqual(loaded.labels, try ParityCase.load("v1-small").labels)
    }

    func testModelDirectoryAndASingleTopFolderAreFound() throws {
        let demo = ParityCase.root.appendingPathComponent("../../../../models/demo-gestures").standardized
        let files = try FileManager.default.contentsOfDirectory(at: demo, includingPropertiesForKeys: nil)
        // model.tar.gz packed with a top folder, as SageMaker unpacks it: /opt/ml/model/demo/...
        let sageMaker = try folder("unpacked")
        _ = try folder("unpacked/demo", copying: files)
        let source = try XCTUnwrap(try resolve([:], sageMaker: sageMaker))
        XCTAssertEqual(source.modelDirectory?.path, sageMaker.appendingPathComponent("demo").path)
        XCTAssertNoThrow(try ModelLoader.load(source))
    }

    func testSingleCheckpointOfAnyNameIsServed() throws {
        let safetensors = ParityCase.root.appendingPathComponent("v1-small/model_f32.safetensors")
        let sageMaker = try folder("single", copying: [safetensors])
        XCTAssertEqual(try resolve([:], sageMaker: sageMaker)?.checkpoint?.lastPathComponent, "model_f32.safetensors")
    }

    func testStorageURIWinsOverTheSageMakerFolder() throws {
        let sageMaker = try folder("opt-ml-model", copying: try trainingRunFiles())
        let vertex = try folder("gcs-mount", copying: [ParityCase.root.appendingPathComponent("v1-small/model_f32.safetensors")])
        for uri in [vertex.path, "file://" + vertex.path] {
            let source = try XCTUnwrap(try resolve(["AIP_STORAGE_URI": uri], sageMaker: sageMaker))
            XCTAssertEqual(source.checkpoint?.path, vertex.appendingPathComponent("model_f32.safetensors").path, uri)
        }
    }

    func testRemoteURIsAreRefusedWithWhatToDo() throws {
        let sageMaker = try folder("opt-ml-model", copying: try trainingRunFiles())
        for (uri, scheme) in [("gs://bucket/model/1", "gs"), ("s3://bucket/model.tar.gz", "s3"), ("https://example.com/m", "https")] {
            let message = refusal(["AIP_STORAGE_URI": uri], sageMaker: sageMaker)
            XCTAssertTrue(message.contains("AIP_STORAGE_URI=\(uri)"), message)
            XCTAssertTrue(message.contains("remote \(scheme)://"), message)
            XCTAssertTrue(message.contains("mount"), message)
            XCTAssertTrue(message.contains("SIGNBERT_MODEL"), message)
        }
    }

    func testMissingPathAndFolderWithoutAModelAreRefused() throws {
        let missing = refusal(["AIP_STORAGE_URI": scratch.appendingPathComponent("nowhere").path], sageMaker: scratch)
        XCTAssertTrue(missing.contains("does not exist"), missing)

        let junk = try folder("junk")
        try Data("hello".utf8).write(to: junk.appendingPathComponent("README.txt"))
        let none = refusal([:], sageMaker: junk)
        XCTAssertTrue(none.hasPrefix("\(junk.path): \(junk.path) holds no model"), none)
        XCTAssertTrue(none.contains("found no checkpoint"), none)

        let two = try folder("two", copying: [ParityCase.root.appendingPathComponent("v1-small/model_f32.safetensors"),
                                              ParityCase.root.appendingPathComponent("v1-small/model_f16.safetensors")])
        let ambiguous = refusal(["AIP_STORAGE_URI": two.path], sageMaker: scratch)
        XCTAssertTrue(ambiguous.contains("2 checkpoints (model_f16.safetensors, model_f32.safetensors)"), ambiguous)
    }
}
