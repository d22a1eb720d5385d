/// What the server calls with each complete request. `completion` must be called exactly once,
/// from any thread and at any later time; later calls are ignored. If the client has gone by
/// then, the response is dropped.
public protocol HTTPResponder: Sendable {
    func respond(to request: HTTPRequest, completion: @escaping @Sendable (HTTPResponse) -> Void)
}

/// A responder made of a closure, for tests and small servers.
public struct HTTPResponderClosure: HTTPResponder {
    let body: @Sendable (HTTPRequest, @escaping @Sendable (HTTPResponse) -> Void) -> Void

    public init(_ body: @escaping @Sendable (HTTPRequest, @escaping @Sendable (HTTPResponse) -> Void) -> Void) {
        self.body = body
    }

    public func respond(to request: HTTPRequest, completion: @escaping @Sendable (HTTPResponse) -> Void) {
        body(request, completion)
    }
}
