import Foundation
import SignBERTRuntime
import XCTest

/// `signbert serve` as a real process: readiness, predictions, graceful drain on SIGTERM, start-up failures,
/// and `signbert healthcheck` against it.
final class ServeProcessTests: XCTestCase {
    private var servers: [ServerProcess] = []

    override func tearDown() {
        for server in servers { server.stop() }
        servers = []
    }

    /// Starts `serve` on the v1-small training run on a port the kernel picks, and waits for /ready → 200.
    private func startServer(_ extra: [String] = [], environment: [String: String]? = nil) throws -> (ServerProcess, Int) {
        let server = try ServerProcess(["--checkpoint", CommandFixtures.trainingRun.path, "--host", "127.0.0.1", "--port", "0",
                                        "--max-queue-delay-ms", "5"] + extra, environment: environment)
        servers.append(server)
        let port = try server.waitForPort()
        try server.waitUntilReady(port: port)
        return (server, port)
    }

    private func assertGracefulExit(_ server: ServerProcess, within seconds: Double = 10,
                                    file: StaticString = #filePath, line: UInt = #line) {
        guard let exit = server.waitForExit(timeout: seconds) else {
            XCTFail("serve did not exit within \(seconds) s of SIGTERM; log:\n\(server.log)", file: file, line: line)
            return
        }
        XCTAssertFalse(exit.signaled, "serve died of signal \(exit.status); log:\n\(server.log)", file: file, line: line)
        XCTAssertEqual(exit.status, 0, "log:\n\(server.log)", file: file, line: line)
        XCTAssertTrue(server.hasLogMessage("draining"), "no \"draining\" line:\n\(server.log)", file: file, line: line)
        let drained = server.logLines.first { $0["message"] as? String == "drained" }
        XCTAssertNotNil(drained, "no \"drained\" line:\n\(server.log)", file: file, line: line)
        XCTAssertEqual(drained?["clean"] as? String, "true", file: file, line: line)
    }

    // MARK: Serving

    func testServeAnswersThePyTorchLogitsAndStopsOnSIGTERM() throws {
        let fixture = try CommandFixtures.v1SmallCase()
        let (server, port) = try startServer()
        let client = RawHTTPClient(port: port)

        XCTAssertTrue(server.hasLogMessage("started"), server.log)
        XCTAssertTrue(server.hasLogMessage("ready"), server.log)
        XCTAssertTrue(server.log.split(separator: "\n").allSatisfy {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) is [String: Any]
        }, "every log line is a JSON object:\n\(server.log)")

