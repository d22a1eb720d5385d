import Foundation
import HTTPServer
import InferenceService
import Logging
import SignBERTRuntime
import XCTest

/// The service over real sockets, with the small PyTorch fixture model.
final class InferenceServerTests: LiveInferenceTestCase {
    private static var config: SignBERTConfig { loaded.config }
    private var config: SignBERTConfig { Self.config }

    /// `count` random clips as a request body, and the clips' floats.
    private static func randomClips(_ count: Int, seed: UInt64) -> (body: Data, clips: [Float]) {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        var floats: [Float] = []
        var clips: [[[Double]]] = []
        for _ in 0..<count {
            var frames: [[Double]] = []
            for _ in 0..<config.numFrames {
                var frame: [Double] = []
                for _ in 0..<config.inputFeatures {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    let value = Double(Int64(bitPattern: state >> 11) % 2000) / 1000  // multiples of 1e-3 in (-2, 2)
                    frame.append(value)
                    floats.append(Float(value))
                }
                frames.append(frame)
            }
            clips.append(frames)
        }
        let body = try! JSONSerialization.data(withJSONObject: ["inputs": clips, "return_logits": true])
        return (body, floats)
    }

    private func logits(_ response: TestHTTPClient.Response) throws -> [Float] {
        let predictions = try XCTUnwrap(response.json?["predictions"] as? [[String: Any]], "\(response.status)")
        return try predictions.flatMap { try XCTUnwrap($0["logits"] as? [Double]).map(Float.init) }
    }

