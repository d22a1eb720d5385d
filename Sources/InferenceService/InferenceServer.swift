import Foundation
public import HTTPServer
public import Logging
public import SignBERTRuntime

/// The model behind the HTTP server: routes, dynamic batching, metrics, access log and lifecycle
/// (starting → ready after one warm-up forward → draining on SIGTERM → stopped).
public final class InferenceServer: Sendable {
    public static let version = "0.1.0"

    /// The default model as it was loaded at start.
    public let loaded: LoadedModel
    public let configuration: ServiceConfiguration
    public let metrics: ServiceMetrics
    private let context: ServerContext
    private let lifecycle = Lifecycle()
    private let http: HTTPServer
    /// The `--grpc-port` listener: the same responders on a second port.
    private let grpcHTTP: HTTPServer?
    /// The outermost responder, as the listeners call it (tests call it directly too).
    let responder: any HTTPResponder
    private let logger: Logger

    /// One model, served under `configuration.modelName` as version 1 (`serve --model` / `--checkpoint`).
    public convenience init(loaded: LoadedModel, configuration: ServiceConfiguration,
                            http httpConfiguration: HTTPServerConfiguration, logger: Logger) {
        self.init(loaded: loaded, configuration: configuration, http: httpConfiguration, logger: logger, extraRoutes: [])
    }

    /// `extraRoutes` go after the service's own table (tests add routes this way).
    convenience init(loaded: LoadedModel, configuration: ServiceConfiguration, http httpConfiguration: HTTPServerConfiguration,
                     logger: Logger, extraRoutes: [ServiceRoute]) {
        self.init(models: [InitialModel(name: configuration.modelName, loaded: loaded, configuration: configuration)],
                  repository: nil, configuration: configuration, http: httpConfiguration, logger: logger, extraRoutes: extraRoutes)
    }

    /// Several models (`serve --model-repository`): `models` are served from the start (at least one; the first is
    /// the default model unless `defaultModel` names another), each with its own settings; `repository` is where
    /// the load call, SIGHUP and the poll find models and versions at run time. `configuration` holds the server's
    /// own settings (keys, CORS, timeouts, routes).
    public convenience init(models: [InitialModel], repository: ModelRepositorySource?, defaultModel: String? = nil,
                            configuration: ServiceConfiguration, http httpConfiguration: HTTPServerConfiguration, logger: Logger) {
        self.init(models: models, repository: repository, defaultModel: defaultModel, configuration: configuration,
                  http: httpConfiguration, logger: logger, extraRoutes: [])
    }

