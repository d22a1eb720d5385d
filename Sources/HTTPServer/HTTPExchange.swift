/// One response written (or attempted), for access logs and metrics: every response, including
/// the server's own 400/408/413/431/503. Request fields are nil when the server answered before
/// they were parsed.
public struct HTTPExchange: Sendable {
    /// The request's head as the server parsed it (the same value its responder saw); nil when the server
    /// answered before the header section was complete and valid.
    public var request: HTTPRequestHead?
    /// What the request line said, when that is all there is (no `request`).
    var requestLine: HTTPRequestDecoder.RequestLine?

    public var method: String? { request?.method ?? requestLine?.method }
    /// The percent-decoded path (the raw target when only the request line was read).
    public var path: String? { request?.path ?? requestLine?.target }
    public var version: HTTPVersion? { request?.version ?? requestLine?.version }
    /// The request's header fields (e.g. for X-Request-Id); nil if the header section was not complete.
    public var requestHeaders: HTTPHeaders? { request?.headers }
    public var status: Int
    /// Body bytes handed to the kernel (0 for HEAD).
    public var bytesWritten: Int
    /// From the request's first byte (or the connection's accept, for a 503) to the last
    /// byte of the response handed to the kernel.
    public var duration: Duration
    public var remoteAddress: String
    /// The response's own header fields (as the responder set them; the server's Date,
    /// Content-Length and Connection are not among them), e.g. for a request id in the access log.
    public var responseHeaders: HTTPHeaders
    /// False when the client went away before the whole response was written.
    public var completed: Bool
    /// The protocol the connection spoke, known even when the request was not: the request's
    /// HTTP/1.x version (HTTP/1.1 if unparsed) or `.http2` for a stream, for a metrics label.
    public var protocolVersion: HTTPVersion
}
