import Foundation
import HTTPServer
import JSONText
import Logging
import SignBERTRuntime

/// The service's routes. The table of every route is `InferenceRoutes+Table.swift`; this file holds the
/// handlers of the operational ones (`/ready`, `/metrics`) and `infer`, the HTTP adapter of the inference core
/// that every prediction route shares; the handlers of each protocol live in their own extension file.
final class InferenceRoutes: Sendable {
    /// One version of one model: these routes answer for it (the server's router resolves the model a request
    /// names, `ModelRepository.acquire`, and calls the route's handler on that model's routes).
    let loaded: LoadedModel
    /// This model's settings: its name, batching and queue limits, with the server's own settings.
    let configuration: ServiceConfiguration
    let version: Int
    let scheduler: BatchScheduler
    let metrics: ServiceMetrics
    let lifecycle: Lifecycle
    let core: InferenceCore
    let description: [UInt8]
    /// What every model's routes share (the repository, the table, the compute pool).
    let context: ServerContext
    /// For the live streams' own log lines.
    let logger: Logger
    /// The open live streams, against `--max-streams`.
    let streams: StreamRegistry
    /// The demo page's files, read once at start-up when the page is on (nil when it is off).
    let demoPage: Result<DemoPage, DemoPageMissing>?

    init(loaded: LoadedModel, configuration: ServiceConfiguration, version: Int, scheduler: BatchScheduler,
         context: ServerContext, streams: StreamRegistry, demoPage: Result<DemoPage, DemoPageMissing>?) {
        self.loaded = loaded
        self.logger = context.logger
        self.demoPage = demoPage
        self.configuration = configuration
        self.version = version
        self.scheduler = scheduler
        self.metrics = context.metrics
        self.lifecycle = context.lifecycle
        self.context = context
        self.streams = streams
        core = InferenceCore(scheduler: scheduler, configuration: configuration, metrics: context.metrics, lifecycle: context.lifecycle)
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
    }

    var table: [ServiceRoute] { context.table }
    /// The version's name in the V2 protocol.
    var modelVersion: String { String(version) }

    var isReady: Bool { lifecycle.current == .ready }

    func metricsExposition(_ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        respond(HTTPResponse(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                             body: metrics.exposition()))
    }

    func readiness() -> HTTPResponse {
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
    typealias Clips = ClipBatch

    /// Runs a request through the inference core: `decode` turns it into clips and the options its answer
    /// needs, `render(logits, options)` makes the answer, with `X-Batch-Size` and `X-Batch-Count`; a failure
    /// is answered by `InferenceFailure.httpResponse` (400, 499, 503, 504). Every prediction route goes
    /// through here, so they all batch together and answer alike.
    func infer<Options: Sendable>(_ request: HTTPRequest, _ respond: @escaping @Sendable (HTTPResponse) -> Void,
                                  decode: () throws(RequestError) -> (Clips, Options),
                                  render: @escaping @Sendable (_ logits: [Float], _ options: Options) -> HTTPResponse) {
        let cancellation = request.cancellation
        core.infer(deadline: request.receivedAt + configuration.requestTimeout,
                   cancellation: InferenceCancellation { cancellation.isCancelled }, decode: decode) { result in
            switch result {
            case .success(let (inference, options)):
                var response = render(inference.logits, options)
                response.headers.replace(name: "X-Batch-Size", value: String(inference.batchSize))
                response.headers.replace(name: "X-Batch-Count", value: String(inference.batches))
                respond(response)
            case .failure(let failure):
                respond(failure.httpResponse)
            }
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
