import SignBERTRuntime

/// Why the core gave no logits, for every protocol alike; each adapter maps these to its own status codes
/// (HTTP: `InferenceFailure+HTTP.swift`).
enum InferenceFailure: Error, Sendable, Equatable {
    /// The request cannot be computed as sent (the decoder's message, or logits that overflowed).
    case invalidInput(String)
    /// The model is still warming up.
    case notReady
    /// The queue is at its bound of `queuedClipLimit` clips.
    case overloaded(queuedClipLimit: Int)
    /// The request's deadline passed before its clips ran.
    case timedOut
    /// The caller went away while the clips were queued; they were not computed.
    case cancelled
    /// The server has stopped taking work (the end of a drain).
    case shuttingDown

    /// One line for the caller, the same whatever the protocol.
    var message: String {
        switch self {
        case .invalidInput(let message): message
        case .notReady: "the model is warming up; retry shortly"
        case .overloaded(let limit): "the server is at capacity (\(limit) clips queued); retry shortly"
        case .timedOut: "the request waited longer than the request timeout"
        case .cancelled: "the client closed the request before it ran; it was not computed"
        case .shuttingDown: "the server is shutting down"
        }
    }

    /// How soon a retry may succeed, for the failures that are about the server's state, not the request.
    var retryAfter: Duration? {
        switch self {
        case .notReady, .overloaded, .shuttingDown: .seconds(1)
        case .invalidInput, .timedOut, .cancelled: nil
        }
    }
}
