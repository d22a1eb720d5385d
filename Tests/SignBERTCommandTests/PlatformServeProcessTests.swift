import Foundation
import XCTest

/// `serve` as the hosting platforms start the unchanged image: SageMaker's bare `serve` argument, Vertex AI's
/// `AIP_STORAGE_URI` naming the model (a local path is served, a remote URI is refused in one line).
/// The `/opt/ml/model` side is unit-tested (`PlatformModelPathTests`) and run in the container test.
final class PlatformServeProcessTests: XCTestCase {
    private var servers: [ServerProcess] = []

    override func tearDown() {
        for server in servers { server.stop() }
        servers = []
    }

    /// The environment without any model variable, listening on a port the kernel picks.
    private func platformEnvironment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for name in ["SIGNBERT_MODEL", "SIGNBERT_CHECKPOINT", "SIGNBERT_CONFIG", "SIGNBERT_LABELS", "AIP_STORAGE_URI", "SIGNBERT_PORT"] {
            environment[name] = nil
        }
        environment["SIGNBERT_HOST"] = "127.0.0.1"
        environment["PORT"] = "0"
        return environment
    }

    /// `signbert serve serve` (SageMaker's `docker run IMAGE serve` behind the `signbert serve` entrypoint) with
    /// AIP_STORAGE_URI naming a training run's folder: the run's checkpoint is served, with PyTorch's logits.
    func testBareServeArgumentAndStorageURIServeTheMountedTrainingRun() throws {
        let fixture = try CommandFixtures.v1SmallCase()
        let folder = CommandFixtures.trainingRun.deletingLastPathComponent()
        for uri in [folder.path, "file://" + folder.path] {
            var environment = platformEnvironment()
            environment["AIP_STORAGE_URI"] = uri
            let server = try ServerProcess(["serve"], environment: environment)
            servers.append(server)
            let port = try server.waitForPort()
            try server.waitUntilReady(port: port)
            let started = server.logLines.first { $0["message"] as? String == "started" }
            XCTAssertEqual(started?["model"] as? String, CommandFixtures.trainingRun.path, server.log)

            let client = RawHTTPClient(port: port)
            let response = try client.postJSON("/invocations", fixture.requestBody())
            XCTAssertEqual(response.status, 200, response.text)
            let logits = try CommandFixtures.logits(fromPredictionJSON: response.body)
            XCTAssertLessThanOrEqual(maxAbsDifference(logits, try XCTUnwrap(fixture.expected["f32"])), fixture.tolerance, uri)
            XCTAssertEqual(try client.request("GET", "/").json?["labels"] as? [String], fixture.labels, uri)
            server.signal(SIGTERM)
            XCTAssertEqual(server.waitForExit(timeout: 10)?.status, 0, server.log)
        }
    }

    /// SIGNBERT_MODEL / SIGNBERT_CHECKPOINT, when set, win over AIP_STORAGE_URI (even a remote one).
    func testSignBERTVariablesWinOverTheStorageURI() throws {
        var environment = platformEnvironment()
        environment["AIP_STORAGE_URI"] = "gs://bucket/never-read"
        environment["SIGNBERT_CHECKPOINT"] = CommandFixtures.trainingRun.path
        let server = try ServerProcess([], environment: environment)
        servers.append(server)
        let port = try server.waitForPort()
        try server.waitUntilReady(port: port)
        server.signal(SIGTERM)
        XCTAssertEqual(server.waitForExit(timeout: 10)?.status, 0, server.log)
    }

    func testRemoteOrMissingStorageURIIsOneErrorLine() throws {
        let cases: [(String, [String])] = [
            ("gs://my-bucket/models/signbert", ["AIP_STORAGE_URI=gs://my-bucket/models/signbert", "remote gs://", "mount"]),
            ("s3://my-bucket/model", ["remote s3://", "mount"]),
            ("/no/such/model/folder", ["AIP_STORAGE_URI=/no/such/model/folder", "does not exist"]),
        ]
        for (uri, words) in cases {
            var environment = platformEnvironment()
            environment["AIP_STORAGE_URI"] = uri
            let result = try SignBERTProcess.run(["serve", "serve"], environment: environment, timeout: 30)
            assertOneErrorLine(result, mentioning: words, uri)
        }
    }

    func testOtherPositionalArgumentsAreStillUsageErrors() throws {
        for arguments in [["serve", "train"], ["serve", "serve", "serve"]] {
            let result = try SignBERTProcess.run(arguments + ["--port", "0"], timeout: 30)
            XCTAssertEqual(result.status, 64, result.summary)
            XCTAssertTrue(result.stderrText.contains("unexpected argument"), result.summary)
        }
    }
}
