import Synchronization

/// Bytes of request bodies the server holds at once, over every connection and HTTP/2 stream: a body
/// reserves its bytes as they arrive (a declared `Content-Length` is only a bound, checked from the head: a
/// client holds what it sent, not what it declared) and gives them back once the responder has been handed
/// the request and returned. A body that does not fit is answered 503 with `Retry-After`, so that many
/// concurrent uploads cannot exhaust memory even though each is within `maxBodyBytes`.
public final class RequestBodyBudget: Sendable {
    public let limit: Int
    private let used = Mutex(0)

    public init(limit: Int) {
        self.limit = limit
    }

    /// Takes `bytes` if they fit; false (and nothing taken) otherwise.
    func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        return used.withLock { used in
            guard bytes <= limit - used else { return false }
            used += bytes
            return true
        }
    }

    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        used.withLock { $0 = max(0, $0 - bytes) }
    }

    /// Bytes reserved now (tests, metrics).
    public var inUse: Int { used.withLock { $0 } }

    static let refusalMessage = "the server is receiving too many request bodies at once; retry shortly"
}
