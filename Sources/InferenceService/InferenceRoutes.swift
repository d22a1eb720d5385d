import Foundation
import HTTPServer
import SignBERTRuntime

/// The service's routes. This file holds the operational ones (`/`, `/health`, `/ready`, `/metrics`,
/// `/openapi.json`) and `infer`, the one path from decoded clips to a rendered answer that every prediction
/// route shares; the routes of each protocol live in their own extension file.
final class InferenceRoutes: Sendable {
    let loaded: LoadedModel
    let configuration: ServiceConfiguration
    let scheduler: BatchScheduler
    let metrics: ServiceMetrics
    let lifecycle: Lifecycle
    let description: [UInt8]
    let openAPI: [UInt8]

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
            ("max_clips_per_request", String(configuration.maxClipsPerRequest)),
            // KServe V1 clients (the kserve SDK's is_server_live) read liveness from `GET /`.
            ("status", "\"alive\""),
        ], fileNamesOnly: true)
        openAPI = OpenAPIDocument.served(config: loaded.config, preparation: loaded.preparation, configuration: configuration)
    }

    func install(on router: HTTPRouter) {
        router.add("GET", "/") { [self] _, _, respond in respond(.json(bytes: description)) }
        router.add("GET", "/health") { _, _, respond in respond(.json(bytes: Array("{\"status\":\"alive\"}".utf8))) }
        router.add("GET", "/ready") { [self] _, _, respond in respond(readiness()) }
        router.add("GET", "/metrics") { [self] _, _, respond in
            respond(HTTPResponse(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                                 body: metrics.exposition()))
        }
        router.add("GET", "/openapi.json") { [self] _, _, respond in respond(.json(bytes: openAPI)) }
        installPredict(on: router)
        installOpenInference(on: router)
        installPlatforms(on: router)
    }

    var isReady: Bool { lifecycle.current == .ready }

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

    /// Clips ready for the model: [batch, T, V·C].
    struct Clips: Sendable {
        var values: [Float]
        var batch: Int
    }

    /// Decodes a request into clips and the options its answer needs (400 with the decoder's message on
    /// failure), queues the clips for the batcher and answers with `render(logits, options)` (503 when not
    /// accepting or full, 504 on timeout). Every prediction route goes through here, so they all batch
    /// together and answer alike.
    func infer<Options: Sendable>(_ request: HTTPRequest, _ respond: @escaping @Sendable (HTTPResponse) -> Void,
                                  decode: () throws(RequestError) -> (Clips, Options),
                                  render: @escaping @Sendable (_ logits: [Float], _ options: Options) -> HTTPResponse) {
        switch lifecycle.current {
        case .ready, .draining: break  // draining: connections already accepted still get their answer
        case .starting: respond(Self.unavailable("the model is warming up; retry shortly")); return
        case .stopped: respond(Self.unavailable("the server is shutting down")); return
        }
        // A full queue refuses before the body is decoded: under overload, decoding bodies only to refuse
        // them would take CPU from the batches.
        if scheduler.isFull {
            respond(Self.unavailable("the server is at capacity (\(configuration.maxQueuedClips) clips queued); retry shortly"))
            return
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
        let clips: Clips, options: Options
        do { (clips, options) = try decode() } catch {
            finish(.error(status: 400, message: error.message))
            return
        }
        let job = InferenceJob(
            clips: clips.values, count: clips.batch, enqueuedAt: .now,
            deadline: request.receivedAt + configuration.requestTimeout, cancellation: request.cancellation,
            completion: { outcome in
                switch outcome {
                case .logits(let logits, let batchSize, let batches):
                    if logits.contains(where: { !$0.isFinite }) {
                        finish(.error(status: 400, message:
                            "the clip's values overflow float32 inside the model (non-finite logits); send coordinates of ordinary magnitude"))
                        return
                    }
                    var response = render(logits, options)
                    response.headers.replace(name: "X-Batch-Size", value: String(batchSize))
                    response.headers.replace(name: "X-Batch-Count", value: String(batches))
                    finish(response)
                case .timedOut:
                    finish(.error(status: 504, message: "the request waited longer than the request timeout"))
                case .cancelled:
                    // nginx's 499: seen only by a half-closed client, and in the access log and metrics.
                    finish(.error(status: 499, message: "the client closed the request before it ran; it was not computed"))
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

    /// The media type of a Content-Type value, lowercased, without parameters.
    static func mediaType(_ contentType: String) -> String {
        contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
    }

    /// `application/json` or any `+json` type, parameters allowed.
    static func isJSON(_ contentType: String) -> Bool {
        let type = mediaType(contentType)
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }
}
