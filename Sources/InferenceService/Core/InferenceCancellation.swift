/// Whether the caller of an inference has gone away, asked by the batcher before it computes the clips.
/// Each protocol adapter wraps its own signal (an HTTP connection closed or a stream reset, a gRPC call
/// cancelled, a WebSocket closed), so the core depends on none of them.
struct InferenceCancellation: Sendable {
    private let check: @Sendable () -> Bool

    init(_ isCancelled: @escaping @Sendable () -> Bool) { check = isCancelled }

    /// A caller that never leaves (the CLI, tests).
    static let never = InferenceCancellation { false }

    var isCancelled: Bool { check() }
}
