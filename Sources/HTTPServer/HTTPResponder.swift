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
}

extension HTTPResponder {
    public func admit(_ head: HTTPRequest) -> HTTPResponse? { nil }
}
