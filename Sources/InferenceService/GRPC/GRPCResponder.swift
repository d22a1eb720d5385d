import HTTPServer

/// Sends gRPC calls (HTTP/2 requests with an `application/grpc` content type) to the gRPC service and everything
/// else to the REST responder chain; the one hook between the two. gRPC answers its own way: API keys from the
/// `authorization` metadata, per-message `grpc-encoding`, and statuses in trailers, never an HTTP error status.
struct GRPCResponder: HTTPResponder {
    let service: GRPCService
    let rest: any HTTPResponder

    /// gRPC runs over HTTP/2 only; `application/grpc-web` is a different framing and is left to REST (404).
    static func isGRPC(_ request: HTTPRequest) -> Bool {
        guard request.version == .http2, let contentType = request.headers["Content-Type"] else { return false }
        let type = InferenceRoutes.mediaType(contentType)
        return type == "application/grpc" || type.hasPrefix("application/grpc+")
    }

    func respond(to request: HTTPRequest, completion: @escaping @Sendable (HTTPResponse) -> Void) {
        guard Self.isGRPC(request) else { return rest.respond(to: request, completion: completion) }
        service.handle(request, completion: completion)
    }

    func admit(_ head: HTTPRequest) -> HTTPResponse? {
        guard Self.isGRPC(head) else { return rest.admit(head) }
        return service.refusal(head).map { GRPCService.response(status: $0) }
    }
}
