import Foundation
import HTTPServer
import SignBERTRuntime

/// The service's routes: `/predict`, `/`, `/health`, `/ready`, `/metrics`.
final class InferenceRoutes: Sendable {
    let loaded: LoadedModel
    let configuration: ServiceConfiguration
    let scheduler: BatchScheduler
    let metrics: ServiceMetrics
    let lifecycle: Lifecycle
    let description: [UInt8]

    init(loaded: LoadedModel, configuration: ServiceConfiguration, scheduler: BatchScheduler, metrics: ServiceMetrics,
         lifecycle: Lifecycle) {
        self.loaded = loaded
        self.configuration = configuration
        self.scheduler = scheduler
        self.metrics = metrics
        self.lifecycle = lifecycle
        var name = JSONWriter()
        name.string(configuration.modelName)
        description = ModelDescription(loaded).json(extra: [
            ("name", String(decoding: name.bytes, as: UTF8.self)),
            ("server", "\"signbert \(InferenceServer.version)\""),
            ("max_batch_size", String(configuration.maxBatchSize)),
        ])
    }

    func install(on router: HTTPRouter) {
        router.add("GET", "/") { [self] _, _, respond in respond(.json(bytes: description)) }
        router.add("GET", "/health") { _, _, respond in respond(.json(bytes: Array("{\"status\":\"alive\"}".utf8))) }
        router.add("GET", "/ready") { [self] _, _, respond in respond(readiness()) }
        router.add("GET", "/metrics") { [self] _, _, respond in
            respond(HTTPResponse(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                                 body: metrics.exposition()))
        }
        router.add("POST", "/predict") { [self] request, _, respond in predict(request, respond) }
    }

    private func readiness() -> HTTPResponse {
        let current = lifecycle.current
        if current == .ready { return .json(bytes: Array("{\"status\":\"ready\"}".utf8)) }
        var response = HTTPResponse.json(status: 503, bytes: Array("{\"status\":\"\(current.rawValue)\"}".utf8))
        response.headers.replace(name: "Retry-After", value: "1")
        return response
    }

    static func unavailable(_ message: String) -> HTTPResponse {
        var response = HTTPResponse.error(status: 503, message: message)
        response.headers.replace(name: "Retry-After", value: "1")
        return response
    }

    private func predict(_ request: HTTPRequest, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        if let type = request.headers["Content-Type"], !Self.isJSON(type) {
            respond(.error(status: 415, message: "Content-Type must be application/json, got \(type)"))
            return
        }
        switch lifecycle.current {
        case .ready, .draining: break  // draining: connections already accepted still get their answer
        case .starting: respond(Self.unavailable("the model is warming up; retry shortly")); return
        case .stopped: respond(Self.unavailable("the server is shutting down")); return
        }
        // From here the request counts as in flight (metrics) and as company for the batcher, until
        // `finish` answers it, exactly once on every path.
        metrics.inFlight.increment()
        scheduler.requestStarted()
        let finish: @Sendable (HTTPResponse) -> Void = { [metrics, scheduler] response in
            metrics.inFlight.decrement()
            scheduler.requestFinished()
            respond(response)
        }
        let decoded: PredictionRequest
        do {
            decoded = try PredictionRequestDecoder.decode(request.body, config: loaded.config,
                                                          maxBatchSize: configuration.maxBatchSize)
        } catch {
            finish(.error(status: 400, message: error.message))
            return
        }
        let labels = loaded.labels, numClasses = loaded.config.numClasses
        let job = InferenceJob(
            clips: decoded.clips, count: decoded.batch, enqueuedAt: .now,
            deadline: request.receivedAt + configuration.requestTimeout,
            completion: { outcome in
                switch outcome {
                case .logits(let logits, let batchSize):
                    if logits.contains(where: { !$0.isFinite }) {
                        finish(.error(status: 400, message:
                            "the clip's values overflow float32 inside the model (non-finite logits); send coordinates of ordinary magnitude"))
                        return
                    }
                    let predictions = Prediction.batch(logits: logits, numClasses: numClasses, labels: labels,
                                                       topK: decoded.topK, includeLogits: decoded.returnLogits)
                    var response = HTTPResponse.json(bytes: PredictionEncoder.encode(predictions))
                    response.headers.replace(name: "X-Batch-Size", value: String(batchSize))
                    finish(response)
                case .timedOut:
                    finish(.error(status: 504, message: "the request waited longer than the request timeout"))
                }
            })
        switch scheduler.submit(job) {
        case .accepted:
            break
        case .queueFull:
            finish(Self.unavailable("the server is at capacity (\(configuration.maxQueuedClips) clips queued); retry shortly"))
        case .stopped:
            finish(Self.unavailable("the server is shutting down"))
        }
    }

    /// `application/json` or any `+json` type, parameters allowed.
    static func isJSON(_ contentType: String) -> Bool {
        let type = contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }
}
