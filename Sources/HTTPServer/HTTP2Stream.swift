/// One request and its response on an HTTP/2 connection, from its HEADERS frame until
/// nghttp2 closes it. Owned by `HTTP2Session`, used only on its owner's queue.
final class HTTP2Stream {
    enum State {
        /// Header fields or body still arriving.
        case receiving
        /// The request went to the responder; its answer has not come back.
        case responding
        /// A response was submitted; nghttp2 pulls its body through `nextBodyBytes`.
        case sending
        /// The body goes to a handler as it arrives and the answer out as it is ready (`bodyStream`).
        case streaming
    }

    let id: Int32
    var state = State.receiving
    var method: String?
    var path: String?
    var scheme: String?
    var authority: String?
    var headers = HTTPHeaders()
    /// The request's head, made once from the fields above when the request is first asked for (`request`).
    private var madeHead: HTTPRequestHead?
    /// The header list size as RFC 9113 §6.5.2 counts it (name + value + 32 per field).
    var headerListBytes = 0
    var headerFieldCount = 0
    var headersComplete = false
    /// When the header block ended: the whole body is due within `maxBodyDuration` of it, as on HTTP/1.1.
    var headersCompletedAt: ContinuousClock.Instant?
    var body: [UInt8] = []
    /// The body's bytes taken from the server's `RequestBodyBudget`, given back when the responder has it.
    var reservedBody = 0
    /// The answer instead of the responder's: a limit this request broke, or the responder's refusal
    /// of its head (`HTTPResponder.admit`).
    var refusal: HTTPResponse?
    /// Set when the response is out before the request is (a 413 mid-body): the rest of the
    /// upload is cancelled with RST_STREAM(NO_ERROR) after it (RFC 9113 §8.1).
    var resetAfterResponse = false
    let startedAt: ContinuousClock.Instant
    var lastActivity: ContinuousClock.Instant
    /// Cancelled when the stream closes, or the connection ends, before its response is submitted.
    let cancellation: RequestCancellation

    var response: HTTPResponse?
    /// Set when the request is body-streamed (`HTTPResponder.bodyStreamHandler`); `state` is then `.streaming`.
    var bodyStream: HTTP2BodyStream?
    var responseBody: [UInt8] = []
    var responseOffset = 0

    init(id: Int32, now: ContinuousClock.Instant, cancellation: RequestCancellation = RequestCancellation()) {
        self.id = id
        self.startedAt = now
        self.lastActivity = now
        self.cancellation = cancellation
    }

    /// Copies up to `buffer.count` bytes of the response body into `buffer`; returns the
    /// count and whether that was the end.
    func nextBodyBytes(into buffer: UnsafeMutableRawBufferPointer) -> (count: Int, end: Bool) {
        let count = min(buffer.count, responseBody.count - responseOffset)
        if count > 0 {
            responseBody.withUnsafeBytes { all in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[responseOffset..<(responseOffset + count)]))
            }
        }
        responseOffset += count
        return (count, responseOffset == responseBody.count)
    }

    /// The request as every responder sees it, whatever protocol carried it.
    func request(remoteAddress: String) -> HTTPRequest {
        HTTPRequest(head: head, body: body, remoteAddress: remoteAddress, receivedAt: startedAt, cancellation: cancellation)
    }

    /// The head the request and the access log share, its `:path` parsed once. `:authority` becomes `Host`
    /// (RFC 9113 §8.3.1) when the client sent no Host field.
    var head: HTTPRequestHead {
        get {
            if let madeHead { return madeHead }
            var headers = self.headers
            if let authority, !headers.contains("Host") { headers.add(name: "Host", value: authority) }
            let made = HTTPRequestHead(method: method ?? "GET", target: RequestTarget(path ?? "/"), version: .http2,
                                       headers: headers)
            madeHead = made
            return made
        }
        set { madeHead = newValue }
    }
}
