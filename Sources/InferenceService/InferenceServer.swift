import Foundation
public import HTTPServer
public import Logging
public import SignBERTRuntime

/// The model behind the HTTP server: routes, dynamic batching, metrics, access log and lifecycle
/// (starting → ready after one warm-up forward → draining on SIGTERM → stopped).
public final class InferenceServer: Sendable {
    public static let version = "0.1.0"

    public let loaded: LoadedModel
    public let configuration: ServiceConfiguration
    public let metrics: ServiceMetrics
    private let scheduler: BatchScheduler
    private let lifecycle = Lifecycle()
    private let http: HTTPServer
    /// The `--grpc-port` listener: the same responders on a second port.
    private let grpcHTTP: HTTPServer?
    /// The outermost responder, as the listeners call it (tests call it directly too).
    let responder: any HTTPResponder
    private let logger: Logger

    public convenience init(loaded: LoadedModel, configuration: ServiceConfiguration,
                            http httpConfiguration: HTTPServerConfiguration, logger: Logger) {
        self.init(loaded: loaded, configuration: configuration, http: httpConfiguration, logger: logger, extraRoutes: [])
    }

    /// `extraRoutes` go after the service's own table (tests add routes this way).
    init(loaded: LoadedModel, configuration: ServiceConfiguration, http httpConfiguration: HTTPServerConfiguration,
         logger: Logger, extraRoutes: [ServiceRoute]) {
        self.loaded = loaded
        self.configuration = configuration
        self.logger = logger
        let config = loaded.config
        let metrics = ServiceMetrics(
            maxBatchSize: configuration.maxBatchSize, build: [("version", Self.version)],
            model: [("name", configuration.modelName), ("architecture", config.variant.name),
                    ("classes", String(config.numClasses)), ("frames", String(config.numFrames)),
                    ("joints", String(config.numJoints)), ("coords", String(config.numCoords))])
        self.metrics = metrics
        scheduler = BatchScheduler(model: loaded.model, frames: loaded.preparation.frames, configuration: configuration,
                                   metrics: metrics)
        let router = HTTPRouter()
        let table = InferenceRoutes.table(configuration) + extraRoutes
        let routes = InferenceRoutes(loaded: loaded, configuration: configuration, scheduler: scheduler, metrics: metrics,
                                     lifecycle: lifecycle, logger: logger, table: table)
        routes.install(on: router)
        let accessLog = AccessLog(logger: logger, metrics: metrics, router: router)
        // Outermost first: request id, CORS (preflights need no key), API key (before any body is inflated),
        // Content-Encoding, routes.
        var responder: any HTTPResponder = DecompressingResponder(inner: router, maxBodyBytes: httpConfiguration.maxBodyBytes)
        if !configuration.apiKeys.isEmpty {
            responder = APIKeyResponder(inner: responder, keys: configuration.apiKeys.map { Array($0.utf8) },
                                        protectMetrics: configuration.protectMetrics,
                                        rule: RouteAccessRule(table, router: router))
        }
        if !configuration.corsOrigins.isEmpty {
            responder = CORSResponder(inner: responder, origins: Set(configuration.corsOrigins))
        }
        // gRPC calls (HTTP/2, application/grpc) go to the gRPC service, which checks keys and encodings itself.
        let grpc = GRPCService(routes: routes, apiKeys: configuration.apiKeys.map { Array($0.utf8) },
                               maxMessageBytes: httpConfiguration.maxBodyBytes)
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

    /// Listens, then warms the model up on the compute thread; `/ready` turns 200 after that.
    public func start() throws {
        try http.start()
        do { try grpcHTTP?.start() } catch {
            http.shutdown()
            throw error
        }
        scheduler.start { [self] in
            if lifecycle.transition(from: [.starting], to: .ready) { logger.info("ready", metadata: ["port": "\(http.port)"]) }
        }
    }

    /// The OpenAPI document served at `/openapi.json` for this model and configuration.
    public static func openAPIDocument(loaded: LoadedModel, configuration: ServiceConfiguration) -> [UInt8] {
        OpenAPIDocument.served(config: loaded.config, preparation: loaded.preparation, configuration: configuration,
                               routes: InferenceRoutes.table(configuration))
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
        logger.info("draining", metadata: ["queued_clips": "\(scheduler.queuedClipCount)",
                                           "open_connections": "\(http.openConnections)"])
        let started = ContinuousClock.now
        let drained = DispatchGroup()
        for server in [http] + (grpcHTTP.map { [$0] } ?? []) {
            drained.enter()
            server.drain(timeout: configuration.drainTimeout) { drained.leave() }
        }
        drained.notify(queue: .global()) { [self] in
            scheduler.stop()
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
        scheduler.stop()
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

    /// The metric label of a path: the pattern of the route it matched, as the router reports it, never the raw
    /// path (a label per client-chosen path would grow the registry without bound); "other" when none did.
    func routeLabel(_ path: String) -> String {
        router.pattern(forPath: path) ?? "other"
    }

    func record(_ exchange: HTTPExchange) {
        let path = exchange.path ?? "-"
        // A gRPC call: labelled protocol "grpc", its method as the route and its grpc-status as the status.
        let grpc = GRPCAccessLog(exchange)
        metrics.recordResponse(route: grpc?.route ?? routeLabel(path), status: grpc?.status ?? exchange.status,
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
        if let id = exchange.responseHeaders["X-Request-Id"] { metadata["request_id"] = "\(id)" }
        if let size = exchange.responseHeaders["X-Batch-Size"].flatMap(Int.init) {
            metadata["batch_size"] = .stringConvertible(size)
        }
        if !exchange.completed { metadata["completed"] = .stringConvertible(false) }
        logger.info("request", metadata: metadata)
    }
}
