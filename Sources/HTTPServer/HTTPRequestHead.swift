/// A request line and its header fields, decoded and checked, before any body byte.
public struct HTTPRequestHead: Sendable {
    /// How the body is delimited (RFC 9112 §6.3).
    public enum BodyFraming: Sendable, Equatable {
        case none
        case length(Int)
        case chunked
    }

    public var method: String
    public var target: String
    public var path: String
    public var query: [(name: String, value: String)]
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var framing: BodyFraming
    /// Whether the connection may carry another request after this one: HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive` (RFC 9112 §9.3).
    public var keepAlive: Bool
    /// `Expect: 100-continue` on an HTTP/1.1 request with a body (RFC 9110 §10.1.1).
    public var expectsContinue: Bool

    public var hasBody: Bool {
        switch framing {
        case .none, .length(0): false
        default: true
        }
    }
}
