import HTTPServer

/// How a gRPC call appears in the access log and the request metrics: its method as the route (a fixed set, so
/// the metric's labels stay bounded) and its `grpc-status` as the status. nil for anything that is not gRPC.
struct GRPCAccessLog {
    var route: String
    var status: Int

    init?(_ exchange: HTTPExchange) {
        guard exchange.protocolVersion == .http2, let contentType = exchange.requestHeaders?["Content-Type"] else { return nil }
        let type = InferenceRoutes.mediaType(contentType)
        guard type == "application/grpc" || type.hasPrefix("application/grpc+") else { return nil }
        let path = exchange.path ?? ""
        let method = path.hasPrefix(GRPCService.servicePath) ? String(path.dropFirst(GRPCService.servicePath.count)) : ""
        route = GRPCService.Method(rawValue: method).map { GRPCService.servicePath + $0.rawValue } ?? "other"
        // A stream reset before its answer has no grpc-status: CANCELLED, as the client sees it.
        status = exchange.responseHeaders["grpc-status"].flatMap(Int.init)
            ?? (exchange.completed ? GRPCStatus.Code.unknown.rawValue : GRPCStatus.Code.cancelled.rawValue)
    }
}
