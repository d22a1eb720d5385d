import HTTPServer

/// The HTTP answer to each failure of the inference core: every prediction route answers alike.
extension InferenceFailure {
    /// 400 for the request's own fault; 503 (with `Retry-After`) while the server cannot take work; 504
    /// past the request timeout; nginx's 499 for a client that left (seen only by a half-closed client,
    /// and in the access log and metrics).
    var httpStatus: Int {
        switch self {
        case .invalidInput: 400
        case .notReady, .overloaded, .shuttingDown: 503
        case .timedOut: 504
        case .cancelled: 499
        }
    }

    /// `{"error": message}` with the status, and `Retry-After` in whole seconds when a retry may succeed.
    var httpResponse: HTTPResponse {
        var response = HTTPResponse.error(status: httpStatus, message: message)
        if let retryAfter {
            response.headers.replace(name: "Retry-After", value: String(max(1, retryAfter.components.seconds)))
        }
        return response
    }
}
