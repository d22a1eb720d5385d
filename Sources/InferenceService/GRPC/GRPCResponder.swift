import Foundation
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

    /// ModelStreamInfer takes its messages as they arrive and answers each at once (`GRPCStreamCall`); every
    /// other call, gRPC or REST, gets its whole body.
    func bodyStreamHandler(for head: HTTPRequest, writer: HTTPStreamWriter) -> (any HTTPBodyStreamHandler)? {
        guard Self.isGRPC(head) else { return rest.bodyStreamHandler(for: head, writer: writer) }
        guard case .success(.modelStreamInfer) = GRPCService.method(head), service.refusal(head) == nil else { return nil }
        return GRPCStreamCall(service: service, head: head, writer: writer)
    }

    /// The HTTP/2 layer's limits as gRPC statuses in a trailers-only answer (HTTP 200): a body over the limit is
    /// RESOURCE_EXHAUSTED, a body too slow DEADLINE_EXCEEDED, the server's body budget full UNAVAILABLE (retried).
    func limitRefusal(_ refusal: HTTPResponse, head: HTTPRequest) -> HTTPResponse {
        guard Self.isGRPC(head) else { return rest.limitRefusal(refusal, head: head) }
        guard refusal.trailers == nil else { return refusal }  // already a gRPC answer (from `admit`)
        let message = "the server refused the call's upload: " + Self.errorMessage(refusal)
        let code: GRPCStatus.Code = switch refusal.status {
        case 413: .resourceExhausted
        case 408: .deadlineExceeded
        case 503: .unavailable
        default: .internal
        }
        var response = GRPCService.response(status: GRPCStatus(code, message))
        for (name, value) in refusal.headers where name.lowercased() == "retry-after" { response.headers.add(name: name, value: value) }
        return response
    }

    /// The `error` of the server's `{"error": ...}` body.
    private static func errorMessage(_ response: HTTPResponse) -> String {
        struct Body: Decodable { let error: String }
        return (try? JSONDecoder().decode(Body.self, from: Data(response.body)))?.error ?? "HTTP \(response.status)"
    }
}
