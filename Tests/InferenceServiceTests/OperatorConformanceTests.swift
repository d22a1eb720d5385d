import Foundation
import XCTest

/// What the tools operators already run expect of the server, over real sockets: browsers' CORS, Prometheus's
/// exposition rules (HELP and TYPE on every family, process metrics, info gauges) and KServe V1's liveness body.
final class OperatorConformanceTests: LiveInferenceTestCase {
    private let allowed = "https://app.example.com"

    private func preflight(_ client: TestHTTPClient, origin: String, path: String = "/predict") throws -> TestHTTPClient.Response {
        try client.send("OPTIONS", path, headers: ["Origin": origin, "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "content-type, authorization"])
    }

    func testCORSForListedOriginsOnly() throws {
        let (_, client) = try start { service, _ in
            service.corsOrigins = [allowed, "http://localhost:3000"]
            service.apiKeys = ["k"]
        }
        let ok = try preflight(client, origin: allowed)
        XCTAssertEqual(ok.status, 204)
        XCTAssertEqual(ok.headers["access-control-allow-origin"], allowed)
        XCTAssertEqual(ok.headers["access-control-allow-methods"], "GET, HEAD, POST, OPTIONS")
        let headers = (ok.headers["access-control-allow-headers"] ?? "").lowercased()
        for name in ["content-type", "authorization", "content-encoding", "x-request-id"] { XCTAssertTrue(headers.contains(name), name) }
        XCTAssertEqual(ok.headers["access-control-max-age"], "600")
        XCTAssertTrue((ok.headers["vary"] ?? "").contains("Origin"))
        XCTAssertEqual(ok.body.count, 0)

        let refused = try preflight(client, origin: "https://evil.example.net")
        XCTAssertEqual(refused.status, 403)
        XCTAssertNil(refused.headers["access-control-allow-origin"])
        XCTAssertNotNil(refused.json?["error"] as? String)

        // The actual request: the listed origin gets its answer readable and the server's headers exposed (the 401
        // too, so a page can tell a missing key from a network error); another origin gets no CORS headers.
        let (clips, _, _) = try Self.pytorchCase()
        let body = try JSONSerialization.data(withJSONObject: ["inputs": [clips[0]]])
        let answered = try client.post("/predict", json: body, headers: ["Content-Type": "application/json",
                                                                           "Origin": allowed, "Authorization": "Bearer k"])
        XCTAssertEqual(answered.status, 200)
        XCTAssertEqual(answered.headers["access-control-allow-origin"], allowed)
        XCTAssertTrue((answered.headers["access-control-expose-headers"] ?? "").contains("X-Request-Id"))
        XCTAssertEqual(answered.headers["vary"], "Origin")
        let unauthorized = try client.post("/predict", json: body, headers: ["Content-Type": "application/json", "Origin": allowed])
        XCTAssertEqual(unauthorized.status, 401)
        XCTAssertEqual(unauthorized.headers["access-control-allow-origin"], allowed)
        let other = try client.send("GET", "/health", headers: ["Origin": "https://evil.example.net"])
        XCTAssertEqual(other.status, 200)
        XCTAssertNil(other.headers["access-control-allow-origin"])
    }

    func testNoCORSByDefaultAndWildcard() throws {
        let (_, plain) = try start()
        XCTAssertEqual(try preflight(plain, origin: allowed).status, 405, "no origins listed: OPTIONS stays unrouted")
        XCTAssertNil(try plain.send("GET", "/health", headers: ["Origin": allowed]).headers["access-control-allow-origin"])

        let (_, any) = try start { service, _ in service.corsOrigins = ["*"] }
        let response = try preflight(any, origin: "https://anywhere.example.org")
        XCTAssertEqual(response.status, 204)
        XCTAssertEqual(response.headers["access-control-allow-origin"], "*")
    }

    func testMetricsFamiliesHaveHelpAndTypeAndProcessMetrics() throws {
        let (_, client) = try start()
        _ = try client.get("/health")
        let text = String(decoding: try client.get("/metrics").body, as: UTF8.self)
        var helped = Set<String>(), typed = [String: String]()
        var samples = [String: Double]()
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
            if line.hasPrefix("# HELP ") {
                XCTAssertEqual(parts.count, 4, "HELP with text: \(line)")
                helped.insert(parts[2])
            } else if line.hasPrefix("# TYPE ") {
                XCTAssertTrue(helped.contains(parts[2]), "HELP before TYPE for \(parts[2])")
                typed[parts[2]] = parts.last
            } else if !line.hasPrefix("#"), let value = parts.last.flatMap(Double.init) {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                let histogramParts = ["_bucket", "_sum", "_count"]
                let family = typed.keys.first { family in
                    name == family || (typed[family] == "histogram" && histogramParts.contains { name == family + $0 })
                }
                XCTAssertNotNil(family, "a sample of a family without TYPE: \(line)")
                samples[name] = value
            }
        }
        for family in ["signbert_requests_total", "signbert_request_duration_seconds", "signbert_queue_wait_seconds",
                       "signbert_compute_seconds", "signbert_batch_size", "signbert_queue_clips", "signbert_requests_in_flight",
                       "signbert_clips_total", "signbert_cancelled_clips_total", "signbert_build_info", "signbert_model_info"] {
            XCTAssertNotNil(typed[family], family)
        }
        XCTAssertEqual(typed["process_cpu_seconds_total"], "counter")
        XCTAssertGreaterThan(samples["process_cpu_seconds_total"] ?? 0, 0)
        XCTAssertGreaterThan(samples["process_resident_memory_bytes"] ?? 0, 1_048_576)
        XCTAssertGreaterThan(samples["process_open_fds"] ?? 0, 2)
        XCTAssertGreaterThanOrEqual(samples["process_max_fds"] ?? 0, samples["process_open_fds"] ?? .infinity)
        let start = samples["process_start_time_seconds"] ?? 0
        XCTAssertLessThanOrEqual(abs(start - Date().timeIntervalSince1970), 24 * 3600, "start time near now: \(start)")
        XCTAssertTrue(text.contains("signbert_build_info{version=\""), text)
        XCTAssertTrue(text.contains("signbert_model_info{") && text.contains("classes=\"\(Self.loaded.config.numClasses)\""), text)
    }

    func testPoseBodyMistakesSayWhatToSend() throws {
        let (_, client) = try start()
        let headers = ["Content-Type": "application/x-pose"]
        for (body, words) in [(Data(), "the .pose body is empty"), (Data("{\"inputs\": []}".utf8), "the body is JSON")] {
            let response = try client.post("/predict", json: body, headers: headers)
            XCTAssertEqual(response.status, 400)
            XCTAssertTrue((response.json?["error"] as? String ?? "").hasPrefix(words), "\(response.json ?? [:])")
        }
    }

    func testRootDescribesTheModelAndSaysAlive() throws {
        let (_, client) = try start()
        let root = try XCTUnwrap(client.get("/").json)
        XCTAssertEqual(root["status"] as? String, "alive", "KServe V1's is_server_live reads GET /")
        XCTAssertNotNil(root["labels"] ?? root["classes"], "the model description stays: \(root.keys.sorted())")
    }
}
