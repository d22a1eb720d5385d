import Foundation
import XCTest

/// `signbert serve` with the bundled demo model answering many /predict streams multiplexed on
/// one HTTP/2 connection (curl: `Upgrade: h2c`, then every other request as a stream of that
/// connection): each stream gets the logits of its own clip, the same as over HTTP/1.1.
final class HTTP2ServeProcessTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    func testConcurrentStreamsOnOneConnectionEachGetTheirOwnLogits() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else { throw XCTSkip("curl is not installed") }
        let scratch = try TemporaryDirectory()
        let gestures = Self.repository.appendingPathComponent("examples/gestures")
        let names = try FileManager.default.contentsOfDirectory(atPath: gestures.path).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertEqual(names.count, 8)
        let server = try ServerProcess(["--model", Self.repository.appendingPathComponent("models/demo-gestures").path,
                                        "--host", "127.0.0.1", "--port", "0", "--max-queue-delay-ms", "5"])
        defer { server.stop() }
        let port = try server.waitForPort()
        try server.waitUntilReady(port: port)

        // Each example clip asks for its logits; HTTP/1.1 gives the reference answer.
        var bodies: [URL] = [], reference: [[Float]] = []
        for name in names {
            var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: gestures.appendingPathComponent(name))) as? [String: Any])
            object["return_logits"] = true
            let body = try JSONSerialization.data(withJSONObject: object)
            bodies.append(try scratch.write(name, body))
            let response = try RawHTTPClient(port: port).postJSON("/predict", body)
            XCTAssertEqual(response.status, 200, response.text)
            reference.append(try CommandFixtures.logits(fromPredictionJSON: response.body))
        }
        // Different clips give clearly different logits, so a swapped answer cannot pass.
        for i in reference.indices { for j in reference.indices where j > i { XCTAssertGreaterThan(maxAbsDifference(reference[i], reference[j]), 0.5) } }

        // 32 streams (each clip 4 times), all in flight together on one connection.
        var arguments = ["--parallel", "--parallel-max", "32"]
        let streams = (0..<32).map { $0 % names.count }
        for (index, clip) in streams.enumerated() {
            if index > 0 { arguments.append("--next") }
            arguments += ["--http2", "--silent", "--show-error", "--max-time", "60", "-H", "Content-Type: application/json",
                          "--data-binary", "@\(bodies[clip].path)", "--output", scratch.file("out-\(index)").path,
                          "--write-out", "%{http_code} %{http_version}\\n", "http://127.0.0.1:\(port)/predict"]
        }
        let curl = try SignBERTProcess.run(arguments, executable: URL(fileURLWithPath: "/usr/bin/curl"))
        XCTAssertEqual(curl.status, 0, curl.summary)
        XCTAssertEqual(curl.stdoutText.split(separator: "\n").filter { $0 == "200 2" }.count, 32, curl.stdoutText)
        for (index, clip) in streams.enumerated() {
            let logits = try CommandFixtures.logits(fromPredictionJSON: Data(contentsOf: scratch.file("out-\(index)")))
            // Batching with other streams changes the float summation order, nothing more.
            XCTAssertLessThanOrEqual(maxAbsDifference(logits, reference[clip]), 1e-3, "stream \(index) (\(names[clip]))")
        }

        let lines = server.logLines.filter { $0["message"] as? String == "request" && $0["protocol"] as? String == "HTTP/2" }
        XCTAssertEqual(lines.count, 32, server.log)
        XCTAssertEqual(Set(lines.compactMap { $0["remote"] as? String }).count, 1, "all streams on one connection")
        let metrics = try RawHTTPClient(port: port).request("GET", "/metrics")
        XCTAssertTrue(metrics.text.contains("signbert_requests_total{route=\"/predict\",status=\"200\",protocol=\"HTTP/2\"} 32"), metrics.text)
        XCTAssertTrue(metrics.text.contains("signbert_requests_total{route=\"/predict\",status=\"200\",protocol=\"HTTP/1.1\"} 8"), metrics.text)
    }
}
