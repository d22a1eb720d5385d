import Foundation
import HTTPServer
@testable import InferenceService
import Logging
import SignBERTRuntime
import SwiftProtobuf
import Synchronization
import XCTest

/// A repository of three models built in a temp dir from the committed fixtures: `v1` (a v1 training run), `v2`
/// (a v2 training run, D = 16) and `demo`, a model directory in two versions (1: the v1-small training run
/// converted as `signbert convert` does; 2: models/demo-gestures). Each answers with its own logits through every
/// route, equal to PyTorch's where the fixture has them and to the single-model server's otherwise.
final class ModelRepositoryTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
    static let fidelity = root.appendingPathComponent("Tests/SignBERTRuntimeTests/Fixtures/fidelity")
    static let parity = root.appendingPathComponent("Tests/SignBERTRuntimeTests/Fixtures/parity")

    private var servers: [InferenceServer] = []
    private var folders: [URL] = []

    override func tearDown() {
        for server in servers { server.shutdown() }
        servers = []
        for folder in folders { try? FileManager.default.removeItem(at: folder) }
        folders = []
    }

    /// Copies every file of `source` into `destination`.
    static func copyFiles(_ source: URL, to destination: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: destination, withIntermediateDirectories: true)
        for name in try fm.contentsOfDirectory(atPath: source.path) where !name.hasSuffix(".md") {
            try fm.copyItem(at: source.appendingPathComponent(name), to: destination.appendingPathComponent(name))
        }
    }

    /// A model directory from a training run, as `signbert convert` writes it (float32 safetensors, config.json,
    /// labels.txt).
    static func convert(_ checkpoint: URL, to directory: URL) throws {
        let (loaded, stateDict) = try ModelLoader.loadKeepingStateDict(ModelSource(checkpoint: checkpoint))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let tensors = SignBERTWeights.expectedShapes(for: loaded.config).compactMap { entry in
            stateDict.tensors[entry.key].map { (name: entry.key, tensor: $0) }
        }
        try SafeTensorsWriter.write(tensors, dtype: .f32, metadata: ["format": "pt"],
                                    to: directory.appendingPathComponent("model.safetensors"))
        let config = ModelDirectoryConfig(config: loaded.config, source: "test", preparation: loaded.preparation)
        try JSONEncoder().encode(config).write(to: directory.appendingPathComponent("config.json"))
        try Data((loaded.labels.joined(separator: "\n") + "\n").utf8).write(to: directory.appendingPathComponent("labels.txt"))
    }

    func makeRepository() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("signbert-repository-\(UUID().uuidString)")
        folders.append(directory)
        try Self.copyFiles(Self.fidelity.appendingPathComponent("v1-run/training_run"), to: directory.appendingPathComponent("v1"))
        try Self.copyFiles(Self.fidelity.appendingPathComponent("v2-run-d16/training_run"), to: directory.appendingPathComponent("v2"))
        try Self.convert(Self.parity.appendingPathComponent("v1-small/training_run/checkpoint_best.pth"),
                         to: directory.appendingPathComponent("demo/1"))
        try Self.copyFiles(Self.root.appendingPathComponent("models/demo-gestures"), to: directory.appendingPathComponent("demo/2"))
        return directory
    }

    /// Serves every version of `directory` as `serve --model-repository` does; `load` loads what the load calls, the
    /// poll and SIGHUP add.
    func start(_ directory: URL, defaultModel: String? = nil,
               _ configure: (inout ServiceConfiguration) -> Void = { _ in },
               load: @escaping @Sendable (ModelSource) throws -> LoadedModel = { try ModelLoader.load($0) }) throws -> (InferenceServer, TestHTTPClient) {
        var service = ServiceConfiguration()
        service.maxBatchSize = 4
        configure(&service)
        var http = HTTPServerConfiguration()
        http.host = "127.0.0.1"
        http.port = 0
        var models: [InitialModel] = []
        for entry in try ModelRepositoryLayout.scan(directory) {
            XCTAssertEqual(entry.problems, [], entry.name)
            for (version, source) in entry.versions.sorted(by: { $0.key < $1.key }) {
                models.append(InitialModel(name: entry.name, version: version, loaded: try ModelLoader.load(source), configuration: service))
            }
        }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let fixed = service
        let server = InferenceServer(models: models, repository: ModelRepositorySource(directory: directory, configure: { _ in fixed }, load: load),
                                     defaultModel: defaultModel, configuration: service, http: http, logger: logger)
        try server.start()
        servers.append(server)
        XCTAssertTrue(server.waitUntilReady())
        return (server, TestHTTPClient(port: server.port))
    }

    struct Expected {
        /// Clips, each [T][V][C].
        var clips: [[[[Double]]]]
        /// Logits [clips, K].
        var logits: [Float]
        var classes: Int
    }

    /// The fidelity run's feature-array clips and PyTorch's logits for them.
    static func fidelityCase(_ name: String) throws -> Expected {
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: fidelity.appendingPathComponent(name + "/case.json"))) as? [String: Any])
        let arrays = try XCTUnwrap(object["arrays"] as? [String: Any])
        let clips = try XCTUnwrap((arrays["request"] as? [String: Any])?["inputs"] as? [[[[Double]]]])
        let logits = try XCTUnwrap(arrays["logits"] as? [Double]).map(Float.init)
        return Expected(clips: clips, logits: logits, classes: logits.count / clips.count)
    }

    /// v1-small's clips ([T][V·C] → [T][V][C]) and PyTorch's float32 logits.
    static func smallCase() throws -> Expected {
        let (clips, logits, _) = try LiveInferenceTestCase.pytorchCase()
        let coords = LiveInferenceTestCase.loaded.config.numCoords
        let shaped = clips.map { clip in clip.map { frame in stride(from: 0, to: frame.count, by: coords).map { Array(frame[$0..<$0 + coords]) } } }
        return Expected(clips: shaped, logits: logits, classes: logits.count / clips.count)
    }

    static func close(_ actual: [Float], _ expected: [Float], file: StaticString = #filePath, line: UInt = #line, _ what: String) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        XCTAssertLessThanOrEqual(maxAbsDifference(actual, expected), 1e-4, what, file: file, line: line)
    }

    static func json(_ object: Any) throws -> Data { try JSONSerialization.data(withJSONObject: object) }

    static func predictionLogits(_ response: TestHTTPClient.Response) throws -> [Float] {
        let predictions = try XCTUnwrap(response.json?["predictions"] as? [[String: Any]], response.text)
        return try predictions.flatMap { try XCTUnwrap($0["logits"] as? [Double]).map(Float.init) }
    }

    /// One clip through V2 infer (JSON): its logits, and the model version the answer names.
    static func v2Logits(_ client: TestHTTPClient, _ path: String, clip: [[[Double]]]) throws -> ([Float], String) {
        let shape = [1, clip.count, clip[0].count, clip[0][0].count]
        let body = try json(["inputs": [["name": OpenInferenceRequest.inputName, "datatype": "FP32", "shape": shape,
                                         "data": clip.flatMap { $0.flatMap { $0 } }]],
                             "outputs": [["name": "logits"]]])
        let response = try client.post(path, json: body)
        XCTAssertEqual(response.status, 200, response.text)
        let output = try XCTUnwrap((response.json?["outputs"] as? [[String: Any]])?.first, response.text)
        return (try XCTUnwrap(output["data"] as? [Double]).map(Float.init), try XCTUnwrap(response.json?["model_version"] as? String))
    }

    /// Every route that names a model answers with that model's (and version's) own logits.
    func testEachModelAnswersWithItsOwnLogitsThroughEveryRoute() throws {
        let directory = try makeRepository()
        let (_, client) = try start(directory, defaultModel: "v1")
        // models/demo-gestures alone, as `serve --model models/demo-gestures` serves it: the reference for demo/2.
        let demoLoaded = try ModelLoader.load(ModelSource(modelDirectory: Self.root.appendingPathComponent("models/demo-gestures")))
        let small = try Self.smallCase()
        let single = try LiveSingle(loaded: demoLoaded)
        defer { single.server.shutdown() }
        // The same clips (27 joints x 3, like every model here): demo-gestures brings them to its 64 frames.
        let demoClips = small.clips
        let demoReference = try Self.predictionLogits(single.client.post("/predict", json: Self.json(["inputs": demoClips, "return_logits": true])))

        let cases: [(model: String, version: String?, expected: Expected)] = [
            ("v1", nil, try Self.fidelityCase("v1-run")), ("v2", nil, try Self.fidelityCase("v2-run-d16")),
            ("demo", "1", small), ("demo", nil, Expected(clips: demoClips, logits: demoReference, classes: demoLoaded.config.numClasses)),
        ]
        for (model, version, expected) in cases {
            let what = "\(model) version \(version ?? "latest")"
            let suffix = version.map { "/" + $0 } ?? ""
            let predict = try client.post("/predictions/\(model)\(suffix)", json: Self.json(["inputs": expected.clips, "return_logits": true]))
            Self.close(try Self.predictionLogits(predict), expected.logits, "\(what): /predictions")
            if version == nil {
                let instances = try client.post("/v1/models/\(model):predict",
                                                json: Self.json(["instances": expected.clips, "parameters": ["return_logits": true]]))
                Self.close(try Self.predictionLogits(instances), expected.logits, "\(what): V1")
            }
            let v2Path = "/v2/models/\(model)" + (version.map { "/versions/" + $0 } ?? "") + "/infer"
            for (index, clip) in expected.clips.enumerated() {
                let (logits, answeredVersion) = try Self.v2Logits(client, v2Path, clip: clip)
                Self.close(logits, Array(expected.logits[index * expected.classes..<(index + 1) * expected.classes]), "\(what): V2 clip \(index)")
                XCTAssertEqual(answeredVersion, version ?? (model == "demo" ? "2" : "1"), what)
            }
            let metadata = try client.get("/v2/models/\(model)")
            XCTAssertEqual(metadata.status, 200)
            XCTAssertEqual(metadata.json?["versions"] as? [String], model == "demo" ? ["1", "2"] : ["1"])
            XCTAssertEqual(try client.get("/v2/models/\(model)\(version.map { "/versions/" + $0 } ?? "")/ready").json?["ready"] as? Bool, true)
            XCTAssertEqual(try client.get("/v1/models/\(model)").status, 200)
        }
        // The plain /predict goes to the default model (v1 here).
        let v1 = try Self.fidelityCase("v1-run")
        Self.close(try Self.predictionLogits(client.post("/predict", json: Self.json(["inputs": v1.clips, "return_logits": true]))),
                   v1.logits, "/predict → default model v1")
        Self.close(try Self.predictionLogits(client.post("/invocations", json: Self.json(["inputs": v1.clips, "return_logits": true]))),
                   v1.logits, "/invocations → default model v1")
        XCTAssertEqual(try client.get("/v1/models").json?["models"] as? [String], ["v1", "demo", "v2"])
        // Unknown names and versions are 404 with a JSON error.
        for (method, path) in [("POST", "/predictions/nope"), ("POST", "/v1/models/nope:predict"), ("GET", "/v2/models/nope/ready"),
                               ("GET", "/v2/models/demo/versions/7"), ("POST", "/v2/models/v2/versions/2/infer")] {
            let response = try client.send(method, path, headers: ["Content-Type": "application/json"], body: Self.json(["inputs": v1.clips]))
            XCTAssertEqual(response.status, 404, path)
            XCTAssertNotNil(response.json?["error"] as? String, path)
        }
        // GET / lists every version with its memory; the OpenAPI document names the models.
        let models = try XCTUnwrap(try client.get("/").json?["models"] as? [[String: Any]])
        XCTAssertEqual(models.map { "\($0["name"] ?? "")/\($0["version"] ?? "")" }, ["demo/1", "demo/2", "v1/1", "v2/1"])
        XCTAssertTrue(models.allSatisfy { ($0["memory_bytes"] as? Int ?? 0) > 0 })
        let document = try client.get("/openapi.json").json
        let parameter = (document?["components"] as? [String: Any]).flatMap { ($0["parameters"] as? [String: Any])?["ModelName"] as? [String: Any] }
        XCTAssertEqual((parameter?["schema"] as? [String: Any])?["enum"] as? [String], ["v1", "demo", "v2"])
    }

    /// A single-model server (the reference answers).
    struct LiveSingle {
        let server: InferenceServer
        let client: TestHTTPClient

        init(loaded: LoadedModel) throws {
            var http = HTTPServerConfiguration()
            http.host = "127.0.0.1"
            http.port = 0
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            server = InferenceServer(loaded: loaded, configuration: ServiceConfiguration(), http: http, logger: logger)
            try server.start()
            XCTAssertTrue(server.waitUntilReady())
            client = TestHTTPClient(port: server.port)
        }
    }

    static func index(_ client: TestHTTPClient, readyOnly: Bool = false) throws -> [String] {
        let response = try client.post("/v2/repository/index", json: readyOnly ? json(["ready": true]) : Data())
        XCTAssertEqual(response.status, 200, response.text)
        let entries = try XCTUnwrap(JSONSerialization.jsonObject(with: response.body) as? [[String: String]], response.text)
        return entries.map { "\($0["name"] ?? "")/\($0["version"] ?? "")/\($0["state"] ?? "")" }
    }

    /// Triton's repository extension: the index lists every version; unload takes a model out (404 after), load
    /// brings it back, picks up a new version folder (served as the highest), unloads a removed one, and refuses a
    /// broken one with its reason while the others keep serving.
    func testRepositoryIndexLoadsAndUnloads() throws {
        let directory = try makeRepository()
        let (_, client) = try start(directory)
        XCTAssertEqual(try Self.index(client), ["demo/1/READY", "demo/2/READY", "v1/1/READY", "v2/1/READY"])
        let v2 = try Self.fidelityCase("v2-run-d16")
        let body = try Self.json(["inputs": v2.clips, "return_logits": true])

        XCTAssertEqual(try client.post("/v2/repository/models/v2/unload", json: Data()).status, 200)
        XCTAssertEqual(try client.post("/predictions/v2", json: body).status, 404)
        XCTAssertEqual(try Self.index(client), ["demo/1/READY", "demo/2/READY", "v1/1/READY", "v2/1/UNAVAILABLE"])
        XCTAssertEqual(try Self.index(client, readyOnly: true), ["demo/1/READY", "demo/2/READY", "v1/1/READY"])
        XCTAssertEqual(try client.post("/v2/repository/models/v2/unload", json: Data()).status, 404, "not loaded")
        XCTAssertEqual(try client.post("/v2/repository/models/v2/load", json: Data()).status, 200)
        Self.close(try Self.predictionLogits(client.post("/predictions/v2", json: body)), v2.logits, "v2 after load")

        // A new version folder (v1-small again, as version 3): loaded on the load call and served as the highest.
        let small = try Self.smallCase()
        try Self.copyFiles(directory.appendingPathComponent("demo/1"), to: directory.appendingPathComponent("demo/3"))
        XCTAssertEqual(try client.post("/v2/repository/models/demo/load", json: Data()).status, 200)
        XCTAssertEqual(try Self.v2Logits(client, "/v2/models/demo/infer", clip: small.clips[0]).1, "3")
        // Version 2's folder removed: the next load unloads it; 1 and 3 stay.
        try FileManager.default.removeItem(at: directory.appendingPathComponent("demo/2"))
        XCTAssertEqual(try client.post("/v2/repository/models/demo/load", json: Data()).status, 200)
        XCTAssertEqual(try client.get("/v2/models/demo/versions/2/ready").status, 404)
        XCTAssertEqual(try client.get("/v2/models/demo/versions/3/ready").status, 200)
        // A broken version 4 is refused with its reason; version 3 keeps serving.
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("demo/4"), withIntermediateDirectories: true)
        try Data("{\"format\": \"signbert-model\"}".utf8).write(to: directory.appendingPathComponent("demo/4/config.json"))
        try Data("not safetensors".utf8).write(to: directory.appendingPathComponent("demo/4/model.safetensors"))
        XCTAssertEqual(try client.post("/v2/repository/models/demo/load", json: Data()).status, 200, "versions 1 and 3 still serve")
        let entries = try XCTUnwrap(JSONSerialization.jsonObject(with: client.post("/v2/repository/index", json: Data()).body) as? [[String: String]])
        let broken = try XCTUnwrap(entries.first { $0["name"] == "demo" && $0["version"] == "4" })
        XCTAssertEqual(broken["state"], "UNAVAILABLE")
        XCTAssertFalse(broken["reason"]?.isEmpty ?? true)
        XCTAssertEqual(try Self.v2Logits(client, "/v2/models/demo/infer", clip: small.clips[0]).1, "3")
        // A name with no folder is a 404.
        XCTAssertEqual(try client.post("/v2/repository/models/nothing/load", json: Data()).status, 404)
    }

    /// Unloading the default model (which the server-wide routes, the unload call among them, are given) drains at
    /// once: the unload request itself holds no lease on it. It used to wait out the whole drain timeout.
    func testUnloadingTheDefaultModelDoesNotWaitForItself() throws {
        let directory = try makeRepository()
        let (_, client) = try start(directory, defaultModel: "v1") { $0.drainTimeout = .seconds(60) }
        let started = ContinuousClock.now
        XCTAssertEqual(try client.post("/v2/repository/models/v1/unload", json: Data()).status, 200)
        XCTAssertLessThan(started.duration(to: .now), .seconds(20), "the unload waited for a lease that was its own")
        XCTAssertEqual(try Self.index(client), ["demo/1/READY", "demo/2/READY", "v1/1/UNAVAILABLE", "v2/1/READY"])
        XCTAssertEqual(try client.post("/v2/repository/models/v1/load", json: Data()).status, 200)
        XCTAssertEqual(try client.post("/predictions/v1", json: Self.json(["inputs": Self.fidelityCase("v1-run").clips])).status, 200)
    }

    /// The per-model series carry `model` and `version` labels; the server's totals stay unlabelled.
    func testMetricsCarryModelLabels() throws {
        let directory = try makeRepository()
        let (_, client) = try start(directory)
        let v1 = try Self.fidelityCase("v1-run"), small = try Self.smallCase()
        XCTAssertEqual(try client.post("/predictions/v1", json: Self.json(["inputs": v1.clips])).status, 200)
        XCTAssertEqual(try client.post("/predictions/demo/1", json: Self.json(["inputs": small.clips])).status, 200)
        XCTAssertEqual(try client.post("/v1/models/v2:predict", json: Self.json(["instances": [small.clips[0]]])).status, 200)
        let text = try client.get("/metrics").text
        // Route labels stay patterns (V1's `{name}:predict` too), whatever names clients use.
        XCTAssertTrue(text.contains("signbert_requests_total{route=\"/v1/models/{name}:predict\",status=\"200\""), text)
        XCTAssertTrue(text.contains("signbert_model_requests_total{model=\"v2\",version=\"1\",status=\"200\"} 1"), text)
        for line in ["signbert_model_clips_total{model=\"v1\",version=\"1\"} \(v1.clips.count)",
                     "signbert_model_clips_total{model=\"demo\",version=\"1\"} \(small.clips.count)",
                     "signbert_model_requests_total{model=\"v1\",version=\"1\",status=\"200\"} 1",
                     "signbert_clips_total \(v1.clips.count + small.clips.count + 1)"] {
            XCTAssertTrue(text.contains(line), line)
        }
        for family in ["signbert_model_compute_seconds_count{model=\"v1\",version=\"1\"}", "signbert_model_batch_size_count{model=\"demo\",version=\"1\"}",
                       "signbert_model_queue_wait_seconds_count{model=\"v1\",version=\"1\"}", "signbert_model_memory_bytes{model=\"v2\",version=\"1\"}"] {
            XCTAssertTrue(text.contains(family), family)
        }
        XCTAssertTrue(text.contains("signbert_model_clips_total{model=\"v2\",version=\"1\"} 1"), "v2 ran one clip")
        XCTAssertTrue(text.contains("signbert_model_clips_total{model=\"demo\",version=\"2\"} 0"), "demo version 2 ran none")
    }

    /// Triton's statistics and configuration per model version: each version counts only its own clips, a model's
    /// statistics list all its versions, and each version's configuration is its own.
    func testStatisticsAndConfigurationArePerModelVersion() throws {
        let directory = try makeRepository()
        let (_, client) = try start(directory)
        let v1 = try Self.fidelityCase("v1-run"), small = try Self.smallCase()
        XCTAssertEqual(try client.post("/predictions/v1", json: Self.json(["inputs": v1.clips])).status, 200)
        XCTAssertEqual(try client.post("/predictions/demo/1", json: Self.json(["inputs": small.clips])).status, 200)
        func stats(_ path: String) throws -> [String: Int] {
            let response = try client.get(path)
            XCTAssertEqual(response.status, 200, response.text)
            let entries = try XCTUnwrap(response.json?["model_stats"] as? [[String: Any]], response.text)
            var counts: [String: Int] = [:]
            for entry in entries {
                let key = "\(entry["name"] as? String ?? "?")/\(entry["version"] as? String ?? "?")"
                counts[key] = try XCTUnwrap(entry["inference_count"] as? Int, response.text)
            }
            return counts
        }
        XCTAssertEqual(try stats("/v2/models/stats"), ["v1/1": v1.clips.count, "v2/1": 0, "demo/1": small.clips.count, "demo/2": 0])
        XCTAssertEqual(try stats("/v2/models/demo/stats"), ["demo/1": small.clips.count, "demo/2": 0])
        XCTAssertEqual(try stats("/v2/models/demo/versions/1/stats"), ["demo/1": small.clips.count])
        XCTAssertEqual(try client.get("/v2/models/nothing/stats").status, 404)
        let v2Classes = try Self.fidelityCase("v2-run-d16").classes
        let config = try client.get("/v2/models/v2/config")
        XCTAssertEqual(config.json?["name"] as? String, "v2", config.text)
        let output = try XCTUnwrap((config.json?["output"] as? [[String: Any]])?.first, config.text)
        XCTAssertEqual(output["dims"] as? [Int], [v2Classes], config.text)
    }

    /// An unload answers once the requests already queued on the model are answered, and they are answered by it.
    func testUnloadDrainsQueuedRequests() throws {
        let directory = try makeRepository()
        // Every batch waits 600 ms for company: the request is still queued when the unload comes.
        let (_, client) = try start(directory) { service in
            service.maxQueueDelay = .milliseconds(600)
            service.fixedQueueDelay = true
        }
        let v1 = try Self.fidelityCase("v1-run")
        let body = try Self.json(["inputs": v1.clips, "return_logits": true])
        nonisolated(unsafe) var answer: TestHTTPClient.Response?
        nonisolated(unsafe) var answeredAt = ContinuousClock.now
        let done = expectation(description: "queued request")
        DispatchQueue.global().async {
            answer = try? client.post("/predictions/v1", json: body)
            answeredAt = .now
            done.fulfill()
        }
        Thread.sleep(forTimeInterval: 0.15)
        let unload = try client.post("/v2/repository/models/v1/unload", json: Data())
        let unloadedAt = ContinuousClock.now
        wait(for: [done], timeout: 30)
        XCTAssertEqual(unload.status, 200, unload.text)
        let response = try XCTUnwrap(answer)
        XCTAssertEqual(response.status, 200, response.text)
        Self.close(try Self.predictionLogits(response), v1.logits, "the queued request, answered by the unloading version")
        // The two answers reach two client threads, which may note them in either order when they come together;
        // an unload that did not wait would answer ~450 ms before the queued request (its batch waits 600 ms).
        XCTAssertLessThanOrEqual(answeredAt, unloadedAt + .milliseconds(100), "the unload answered before its queued request")
        XCTAssertEqual(try client.post("/predictions/v1", json: body).status, 404, "unloaded")
    }

    /// A repository server whose run-time loads signal `entered` and then wait for `release` (up to 60 s), and a
    /// folder `late` not served yet.
    func startWithHeldLoads() throws -> (URL, InferenceServer, TestHTTPClient, entered: DispatchSemaphore, release: DispatchSemaphore) {
        let directory = try makeRepository()
        let release = DispatchSemaphore(value: 0), entered = DispatchSemaphore(value: 0)
        let (server, client) = try start(directory, load: { source in
            entered.signal()
            _ = release.wait(timeout: .now() + 60)
            return try ModelLoader.load(source)
        })
        try Self.copyFiles(Self.root.appendingPathComponent("models/demo-gestures"), to: directory.appendingPathComponent("late"))
        return (directory, server, client, entered, release)
    }

    /// Load calls waiting for a slow load wait on the repository's queue of changes, not on threads the connections
    /// need: eight at once, while the first one's model is still loading, leave other requests answered at once.
    /// On global Dispatch threads (which Linux grows by about one a second) they held up every request for seconds.
    func testLoadCallsWaitingForASlowLoadHoldUpNoOtherRequest() throws {
        let (_, server, client, entered, release) = try startWithHeldLoads()
        let statuses = Mutex<[Int]>([]), port = server.port, calls = DispatchGroup()
        for _ in 0..<8 {
            calls.enter()
            Thread.detachNewThread {
                let status = (try? TestHTTPClient(port: port).post("/v2/repository/models/late/load", json: Data()).status) ?? -1
                statuses.withLock { $0.append(status) }
                calls.leave()
            }
        }
        XCTAssertEqual(entered.wait(timeout: .now() + 30), .success, "the first load call started loading")
        Thread.sleep(forTimeInterval: 0.5)  // the other seven calls arrive and wait
        let started = ContinuousClock.now
        XCTAssertEqual(try client.get("/v2/health/ready").status, 200)
        XCTAssertFalse(try Self.index(client).contains("late/1/READY"), "served before its load ended")
        XCTAssertLessThan(started.duration(to: .now), .seconds(2), "requests waited behind the load calls")
        release.signal()
        XCTAssertEqual(calls.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(statuses.withLock { $0 }, Array(repeating: 200, count: 8))
        XCTAssertTrue(try Self.index(client).contains("late/1/READY"))
    }

    /// SIGHUP and `--repository-poll` (`pollRepository`): a new model folder is loaded, a removed one unloaded, a
    /// new version of a served model loaded beside the old.
    func testPollPicksUpNewAndRemovedModels() throws {
        let directory = try makeRepository()
        let (server, client) = try start(directory)
        try Self.copyFiles(Self.fidelity.appendingPathComponent("v1-run/training_run"), to: directory.appendingPathComponent("extra"))
        try FileManager.default.removeItem(at: directory.appendingPathComponent("v2"))
        try Self.copyFiles(directory.appendingPathComponent("demo/1"), to: directory.appendingPathComponent("demo/5"))
        server.pollRepository()
        XCTAssertEqual(try Self.index(client), ["demo/1/READY", "demo/2/READY", "demo/5/READY", "extra/1/READY", "v1/1/READY",
                                                "v2/1/UNAVAILABLE"])
        let v1 = try Self.fidelityCase("v1-run")
        Self.close(try Self.predictionLogits(client.post("/predictions/extra", json: Self.json(["inputs": v1.clips, "return_logits": true]))),
                   v1.logits, "the new model")
        XCTAssertEqual(try client.get("/v1/models").json?["models"] as? [String], ["demo", "v1", "extra"])
    }

    /// SIGHUP and the poll timer (`schedulePollRepository`): the poll runs later on the repository's queue of
    /// changes, after a load call already there, and returns at once (SIGHUP's handler does not wait on a load).
    func testScheduledPollRunsAfterTheWaitingChanges() throws {
        let (directory, server, client, entered, release) = try startWithHeldLoads()
        let port = server.port, loaded = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = try? TestHTTPClient(port: port).post("/v2/repository/models/late/load", json: Data())
            loaded.signal()
        }
        XCTAssertEqual(entered.wait(timeout: .now() + 30), .success, "the load call started loading")
        try Self.copyFiles(Self.fidelity.appendingPathComponent("v1-run/training_run"), to: directory.appendingPathComponent("extra"))
        server.schedulePollRepository()
        server.schedulePollRepository()
        XCTAssertFalse(try Self.index(client).contains("extra/1/READY"), "the poll ran before the load waiting ahead of it")
        release.signal()  // the load, then the one poll (its model's load signals again)
        XCTAssertEqual(loaded.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(entered.wait(timeout: .now() + 30), .success, "the poll loaded the new folder")
        release.signal()
        let deadline = ContinuousClock.now + .seconds(30)
        while !(try Self.index(client).contains("extra/1/READY")) && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertTrue(try Self.index(client).contains("extra/1/READY"))
        XCTAssertTrue(try Self.index(client).contains("late/1/READY"))
    }

    /// gRPC's ModelMetadata and ModelInfer name the model and version as the REST routes do.
    func testGRPCCallsNameTheModelAndVersion() throws {
        let directory = try makeRepository()
        let (server, _) = try start(directory)
        let small = try Self.smallCase()
        func call(_ method: String, _ message: any SwiftProtobuf.Message) throws -> (status: Int?, messages: [[UInt8]]) {
            let answer = try grpcCall(server, method, [message], timeout: 30)
            return (answer.status, try answer.messages())
        }
        func infer(_ model: String, version: String) throws -> (status: Int?, response: Inference_ModelInferResponse?) {
            let clip = small.clips[0]
            let request = Inference_ModelInferRequest.with { call in
                call.modelName = model
                call.modelVersion = version
                call.inputs = [.with {
                    $0.name = "keypoints"
                    $0.datatype = "FP32"
                    $0.shape = [1, Int64(clip.count), Int64(clip[0].count), Int64(clip[0][0].count)]
                    $0.contents.fp32Contents = clip.flatMap { $0.flatMap { $0 } }.map(Float.init)
                }]
            }
            let answer = try call("ModelInfer", request)
            return (answer.status, try answer.messages.first.map { try Inference_ModelInferResponse(serializedBytes: $0) })
        }
        let first = try infer("demo", version: "1")
        XCTAssertEqual(first.status, 0)
        let response = try XCTUnwrap(first.response)
        XCTAssertEqual(response.modelVersion, "1")
        let raw = [UInt8](try XCTUnwrap(response.rawOutputContents.first))
        let logits = raw.withUnsafeBytes { bytes in
            (0..<raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        Self.close(logits, Array(small.logits[0..<small.classes]), "gRPC demo version 1")
        XCTAssertEqual(try infer("demo", version: "").response?.modelVersion, "2", "the highest version")
        XCTAssertEqual(try infer("nope", version: "").status, 5, "NOT_FOUND")
        XCTAssertEqual(try infer("demo", version: "9").status, 5, "NOT_FOUND")
        let metadata = try call("ModelMetadata", Inference_ModelMetadataRequest.with { $0.name = "demo" })
        XCTAssertEqual(try metadata.messages.first.map { try Inference_ModelMetadataResponse(serializedBytes: $0) }?.versions, ["1", "2"])

        // Triton's repository calls: the index, an unload (the model's versions then NOT_FOUND), a load back.
        func index(ready: Bool = false) throws -> [String] {
            let answer = try call("RepositoryIndex", Inference_RepositoryIndexRequest.with { $0.ready = ready })
            XCTAssertEqual(answer.status, 0)
            let response = try Inference_RepositoryIndexResponse(serializedBytes: try XCTUnwrap(answer.messages.first))
            return response.models.map { "\($0.name)/\($0.version)/\($0.state)" }
        }
        XCTAssertEqual(try index(), ["demo/1/READY", "demo/2/READY", "v1/1/READY", "v2/1/READY"])
        XCTAssertEqual(try call("RepositoryModelUnload", Inference_RepositoryModelUnloadRequest.with { $0.modelName = "demo" }).status, 0)
        XCTAssertEqual(try infer("demo", version: "1").status, 5, "unloaded: NOT_FOUND")
        XCTAssertEqual(try index(ready: true), ["v1/1/READY", "v2/1/READY"])
        XCTAssertEqual(try call("RepositoryModelUnload", Inference_RepositoryModelUnloadRequest.with { $0.modelName = "demo" }).status, 5,
                       "not loaded: NOT_FOUND")
        XCTAssertEqual(try call("RepositoryModelLoad", Inference_RepositoryModelLoadRequest.with { $0.modelName = "nothing" }).status, 5)
        XCTAssertEqual(try call("RepositoryModelLoad", Inference_RepositoryModelLoadRequest.with {
            $0.modelName = "demo"
            $0.parameters = ["config": .with { $0.stringParam = "{}" }]
        }).status, 3, "load parameters: INVALID_ARGUMENT")
        XCTAssertEqual(try call("RepositoryModelLoad", Inference_RepositoryModelLoadRequest.with { $0.modelName = "demo" }).status, 0)
        XCTAssertEqual(try infer("demo", version: "1").response?.modelVersion, "1", "loaded back")
        XCTAssertEqual(try index(ready: true), ["demo/1/READY", "demo/2/READY", "v1/1/READY", "v2/1/READY"])
    }
}

/// What `ModelRepositoryLayout.scan` makes of a folder, without loading anything.
final class ModelRepositoryLayoutTests: XCTestCase {
    func testModelsVersionsAndProblems() throws {
        let fm = FileManager.default
        let directory = fm.temporaryDirectory.appendingPathComponent("signbert-layout-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: directory) }
        func touch(_ path: String) throws {
            let url = directory.appendingPathComponent(path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data().write(to: url)
        }
        try touch("plain/config.json")
        try touch("plain/model.safetensors")
        try touch("run/checkpoint_best.pth")
        try touch("versions/1/config.json")
        try touch("versions/1/model.safetensors")
        try touch("versions/3/checkpoint_best.pth")
        try touch("versions/notes/readme.txt")      // not a version folder: ignored
        try touch("versions/2/empty.txt")           // a version folder without a model: a problem, 1 and 3 still served
        try touch("bad name/config.json")
        try touch("README.txt")                     // a file, not a model
        try touch(".hidden/config.json")
        let entries = try ModelRepositoryLayout.scan(directory)
        XCTAssertEqual(entries.map(\.name), ["bad name", "plain", "run", "versions"])
        let byName = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0) })
        XCTAssertEqual(byName["plain"]?.versions[1]?.modelDirectory?.lastPathComponent, "plain")
        XCTAssertEqual(byName["run"]?.versions[1]?.checkpoint?.lastPathComponent, "checkpoint_best.pth")
        XCTAssertEqual(byName["versions"]?.versions.keys.sorted(), [1, 3])
        XCTAssertEqual(byName["versions"]?.problems.count, 1)
        XCTAssertTrue(byName["versions"]?.problems.first?.contains("version 2") ?? false, "\(byName["versions"]?.problems ?? [])")
        XCTAssertEqual(byName["bad name"]?.versions.count, 0)
        XCTAssertEqual(byName["bad name"]?.problems.count, 1)
        XCTAssertThrowsError(try ModelRepositoryLayout.scan(directory.appendingPathComponent("README.txt")))
    }
}
