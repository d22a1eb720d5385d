/// The gRPC status of each failure of the inference core, as the HTTP routes map them to HTTP statuses
/// (InferenceFailure+HTTP.swift): the caller's fault, the server's state, the deadline, the caller leaving.
extension InferenceFailure {
    var grpcStatus: GRPCStatus {
        switch self {
        case .invalidInput(let message): GRPCStatus(.invalidArgument, message)
        case .overloaded: GRPCStatus(.resourceExhausted, message)
        case .notReady, .shuttingDown: GRPCStatus(.unavailable, message)
        case .timedOut: GRPCStatus(.deadlineExceeded, message)
        case .cancelled: GRPCStatus(.cancelled, message)
        }
    }
}
