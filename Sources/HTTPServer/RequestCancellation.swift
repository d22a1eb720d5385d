import Synchronization

/// Set by the server when the client of a request is gone before its response: on HTTP/1.1 the
/// connection closed, failed, or the client closed its sending side while it waits (taken as
/// giving up, as nginx and Go's net/http do); on HTTP/2 the client reset the stream or the
/// connection ended. A responder may check it to skip work nobody will read; it must still call
/// its completion (the answer is then dropped, or written to a half-closed client).
public final class RequestCancellation: Sendable {
    private let cancelled = Atomic<Bool>(false)

    public init() {}

    public var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    public func cancel() { cancelled.store(true, ordering: .releasing) }
}
