import HTTPServer
import Logging

/// `GET /stream` and `GET /v2/models/{name}/stream`: live sign recognition over a WebSocket (docs/STREAMING.md).
/// Everything that can be refused is refused before the upgrade, as HTTP: not a WebSocket handshake (426/400),
/// an unknown model (404), a foreign Origin (403), a model still warming up or a draining server (503); the API
/// key is `APIKeyResponder`'s (401).
extension InferenceRoutes {
    static let streamProtocol = "signbert.stream.v1"

    /// `GET /v2/models/{name}/stream`: a live stream of the named model (docs/STREAMING.md).
    func modelStream(_ request: HTTPRequest, _ parameters: RouteParameters, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        guard parameters["name"] == configuration.modelName else {
            return respond(.error(status: 404, message: "unknown model \"\(parameters["name"] ?? "")\"; this server serves \"\(configuration.modelName)\""))
        }
        respond(openStream(request))
    }

    func openStream(_ request: HTTPRequest) -> HTTPResponse {
        if let refusal = WebSocketHandshake.refusal(request) { return refusal }
        if let origin = request.headers["Origin"], !originAllowed(origin, host: request.headers["Host"]) {
            return .error(status: 403, message: "the origin \(origin) may not open a stream: it is not this server's own "
                          + "and not in the CORS list (--cors-origin)")
        }
        switch lifecycle.current {
        case .ready: break
        case .starting: return Self.unavailable("the model is warming up; retry shortly")
        case .draining, .stopped: return Self.unavailable("the server is shutting down")
        }
        let offered = WebSocketHandshake.offeredProtocols(request)
        let context = LiveStream.Context(loaded: loaded, configuration: configuration, core: core, metrics: metrics,
                                         registry: streams, logger: logger, remoteAddress: request.remoteAddress,
                                         path: request.path, requestID: request.headers["X-Request-Id"])
        // The key protocol (`signbert.key.KEY`) is never echoed.
        return .webSocket(WebSocketUpgrade(subprotocol: offered.contains(Self.streamProtocol) ? Self.streamProtocol : nil,
                                           handler: LiveStream(context: context)))
    }

    /// The server's own origin (`http://` + Host, as a page it served would send), or one of the CORS list.
    func originAllowed(_ origin: String, host: String?) -> Bool {
        if let host, origin == "http://\(host)" || origin == "https://\(host)" { return true }
        return configuration.corsOrigins.contains("*") || configuration.corsOrigins.contains(origin)
    }
}
