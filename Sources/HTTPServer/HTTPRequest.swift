/// The protocol versions the server speaks (RFC 9112 §2.3).
public enum HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    case http1_0
    case http1_1
    /// A stream of an HTTP/2 connection (h2c: prior knowledge or `Upgrade: h2c`).
    case http2

    public var description: String {
        switch self {
        case .http1_0: "HTTP/1.0"
        case .http1_1: "HTTP/1.1"
        case .http2: "HTTP/2"
        }
    }
}

/// A complete request as handed to an `HTTPResponder`, whatever protocol carried it (an HTTP/1.1 exchange, an
/// h2c upgrade, an HTTP/2 stream, a WebSocket handshake): the head as the decoder parsed it, the whole body and
/// where it came from. The head's fields read through (`method`, `path`, `query`, `headers`, ...), so a handler
/// never sees a second copy of them.
public struct HTTPRequest: Sendable {
    /// Method, target (parsed once: path and query), version and header fields.
    public var head: HTTPRequestHead
    /// The body after de-chunking; empty when there was none.
    public var body: [UInt8]
    /// The peer, "1.2.3.4:5678" or "[::1]:5678".
    public var remoteAddress: String
    /// When the first byte of this request arrived (or, for a pipelined request, when the
    /// server began to parse it).
    public var receivedAt: ContinuousClock.Instant
    /// Tells the responder when the client has gone (see `RequestCancellation`).
    public var cancellation: RequestCancellation

    /// The method, case-sensitive as sent (RFC 9110 §9.1), e.g. "GET".
    public var method: String {
        get { head.method }
        set { head.method = newValue }
    }
    /// The raw request-target of the request line, e.g. "/v2/models/x/infer?verbose=1".
    public var target: String { head.target }
    /// The percent-decoded path without the query, e.g. "/v2/models/x/infer".
    public var path: String { head.path }
    /// The query's name/value pairs in order, percent-decoded ('+' as space).
    public var query: [(name: String, value: String)] { head.query }
    public var version: HTTPVersion {
        get { head.version }
        set { head.version = newValue }
    }
    public var headers: HTTPHeaders {
        get { head.headers }
        set { head.headers = newValue }
    }

    /// A request from its parts (a test's, or a caller's that has no decoder): `target` is parsed here, once,
    /// as the decoder parses a request line's (a target the decoder would refuse is taken as its own path).
    public init(
        method: String,
        target: String,
        version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = [:],
        body: [UInt8] = [],
        remoteAddress: String = "",
        receivedAt: ContinuousClock.Instant = .now,
        cancellation: RequestCancellation = RequestCancellation()
    ) {
        self.init(head: HTTPRequestHead(method: method, target: RequestTarget(target), version: version, headers: headers),
                  body: body, remoteAddress: remoteAddress, receivedAt: receivedAt, cancellation: cancellation)
    }

    public init(head: HTTPRequestHead, body: [UInt8], remoteAddress: String, receivedAt: ContinuousClock.Instant,
                cancellation: RequestCancellation = RequestCancellation()) {
        self.head = head
        self.body = body
        self.remoteAddress = remoteAddress
        self.receivedAt = receivedAt
        self.cancellation = cancellation
    }

    /// The first query value named `name`.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }
}
