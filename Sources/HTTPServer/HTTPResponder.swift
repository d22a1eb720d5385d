/// What the server calls with each complete request. `completion` must be called exactly once,
/// from any thread and at any later time; later calls are ignored. If the client has gone by
/// then, the response is dropped.
public protocol HTTPResponder: Sendable {
    func respond(to request: HTTPRequest, completion: @escaping @Sendable (HTTPResponse) -> Void)

    /// Called with a request whose body has not been read (`head.body` is empty), as soon as its head is
    /// complete: a response refuses it there, before any of its body is read or asked for (100 Continue)
    /// and before it takes any of the body budget. Must be quick and must not block: it runs on the
    /// connection's queue. The default admits everything.
    func admit(_ head: HTTPRequest) -> HTTPResponse?

    /// For an HTTP/2 request whose head is complete and whose body is to follow (and that `admit` did not refuse):
    /// a handler that takes the body piece by piece as it arrives and answers through `writer` before it ends,
    /// instead of `respond` with the whole body (a bidirectional stream, e.g. gRPC's ModelStreamInfer). nil, the
    /// default, for the usual whole-body request. Runs on the connection's queue: quick, no blocking.
    func bodyStreamHandler(for head: HTTPRequest, writer: HTTPStreamWriter) -> (any HTTPBodyStreamHandler)?

    /// The server's own refusal of an HTTP/2 request for a limit it broke (413 body too large, 408 body too slow,
    /// 503 body budget), given the request's head: a responder whose protocol has other status rules (gRPC answers
    /// HTTP 200 with a status trailer) returns its own form of it. The default keeps `refusal`.
    func limitRefusal(_ refusal: HTTPResponse, head: HTTPRequest) -> HTTPResponse
}

extension HTTPResponder {
    public func admit(_ head: HTTPRequest) -> HTTPResponse? { nil }
    public func bodyStreamHandler(for head: HTTPRequest, writer: HTTPStreamWriter) -> (any HTTPBodyStreamHandler)? { nil }
    public func limitRefusal(_ refusal: HTTPResponse, head: HTTPRequest) -> HTTPResponse { refusal }
}