    func testPredictAnswersThePyTorchLogits() throws {
        let (_, client) = try start()
        let fixture = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("case.json"))) as? [String: Any]
        let inputs = try XCTUnwrap((fixture?["inputs"] as? [String: Any])?["values"] as? [Double])
        let expected = try XCTUnwrap((fixture?["expected"] as? [String: Any])?["f32"] as? [[Double]]).flatMap { $0.map(Float.init) }
        let frames = stride(from: 0, to: inputs.count, by: config.inputFeatures).map { Array(inputs[$0..<$0 + config.inputFeatures]) }
        let clips = stride(from: 0, to: frames.count, by: config.numFrames).map { Array(frames[$0..<$0 + config.numFrames]) }
        let body = try JSONSerialization.data(withJSONObject: ["inputs": clips, "return_logits": true, "top_k": 3])
        let response = try client.post("/predict", json: body)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["content-type"], "application/json")
        XCTAssertNotNil(response.headers["x-request-id"])
        let got = try logits(response)
        XCTAssertLessThanOrEqual(maxAbsDifference(got, expected), 1e-4)
        let first = try XCTUnwrap((response.json?["predictions"] as? [[String: Any]])?.first)
        XCTAssertEqual((first["top_k"] as? [Any])?.count, 3)
        XCTAssertEqual(first["label"] as? String, Self.loaded.labels[try XCTUnwrap(first["class_id"] as? Int)])
    }

    /// Many concurrent clients, batched together, each get exactly their own request's logits.
    func testConcurrentClientsEachGetTheirOwnLogits() throws {
        let (_, client) = try start { service, _ in service.maxQueueDelay = .milliseconds(20) }
        let clients = 24, perClient = 4
        let results = LockedResults()
        // One thread per client (concurrentPerform would run only as many as there are cores, 2 here, and on a busy
        // machine two requests then rarely meet in the queue).
        let group = DispatchGroup()
        for c in 0..<clients {
            group.enter()
            Thread {
                defer { group.leave() }
                for r in 0..<perClient {
                    let count = 1 + (c + r) % 3
                    let (body, clips) = Self.randomClips(count, seed: UInt64(c * 100 + r))
                    do {
                        let response = try client.post("/predict", json: body)
                        results.append((clips, count, response))
                    } catch {
                        results.fail("client \(c) request \(r): \(error)")
                    }
                }
            }.start()
        }
        group.wait()
        XCTAssertEqual(results.failures, [])
        var batchedTogether = 0
        for (clips, count, response) in results.items {
            XCTAssertEqual(response.status, 200)
            let expected = Self.loaded.model.logits(for: clips, batch: count)
            let got = try logits(response)
            XCTAssertEqual(got.count, expected.count)
            XCTAssertLessThanOrEqual(maxAbsDifference(got, expected), 1e-5, "a response carried other logits")
            if let size = response.headers["x-batch-size"].flatMap(Int.init), size > count { batchedTogether += 1 }
        }
        XCTAssertEqual(results.items.count, clients * perClient)
        XCTAssertGreaterThan(batchedTogether, 0, "no request was batched with another")
    }

    func testBadRequestsGetAClearErrorAndTheServerKeepsServing() throws {
        let (_, client) = try start { service, _ in service.maxBatchSize = 2; service.maxClipsPerRequest = 4 }
        let (good, _) = Self.randomClips(1, seed: 1)
        let (tooMany, _) = Self.randomClips(5, seed: 2)
        let cases: [(String, Data, [String: String], Int, String)] = [
            ("malformed", Data("{\"inputs\": [[[1,2".utf8), ["Content-Type": "application/json"], 400, "malformed JSON"),
            ("not an object", Data("[1,2]".utf8), ["Content-Type": "application/json"], 400, "must be a JSON object"),
            ("empty", Data("{\"inputs\": []}".utf8), ["Content-Type": "application/json"], 400, "is empty"),
            ("wrong shape", Data("{\"inputs\": [[[1,2,3]]]}".utf8), ["Content-Type": "application/json"], 400, "frames"),
            ("non-finite", Data("{\"inputs\": [[[1e999]]]}".utf8), ["Content-Type": "application/json"], 400, ""),
            ("over batch", tooMany, ["Content-Type": "application/json"], 400, "at most 4"),
            ("not json", good, ["Content-Type": "text/csv"], 415, "application/json"),
        ]
        for (name, body, headers, status, fragment) in cases {
            let response = try client.post("/predict", json: body, headers: headers)
            XCTAssertEqual(response.status, status, name)
            let message = response.json?["error"] as? String
            XCTAssertNotNil(message, "\(name): JSON error body")
            if !fragment.isEmpty { XCTAssertTrue(message?.contains(fragment) ?? false, "\(name): \(message ?? "")") }
            XCTAssertEqual(try client.post("/predict", json: good).status, 200, "after \(name)")
        }
    }

    /// Content-Type, route and method are checked from the head: the refusal comes before the body is read
    /// and before `100 Continue` (the client here never sends the body).
    func testRefusalsFromTheHeadComeBeforeTheBody() throws {
        let (_, client) = try start()
        let cases: [(method: String, path: String, contentType: String, status: Int)] = [
            ("POST", "/predict", "text/plain", 415), ("POST", "/invocations", "text/csv", 415),
            ("POST", "/v1/models/signbert:predict", "application/x-pose", 415),
            ("POST", "/v2/models/signbert/infer", "text/plain", 415),
            ("POST", "/v2/models/signbert/infer", "application/octet-stream", 400),
            ("PUT", "/predict", "application/json", 405), ("POST", "/no-such-route", "application/json", 404),
        ]
        for item in cases {
            let head = "\(item.method) \(item.path) HTTP/1.1\r\nHost: t\r\nContent-Type: \(item.contentType)\r\n"
                + "Content-Length: 100000\r\nExpect: 100-continue\r\n\r\n"
            let response = try client.exchange(Data(head.utf8))
            XCTAssertEqual(response.status, item.status, "\(item.method) \(item.path) \(item.contentType)")
            XCTAssertNotNil(response.headers["x-request-id"])
        }
    }

    func testHealthReadinessDescriptionMetricsAndRouting() throws {
        let (_, client) = try start { service, _ in service.modelName = "gestures" }
        XCTAssertEqual(try client.get("/health").status, 200)
        XCTAssertEqual(try client.get("/ready").json?["status"] as? String, "ready")
        let description = try client.get("/")
        XCTAssertEqual(description.json?["name"] as? String, "gestures")
        XCTAssertEqual(description.json?["labels"] as? [String], Self.loaded.labels)
        XCTAssertNotNil(description.json?["gflop_per_clip"])
        // File names, never the server's file-system paths (issue 15).
        let files = try XCTUnwrap(description.json?["checkpoint"] as? [String: Any])
        for key in ["path", "config", "labels"] {
            guard let name = files[key] as? String else { continue }
            XCTAssertFalse(name.contains("/"), "\(key): \(name)")
            XCTAssertFalse(name.isEmpty, key)
        }
        XCTAssertEqual(files["path"] as? String, URL(fileURLWithPath: Self.loaded.checkpointPath).lastPathComponent)
        let (body, _) = Self.randomClips(1, seed: 3)
        XCTAssertEqual(try client.post("/predict", json: body).status, 200)
        let metrics = String(decoding: try client.get("/metrics").body, as: UTF8.self)
        XCTAssertTrue(metrics.contains("signbert_requests_total{route=\"/predict\",status=\"200\",protocol=\"HTTP/1.1\"} 1"), metrics)
        for name in ["signbert_queue_wait_seconds_bucket", "signbert_compute_seconds_bucket", "signbert_batch_size_bucket",
                     "signbert_request_duration_seconds_bucket", "signbert_queue_clips", "signbert_requests_in_flight"] {
            XCTAssertTrue(metrics.contains(name), name)
        }
        XCTAssertEqual(try client.get("/nope").status, 404)
        let wrongMethod = try client.send("DELETE", "/predict")
        XCTAssertEqual(wrongMethod.status, 405)
        XCTAssertEqual(wrongMethod.headers["allow"], "POST")
        XCTAssertEqual(try client.send("HEAD", "/health").status, 200)
        let echoed = try client.send("GET", "/health", headers: ["X-Request-Id": "abc-123"])
        XCTAssertEqual(echoed.headers["x-request-id"], "abc-123")
    }

    /// By default a lone request does not wait for company that is not coming; with a fixed delay it does.
    func testALoneRequestSkipsTheQueueDelayUnlessItIsFixed() throws {
        let (body, _) = Self.randomClips(1, seed: 8)
        for fixed in [false, true] {
            let (server, client) = try start { service, _ in
                service.maxQueueDelay = .milliseconds(700)
                service.fixedQueueDelay = fixed
            }
            _ = try client.post("/predict", json: body)  // warm the connection path
            Thread.sleep(forTimeInterval: 0.6)  // let the recent peak of one request expire
            let started = ContinuousClock.now
            XCTAssertEqual(try client.post("/predict", json: body).status, 200)
            let elapsed = started.duration(to: .now)
            if fixed {
                XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(650), "fixed delay: waited \(elapsed)")
            } else {
                XCTAssertLessThan(elapsed, .milliseconds(500), "adaptive: a lone request waited \(elapsed)")
            }
            server.shutdown()
        }
    }

    func testFullQueueAnswers503WithRetryAfter() throws {
        let (_, client) = try start { service, _ in
            service.maxBatchSize = 3
            service.maxQueuedClips = 3
            service.maxQueueDelay = .seconds(2)  // the first request sits in the queue
            service.fixedQueueDelay = true
        }
        let (first, _) = Self.randomClips(2, seed: 4)
        let (second, _) = Self.randomClips(2, seed: 5)
        let firstResponse = LockedResults()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            if let response = try? client.post("/predict", json: first) { firstResponse.append(([], 2, response)) }
        }
        Thread.sleep(forTimeInterval: 0.3)
        let rejected = try client.post("/predict", json: second)
        XCTAssertEqual(rejected.status, 503)
        XCTAssertEqual(rejected.headers["retry-after"], "1")
        XCTAssertTrue((rejected.json?["error"] as? String)?.contains("capacity") ?? false)
        group.wait()
        XCTAssertEqual(firstResponse.items.first?.2.status, 200, "the queued request is still answered")
    }

    /// A client that leaves while its clips wait for company: they are dropped, never computed, and their
    /// place in a full queue goes to the next request.
    func testAClientThatLeavesTheQueueIsNotComputed() throws {
        let (_, client) = try start { service, _ in
            service.maxBatchSize = 4
            service.maxQueuedClips = 2
            service.maxQueueDelay = .milliseconds(800)  // the first request sits in the queue
            service.fixedQueueDelay = true
        }
        func metric(_ name: String) throws -> Double? {
            let text = String(decoding: try client.get("/metrics").body, as: UTF8.self)
            return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
        }
        let (body, clips) = Self.randomClips(2, seed: 9)
        let fd = try client.connectSocket()
        let request = Data("POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
        XCTAssertEqual(request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }, request.count)
        Thread.sleep(forTimeInterval: 0.2)  // queued: the queue is now full
        close(fd)
        Thread.sleep(forTimeInterval: 0.1)
        let next = try client.post("/predict", json: body)
        XCTAssertEqual(next.status, 200, "the departed client's place went to this one")
        XCTAssertLessThanOrEqual(maxAbsDifference(try logits(next), Self.loaded.model.logits(for: clips, batch: 2)), 1e-5)
        XCTAssertEqual(try metric("signbert_cancelled_clips_total"), 2)
        XCTAssertEqual(try metric("signbert_clips_total"), 2, "only the second request's clips ran")
        XCTAssertEqual(try metric("signbert_requests_total{route=\"/predict\",status=\"499\",protocol=\"HTTP/1.1\"}"), 1,
                       "the departed request is counted as nginx's 499")
    }

    func testRequestWaitingPastTheTimeoutGets504() throws {
        let (_, client) = try start { service, _ in
            service.maxBatchSize = 8
            service.maxQueueDelay = .milliseconds(400)
            service.fixedQueueDelay = true
            service.requestTimeout = .milliseconds(100)
        }
        let (body, _) = Self.randomClips(1, seed: 6)
        let response = try client.post("/predict", json: body)
        XCTAssertEqual(response.status, 504)
        XCTAssertNotNil(response.json?["error"])
    }

    func testDrainAnswersQueuedRequestsAndTurnsReadinessOff() throws {
        let (server, client) = try start { service, _ in
            service.maxQueueDelay = .milliseconds(300)
            service.fixedQueueDelay = true
        }
        let (body, clips) = Self.randomClips(2, seed: 7)
        let answered = LockedResults()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            if let response = try? client.post("/predict", json: body) { answered.append((clips, 2, response)) }
        }
        Thread.sleep(forTimeInterval: 0.1)  // the request is queued, waiting for company
        let drained = DispatchSemaphore(value: 0)
        server.drain { _ in drained.signal() }
        XCTAssertEqual(server.state, .draining)
        XCTAssertEqual(drained.wait(timeout: .now() + 10), .success)
        group.wait()
        let response = try XCTUnwrap(answered.items.first?.2)
        XCTAssertEqual(response.status, 200)
        XCTAssertLessThanOrEqual(maxAbsDifference(try logits(response), Self.loaded.model.logits(for: clips, batch: 2)), 1e-5)
        XCTAssertEqual(server.state, .stopped)
        XCTAssertThrowsError(try client.get("/health"), "the listener is closed after a drain")
    }
}

/// Results gathered from concurrent clients.
final class LockedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [([Float], Int, TestHTTPClient.Response)] = []
    private var errors: [String] = []

    func append(_ item: ([Float], Int, TestHTTPClient.Response)) { lock.withLock { storage.append(item) } }
    func fail(_ message: String) { lock.withLock { errors.append(message) } }
    var items: [([Float], Int, TestHTTPClient.Response)] { lock.withLock { storage } }
    var failures: [String] { lock.withLock { errors } }
}