    init(models: [InitialModel], repository source: ModelRepositorySource?, defaultModel: String? = nil,
         configuration: ServiceConfiguration, http httpConfiguration: HTTPServerConfiguration, logger: Logger,
         extraRoutes: [ServiceRoute]) {
        precondition(!models.isEmpty, "a server needs at least one model")
        let first = models.first { $0.name == defaultModel } ?? models[0]
        loaded = first.loaded
        self.configuration = configuration
        self.logger = logger
        let config = first.loaded.config
        let metrics = ServiceMetrics(
            maxBatchSize: models.map(\.configuration.maxBatchSize).max() ?? configuration.maxBatchSize,
            build: [("version", Self.version)],
            model: [("name", first.name), ("architecture", config.variant.name),
                    ("classes", String(config.numClasses)), ("frames", String(config.numFrames)),
                    ("joints", String(config.numJoints)), ("coords", String(config.numCoords))])
        self.metrics = metrics
        let router = HTTPRouter()
        let table = InferenceRoutes.table(configuration, repository: source != nil) + extraRoutes
        let repository = ModelRepository(source: source, defaultName: defaultModel ?? models[0].name,
                                         drainTimeout: configuration.drainTimeout, logger: logger)
        let context = ServerContext(configuration: configuration, lifecycle: lifecycle, metrics: metrics, pool: ComputePool(),
                                    table: table, logger: logger, repository: repository)
        self.context = context
        let streams = StreamRegistry()
        let demoPage = configuration.demoPage ? DemoPage.locate() : nil
        repository.setFactory { [context] name, version, loaded, modelConfiguration in
            // The server's own settings, with the model's batching and queue limits.
            var settings = context.configuration
            settings.modelName = name
            settings.maxBatchSize = modelConfiguration.maxBatchSize
            settings.maxClipsPerRequest = modelConfiguration.maxClipsPerRequest
            settings.maxQueuedClips = modelConfiguration.maxQueuedClips
            settings.maxQueueDelay = modelConfiguration.maxQueueDelay
            settings.fixedQueueDelay = modelConfiguration.fixedQueueDelay
            let modelMetrics = context.metrics.model(name: name, version: version)
            let scheduler = BatchScheduler(model: loaded.model, frames: loaded.preparation.frames, configuration: settings,
                                           metrics: context.metrics, modelMetrics: modelMetrics, pool: context.pool)
            let routes = InferenceRoutes(loaded: loaded, configuration: settings, version: version, scheduler: scheduler,
                                         context: context, streams: streams, demoPage: demoPage)
            return ServedModel(name: name, version: version, routes: routes, metrics: modelMetrics)
        }
        for model in models {
            guard let served = repository.make(model.name, model.version, model.loaded, model.configuration) else { continue }
            repository.register(served)
        }
        context.install(on: router)
        let accessLog = AccessLog(logger: logger, metrics: metrics, router: router, context: context)
        // Outermost first: request id, CORS (preflights need no key), API key (before any body is inflated),
        // Content-Encoding, routes.
        var responder: any HTTPResponder = DecompressingResponder(inner: router, maxBodyBytes: httpConfiguration.maxBodyBytes)
        if !configuration.apiKeys.isEmpty {
            responder = APIKeyResponder(inner: responder, keys: configuration.apiKeys.map { Array($0.utf8) },
                                        protectMetrics: configuration.protectMetrics,
                                        rule: RouteAccessRule(table, router: router))
        } else if configuration.modelControl == .loopback {
            responder = ModelControlResponder(inner: responder, rule: RouteAccessRule(table, router: router))
        }
        if !configuration.corsOrigins.isEmpty {
            responder = CORSResponder(inner: responder, origins: Set(configuration.corsOrigins))
        }
        // gRPC calls (HTTP/2, application/grpc) go to the gRPC service, which checks keys and encodings itself.
        let grpc = GRPCService(context: context, apiKeys: configuration.apiKeys.map { Array($0.utf8) },
                               modelControl: configuration.modelControl, maxMessageBytes: httpConfiguration.maxBodyBytes)
        let outermost = RequestIDResponder(inner: GRPCResponder(service: grpc, rest: responder))
        self.responder = outermost
        http = HTTPServer(configuration: httpConfiguration, responder: outermost, logger: logger,
                          onExchange: { accessLog.record($0) })
        grpcHTTP = configuration.grpcPort.map { port in
            var grpcConfiguration = httpConfiguration
            grpcConfiguration.port = port
            return HTTPServer(configuration: grpcConfiguration, responder: outermost, logger: logger,
                              onExchange: { accessLog.record($0) })
        }
    }

    /// Listens, then warms every model up (one forward each, through the compute pool); `/ready` turns 200 once
    /// all of them are warm.
    public func start() throws {
        try http.start()
        do { try grpcHTTP?.start() } catch {
            http.shutdown()
            throw error
        }
        let warm = DispatchGroup()
        for served in context.repository.served {
            warm.enter()
            served.scheduler.start { warm.leave() }
        }
        warm.notify(queue: .global()) { [self] in
            if lifecycle.transition(from: [.starting], to: .ready) { logger.info("ready", metadata: ["port": "\(http.port)"]) }
        }
    }

    /// The served models, for `serve`'s start-up lines: name, version and memory.
    public var servedModels: [(name: String, version: Int, memoryBytes: Int)] {
        context.repository.served.map { ($0.name, $0.version, $0.memoryBytes) }
    }

