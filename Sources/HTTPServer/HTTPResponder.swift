/// What the server calls with each complete request. `completion` must be called exactly once,
/// from any thread and at any later time; later calls are ignored. If the client has gone by
/// then, the response is dropped.
public protocol HTTPResponder: Sendable {
    func respond(to request: HTTPRequest, completion: @escaping @Sendable (HTTPResponse) -> Void)
}
