/// A request line and its header fields, decoded and checked, before any body byte: the one value the server
/// keeps of them. `HTTPRequest` wraps it with the body, the connection's bookkeeping and `HTTPExchange` (the
/// access log's) hold it, and HTTP/2 streams make one too.
public struct HTTPRequestHead: Sendable {
    /// How the body is delimited (RFC 9112 §6.3).
    public enum BodyFraming: Sendable, Equatable {
        case none
        case length(Int)
        case chunked
    }

    public var method: String
    /// The request-target, parsed once, when the head was made.
    public var requestTarget: RequestTarget
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var framing: BodyFraming
    /// Whether the connection may carry another request after this one: HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive` (RFC 9112 §9.3).
    public var keepAlive: Bool
    /// `Expect: 100-continue` on an HTTP/1.1 request with a body (RFC 9110 §10.1.1).
    public var expectsContinue: Bool

    /// A head that did not come from the HTTP/1.1 decoder (an HTTP/2 stream's, a test's): no body framing to
    /// decide (the body comes whole), and nothing said about the connection.
    public init(method: String, target: RequestTarget, version: HTTPVersion, headers: HTTPHeaders,
                framing: BodyFraming = .none, keepAlive: Bool = true, expectsContinue: Bool = false) {
        self.method = method
        self.requestTarget = target
        self.version = version
        self.headers = headers
        self.framing = framing
        self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
    }

    /// The raw request-target of the request line, e.g. "/v2/models/x/infer?verbose=1".
    public var target: String { requestTarget.raw }
    /// The percent-decoded path without the query.
    public var path: String { requestTarget.path }
    /// The query's name/value pairs in order, percent-decoded.
    public var query: [(name: String, value: String)] { requestTarget.query }

    public var hasBody: Bool {
        switch framing {
        case .none, .length(0): false
        default: true
        }
    }
}