    /// A model or version of the repository that failed to load at start: listed UNAVAILABLE, with `reason`, by
    /// the repository index.
    public func noteRefused(name: String, version: Int?, reason: String) {
        context.repository.noteUnavailable(UnavailableModel(name: name, version: version, reason: reason))
    }

    /// Loads what changed in the model repository (SIGHUP, `--repository-poll`): new models and versions are
    /// loaded and warmed beside the served ones, then swapped in; removed ones are drained and unloaded.
    public func pollRepository() {
        guard lifecycle.current == .ready else { return }
        context.repository.poll()
    }

    /// `pollRepository` after the load and unload calls already waiting, on the repository's one queue of changes;
    /// returns at once. A poll already waiting there covers this one.
    public func schedulePollRepository() {
        guard lifecycle.current == .ready else { return }
        context.repository.schedulePoll()
    }

    /// The OpenAPI document served at `/openapi.json` for this model and configuration.
    public static func openAPIDocument(loaded: LoadedModel, configuration: ServiceConfiguration,
                                       models: [String]? = nil, versions: [String] = ["1"]) -> [UInt8] {
        OpenAPIDocument.served(config: loaded.config, preparation: loaded.preparation, configuration: configuration,
                               routes: InferenceRoutes.table(configuration, repository: models != nil), models: models,
                               versions: versions)
    }

    public var port: Int { http.port }
    /// The bound `--grpc-port` (the kernel's choice for 0), nil without one.
    public var grpcPort: Int? { grpcHTTP?.port }
    public var state: ServiceState { lifecycle.current }

    /// Polls until ready (tests, `serve`'s start-up line); false on timeout.
    public func waitUntilReady(timeout: Duration = .seconds(30)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if state == .ready { return true }
            Thread.sleep(forTimeInterval: 0.002)
        }
        return state == .ready
    }

    /// Graceful drain: `/ready` turns 503, the listener closes, idle keep-alive connections close, queued
    /// and in-flight requests are answered, then the compute thread ends. `completion` gets whether
    /// everything finished inside the drain timeout.
    public func drain(completion: @escaping @Sendable (Bool) -> Void) {
        guard lifecycle.transition(from: [.starting, .ready], to: .draining) else { return }
        let queued = context.repository.served.reduce(0) { $0 + $1.scheduler.queuedClipCount }
        logger.info("draining", metadata: ["queued_clips": "\(queued)",
                                           "open_connections": "\(http.openConnections)"])
        let started = ContinuousClock.now
        let drained = DispatchGroup()
        for server in [http] + (grpcHTTP.map { [$0] } ?? []) {
            drained.enter()
            server.drain(timeout: configuration.drainTimeout) { drained.leave() }
        }
        drained.notify(queue: .global()) { [self] in
            for served in context.repository.removeAll() { served.scheduler.stop() }
            _ = lifecycle.transition(from: [.draining], to: .stopped)
            let clean = http.openConnections == 0 && (grpcHTTP?.openConnections ?? 0) == 0
            logger.info("drained", metadata: ["seconds": "\(started.duration(to: .now).seconds)",
                                              "clean": "\(clean)"])
            completion(clean)
        }
    }

    /// Closes everything at once (tests).
    public func shutdown() {
        _ = lifecycle.transition(from: [.starting, .ready, .draining], to: .stopped)
        http.shutdown()
        grpcHTTP?.shutdown()
        for served in context.repository.removeAll() { served.scheduler.stop() }
    }
}

/// Echoes a client's `X-Request-Id` (when it is a sane token) or makes one, on every routed response.
struct RequestIDResponder: HTTPResponder {
    let inner: any HTTPResponder

    func respond(to request: HTTPRequest, completion: @escaping @Sendable (HTTPResponse) -> Void) {
        let id = request.headers["X-Request-Id"].flatMap(Self.sanitized) ?? Self.generate()
        inner.respond(to: request) { response in
            var response = response
            response.headers.replace(name: "X-Request-Id", value: id)
            completion(response)
        }
    }