        let response = try client.postJSON("/predict", fixture.requestBody())
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.headers["content-type"]?.hasPrefix("application/json"), true)
        let logits = try CommandFixtures.logits(fromPredictionJSON: response.body)
        XCTAssertLessThanOrEqual(maxAbsDifference(logits, try XCTUnwrap(fixture.expected["f32"])), fixture.tolerance)
        let predictions = try XCTUnwrap(response.json?["predictions"] as? [[String: Any]])
        XCTAssertEqual(predictions.compactMap { $0["label"] as? String }.count, fixture.batch)

        let health = try client.request("GET", "/health")
        XCTAssertEqual(health.status, 200)
        let description = try client.request("GET", "/")
        XCTAssertEqual(description.status, 200)
        XCTAssertEqual(description.json?["labels"] as? [String], fixture.labels)
        let bad = try client.postJSON("/predict", Data("{\"inputs\": [[[1, 2".utf8))
        XCTAssertEqual(bad.status, 400)
        XCTAssertNotNil(bad.json?["error"] as? String, bad.text)
        let metrics = try client.request("GET", "/metrics")
        XCTAssertEqual(metrics.status, 200)
        XCTAssertTrue(metrics.text.contains("signbert_requests_total"), metrics.text)

        server.signal(SIGTERM)
        assertGracefulExit(server)
        let accessLines = server.logLines.filter { $0["message"] as? String == "request" && $0["path"] as? String == "/predict" }
        XCTAssertEqual(accessLines.compactMap { $0["status"] as? Int }.sorted(), [200, 400], "one access-log line per /predict")
    }

    /// SIGNBERT_GEMM: a value that is not a GEMM is named in a warning and ignored (the server still serves the
    /// PyTorch logits); a valid one is what the "started" line reports.
    func testTheGEMMChoiceFromTheEnvironment() throws {
        let fixture = try CommandFixtures.v1SmallCase()
        for (wanted, used) in [("bogus", "automatic"), ("openblas", "openblas"), ("packed", "packed")] {
            var environment = ProcessInfo.processInfo.environment
            environment["SIGNBERT_GEMM"] = wanted
            let (server, port) = try startServer(environment: environment)
            let started = server.logLines.first { $0["message"] as? String == "started" }
            XCTAssertEqual(started?["gemm"] as? String, used, server.log)
            let warning = server.logLines.first { $0["message"] as? String == "SIGNBERT_GEMM is not automatic, packed or openblas: ignored" }
            XCTAssertEqual(warning?["SIGNBERT_GEMM"] as? String, wanted == "bogus" ? "bogus" : nil, server.log)
            let response = try RawHTTPClient(port: port).postJSON("/predict", fixture.requestBody())
            XCTAssertEqual(response.status, 200, response.text)
            let logits = try CommandFixtures.logits(fromPredictionJSON: response.body)
            XCTAssertLessThanOrEqual(maxAbsDifference(logits, try XCTUnwrap(fixture.expected["f32"])), fixture.tolerance, wanted)
            server.signal(SIGTERM)
            assertGracefulExit(server)
        }
    }

    func testSettingsFromTheEnvironment() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["SIGNBERT_CHECKPOINT"] = CommandFixtures.trainingRun.path
        environment["SIGNBERT_HOST"] = "127.0.0.1"
        environment["PORT"] = "0"
        environment["SIGNBERT_MODEL_NAME"] = "from-env"
        environment["SIGNBERT_MODEL_CONTROL"] = "any"
        let server = try ServerProcess([], environment: environment)
        servers.append(server)
        let port = try server.waitForPort()
        try server.waitUntilReady(port: port)
        let description = try RawHTTPClient(port: port).request("GET", "/")
        XCTAssertEqual(description.json?["name"] as? String, "from-env", description.text)
        XCTAssertTrue(server.logLines.contains { $0["model_control"] as? String == "any" }, server.log)
        server.signal(SIGTERM)
        assertGracefulExit(server)
    }

    // MARK: Drain (acceptance)

    /// Clients keep sending while the server gets SIGTERM. Every request whose connection was accepted
    /// and which was sent in full must get a 200 with the right logits; refusals at connect time after
    /// the signal are fine; the process must exit 0 within a few seconds, logging "draining" and "drained".
    func testSIGTERMUnderLoadAnswersEveryAcceptedRequest() throws {
        let loaded = try ModelLoader.load(ModelSource(checkpoint: CommandFixtures.trainingRun))
        let (server, port) = try startServer(["--drain-timeout", "20"])
        let log = DrainLog()
        let clients = 6
        let finished = DispatchGroup()
        for clientIndex in 0..<clients {
            finished.enter()
            let thread = Thread {
                defer { finished.leave() }
                var generator = SplitMix64(seed: UInt64(clientIndex + 1) &* 0x9E37_79B9_7F4A_7C15)
                let client = RawHTTPClient(port: port, timeout: 30)
                while !log.shouldStop {
                    let count = Int.random(in: 1...3, using: &generator)
                    let (body, clips) = Self.randomRequest(clips: count, config: loaded.config, using: &generator)
                    let expected = loaded.model.logits(for: clips, batch: count)
                    let signalledBefore = log.signalled
                    let outcome = client.exchange("POST", "/predict", headers: ["Content-Type": "application/json"], body: body)
                    log.record(Exchange(client: clientIndex, clips: count, expected: expected, outcome: outcome,
                                        startedAfterSignal: signalledBefore, endedAfterSignal: log.signalled))
                    if case .notConnected = outcome, log.signalled { return }  // the listener is gone: done
                }
            }
            thread.start()
        }

        // Let the load run a little, then SIGTERM mid-stream.
        let deadline = Date() + 20
        while log.answered < 40, Date() < deadline, server.isRunning { Thread.sleep(forTimeInterval: 0.005) }
        XCTAssertGreaterThanOrEqual(log.answered, 40, "the clients got going before the signal; log:\n\(server.log)")
        log.markSignalled()
        server.signal(SIGTERM)
        let exit = server.waitForExit(timeout: 15)
        log.stop()
        XCTAssertEqual(finished.wait(timeout: .now() + 40), .success, "client threads finished")

        XCTAssertNotNil(exit, "serve exited within 15 s of SIGTERM; log:\n\(server.log)")
        assertGracefulExit(server, within: 1)

        let exchanges = log.exchanges
        var failures: [String] = []
        var refusedAfterSignal = 0, resetBeforeFullySent = 0, answeredAcrossSignal = 0, ok = 0
        for exchange in exchanges {
            switch exchange.outcome {
            case .notConnected(let code):
                if exchange.endedAfterSignal { refusedAfterSignal += 1 } else {
                    failures.append("client \(exchange.client): connect failed (errno \(code)) before the signal")
                }
            case .sendFailed(let code, let sent):
                // Not "fully sent": outside the promise, but counted and shown below.
                resetBeforeFullySent += 1
                if !exchange.endedAfterSignal {
                    failures.append("client \(exchange.client): send failed (errno \(code), \(sent) bytes) before the signal")
                }
            case .noResponse(let code, let received):
                failures.append("client \(exchange.client): request sent, no complete answer (errno \(code), \(received) bytes)"
                                + (exchange.endedAfterSignal ? " around the signal" : ""))
            case .response(let response):
                guard response.status == 200 else {
                    failures.append("client \(exchange.client): \(response.status) \(response.text.prefix(200))"
                                    + (exchange.endedAfterSignal ? " (around the signal)" : ""))
                    continue
                }
                do {
                    let logits = try CommandFixtures.logits(fromPredictionJSON: response.body)
                    let difference = maxAbsDifference(logits, exchange.expected)
                    if difference > 1e-5 {
                        failures.append("client \(exchange.client): logits off by \(difference) for \(exchange.clips) clip(s)")
                    } else {
                        ok += 1
                        if !exchange.startedAfterSignal && exchange.endedAfterSignal { answeredAcrossSignal += 1 }
                    }
                } catch {
                    failures.append("client \(exchange.client): unreadable 200 body \(response.text.prefix(200))")
                }
            }
        }
        let summary = "\(exchanges.count) exchanges: \(ok) answered 200 with the right logits (\(answeredAcrossSignal) of them "
            + "in flight at the signal), \(refusedAfterSignal) refused at connect after the signal, "
            + "\(resetBeforeFullySent) reset while sending"
        XCTAssertEqual(failures, [], "\(summary)\nserver log (tail):\n\(server.log.suffix(4000))")
        XCTAssertGreaterThanOrEqual(ok, 40, summary)
        print("drain test: \(summary)")
    }

    /// `count` random clips (`[T][V][C]`, multiples of 1/256 in [-2, 2], exact in JSON and Float) as a body, and their floats.
    static func randomRequest(clips count: Int, config: SignBERTConfig, using generator: inout SplitMix64)
        -> (body: Data, clips: [Float]) {
        var floats: [Float] = []
        floats.reserveCapacity(count * config.numFrames * config.inputFeatures)
        var text = "{\"return_logits\":true,\"top_k\":2,\"inputs\":["
        for clip in 0..<count {
            text += clip == 0 ? "[" : ",["
            for frame in 0..<config.numFrames {
                text += frame == 0 ? "[" : ",["
                for joint in 0..<config.numJoints {
                    text += joint == 0 ? "[" : ",["
                    for coord in 0..<config.numCoords {
                        let value = Double(Int.random(in: -512...512, using: &generator)) / 256
                        floats.append(Float(value))
                        text += (coord == 0 ? "" : ",") + "\(value)"
                    }
                    text += "]"
                }
                text += "]"
            }
            text += "]"
        }
        text += "]}"
        return (Data(text.utf8), floats)
    }

    // MARK: Start-up failures

    func testServeWithABrokenModelExitsWithOneErrorLine() throws {
        let scratch = try TemporaryDirectory()
        let whole = try Data(contentsOf: CommandFixtures.trainingRun)
        let truncated = try scratch.write("truncated.pth", whole.prefix(whole.count / 2))
        let cases: [([String], [String])] = [
            (["--checkpoint", truncated.path], ["truncated"]),
            (["--checkpoint", CommandFixtures.broken.appendingPathComponent("missing_key.safetensors").path, "--num-heads", "4"],
             ["head.5.bias"]),
            (["--model", scratch.file("no-such-model").path], ["no-such-model"]),
        ]
        for (arguments, words) in cases {
            let result = try SignBERTProcess.run(["serve", "--host", "127.0.0.1", "--port", "0"] + arguments, timeout: 30)
            assertOneErrorLine(result, mentioning: words, arguments.joined(separator: " "))
        }
    }

    func testPlatformEnvironmentAndAPIKeyFile() throws {
        let scratch = try TemporaryDirectory()
        let keys = try scratch.write("keys", Data("# rotated on 2026-11-25\nold-key\n\nnew-key\n".utf8))
        var environment = ProcessInfo.processInfo.environment
        environment["SIGNBERT_CHECKPOINT"] = CommandFixtures.trainingRun.path
        environment["SIGNBERT_HOST"] = "127.0.0.1"
        environment["AIP_HTTP_PORT"] = "0"
        environment["PORT"] = "1"  // AIP_HTTP_PORT wins over PORT (a privileged port would fail to bind)
        environment["AIP_PREDICT_ROUTE"] = "/v1/endpoints/e/deployedModels/m:predict"
        environment["AIP_HEALTH_ROUTE"] = "/v1/endpoints/e/deployedModels/m"
        environment["SIGNBERT_API_KEY_FILE"] = keys.path
        let server = try ServerProcess([], environment: environment)
        servers.append(server)
        let port = try server.waitForPort()
        try server.waitUntilReady(port: port)
        let client = RawHTTPClient(port: port)
        XCTAssertEqual(try client.request("GET", "/v1/endpoints/e/deployedModels/m").status, 200)
        let body = try CommandFixtures.v1SmallCase().requestBody()
        let refused = try client.request("POST", "/v1/endpoints/e/deployedModels/m:predict", body: body)
        XCTAssertEqual(refused.status, 401, refused.text)
        server.signal(SIGTERM)
        assertGracefulExit(server)
        XCTAssertTrue(server.logLines.contains { $0["api_key"] as? String == "required (predictions)" })
        XCTAssertTrue(server.logLines.contains { $0["model_control"] as? String == "api key" }, "with keys, the key decides")
        XCTAssertFalse(server.logLines.contains { "\($0)".contains("old-key") || "\($0)".contains("new-key") },
                       "keys are never logged")

        for (arguments, words) in [(["--protect-metrics"], ["--protect-metrics needs an API key"]),
                                   (["--api-key-file", scratch.file("absent").path], ["API key file"]),
                                   (["--model-name", "a/b"], ["model name"]),
                                   (["--model-control", "everyone"], ["--model-control is loopback or any", "everyone"])] {
            let result = try SignBERTProcess.run(["serve", "--checkpoint", CommandFixtures.trainingRun.path, "--port", "0"] + arguments,
                                                 timeout: 30)
            assertOneErrorLine(result, mentioning: words, arguments.joined(separator: " "))
        }
    }

    func testServeOnAPortInUseExitsWithAClearMessage() throws {
        let occupant = try ListeningSocket()
        let result = try SignBERTProcess.run(["serve", "--checkpoint", CommandFixtures.trainingRun.path,
                                              "--host", "127.0.0.1", "--port", String(occupant.port)], timeout: 30)
        assertOneErrorLine(result, mentioning: ["127.0.0.1:\(occupant.port)", "in use"])
        withExtendedLifetime(occupant) {}
    }

    // MARK: healthcheck

    func testHealthcheckFollowsTheServer() throws {
        let (server, port) = try startServer()
        let healthy = try SignBERTProcess.run(["healthcheck", "--port", String(port)], timeout: 20)
        XCTAssertEqual(healthy.status, 0, healthy.summary)
        XCTAssertFalse(healthy.signaled)
        XCTAssertTrue(healthy.stdoutText.contains("200"), healthy.summary)

        // The port from the environment, as in a container HEALTHCHECK.
        var environment = ProcessInfo.processInfo.environment
        environment["SIGNBERT_PORT"] = nil
        environment["PORT"] = String(port)
        let fromEnvironment = try SignBERTProcess.run(["healthcheck"], environment: environment, timeout: 20)
        XCTAssertEqual(fromEnvironment.status, 0, fromEnvironment.summary)

        let missingPath = try SignBERTProcess.run(["healthcheck", "--port", String(port), "--path", "/no-such-path"], timeout: 20)
        XCTAssertEqual(missingPath.status, 1, missingPath.summary)
        XCTAssertTrue(missingPath.stderrText.contains("404"), missingPath.summary)

        server.signal(SIGTERM)
        assertGracefulExit(server)
        let afterwards = try SignBERTProcess.run(["healthcheck", "--port", String(port)], timeout: 20)
        XCTAssertEqual(afterwards.status, 1, afterwards.summary)
        XCTAssertFalse(afterwards.signaled)
    }

    func testHealthcheckFailsWhenNothingListens() throws {
        let port = try unusedPort()
        let result = try SignBERTProcess.run(["healthcheck", "--port", String(port), "--timeout", "1"], timeout: 20)
        XCTAssertFalse(result.signaled, result.summary)
        XCTAssertEqual(result.status, 1, result.summary)
        XCTAssertEqual(result.stderrLines.count, 1, result.summary)
        XCTAssertTrue(result.stderrText.hasPrefix("unhealthy: "), result.summary)
        XCTAssertTrue(result.stderrText.contains(String(port)), result.summary)
    }
}

/// One client request in the drain test.
struct Exchange: Sendable {
    var client: Int
    var clips: Int
    var expected: [Float]
    var outcome: RawHTTPClient.Outcome
    /// Whether SIGTERM had been sent before the request started / by the time its outcome was known.
    var startedAfterSignal: Bool
    var endedAfterSignal: Bool
}

/// What the drain test's client threads share.
final class DrainLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Exchange] = []
    private var stopped = false
    private var signalSent = false
    private var answeredCount = 0

    func record(_ exchange: Exchange) {
        lock.withLock {
            items.append(exchange)
            if case .response = exchange.outcome { answeredCount += 1 }
        }
    }

    var exchanges: [Exchange] { lock.withLock { items } }
    var answered: Int { lock.withLock { answeredCount } }
    var shouldStop: Bool { lock.withLock { stopped } }
    var signalled: Bool { lock.withLock { signalSent } }
    func stop() { lock.withLock { stopped = true } }
    func markSignalled() { lock.withLock { signalSent = true } }
}