    /// A refusal from the head carries the request id too.
    func admit(_ head: HTTPRequest) -> HTTPResponse? {
        guard var refusal = inner.admit(head) else { return nil }
        refusal.headers.replace(name: "X-Request-Id", value: head.headers["X-Request-Id"].flatMap(Self.sanitized) ?? Self.generate())
        return refusal
    }

    /// A body-streamed call sees its request id in the head's `X-Request-Id`, to echo in its own answer head.
    func bodyStreamHandler(for head: HTTPRequest, writer: HTTPStreamWriter) -> (any HTTPBodyStreamHandler)? {
        var head = head
        head.headers.replace(name: "X-Request-Id", value: head.headers["X-Request-Id"].flatMap(Self.sanitized) ?? Self.generate())
        return inner.bodyStreamHandler(for: head, writer: writer)
    }

    func limitRefusal(_ refusal: HTTPResponse, head: HTTPRequest) -> HTTPResponse {
        var response = inner.limitRefusal(refusal, head: head)
        response.headers.replace(name: "X-Request-Id", value: head.headers["X-Request-Id"].flatMap(Self.sanitized) ?? Self.generate())
        return response
    }

    /// Printable ASCII without spaces, at most 128 characters; anything else is replaced, not echoed.
    static func sanitized(_ value: String) -> String? {
        guard !value.isEmpty, value.utf8.count <= 128,
              value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        return value
    }

    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next(), radix: 16) + String(generator.next() & 0xFFFF_FFFF, radix: 16)
    }
}

/// One JSON access-log line and the request metrics per response the server writes.
struct AccessLog: Sendable {
    let logger: Logger
    let metrics: ServiceMetrics
    /// Reports the pattern a path matched, for the metric label.
    let router: HTTPRouter
    /// Names the model a path uses, for the log line.
    let context: ServerContext

    /// The metric label of a request: the pattern of the route its target matched, as the router matched it (the
    /// same parsed target), never the raw path (a label per client-chosen path would grow the registry without
    /// bound); "other" when none did.
    func routeLabel(_ exchange: HTTPExchange) -> String { routePattern(exchange) ?? "other" }

    private func routePattern(_ exchange: HTTPExchange) -> String? {
        if let head = exchange.request { router.pattern(for: head.requestTarget) } else { exchange.path.flatMap(router.pattern(forPath:)) }
    }

    func record(_ exchange: HTTPExchange) {
        let path = exchange.path ?? "-"
        // A gRPC call: labelled protocol "grpc", its method as the route and its grpc-status as the status.
        let grpc = GRPCAccessLog(exchange)
        // The route is matched once, for both the metric label and the model the log line names.
        let pattern = grpc == nil ? routePattern(exchange) : nil
        metrics.recordResponse(route: grpc?.route ?? pattern ?? "other", status: grpc?.status ?? exchange.status,
                               protocol: grpc == nil ? exchange.protocolVersion.description : "grpc", duration: exchange.duration)
        var metadata: Logger.Metadata = [
            "method": "\(exchange.method ?? "-")",
            "path": "\(path)",
            "status": .stringConvertible(exchange.status),
            "bytes": .stringConvertible(exchange.bytesWritten),
            "duration_ms": .stringConvertible((exchange.duration.seconds * 1e6).rounded() / 1e3),
            "remote": "\(exchange.remoteAddress)",
            "protocol": "\(grpc == nil ? exchange.protocolVersion.description : "grpc")",
        ]
        if let grpc { metadata["grpc_status"] = .stringConvertible(grpc.status) }
        if let pattern, let model = context.modelLabel(pattern: pattern, path: path) { metadata["model"] = "\(model)" }
        if let id = exchange.responseHeaders["X-Request-Id"] { metadata["request_id"] = "\(id)" }
        if let size = exchange.responseHeaders["X-Batch-Size"].flatMap(Int.init) {
            metadata["batch_size"] = .stringConvertible(size)
        }
        if !exchange.completed { metadata["completed"] = .stringConvertible(false) }
        logger.info("request", metadata: metadata)
    }
}
