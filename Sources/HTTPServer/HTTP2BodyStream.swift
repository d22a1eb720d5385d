import CNGHTTP2

/// The server side of a stream whose request body goes to an `HTTPBodyStreamHandler` as it arrives and whose
/// answer goes out in pieces: the bytes queued for nghttp2 to pull, who to tell when they are pulled, and where
/// each side stands. Owned by its `HTTP2Stream`, used only on the connection's queue.
final class HTTP2BodyStream {
    let handler: any HTTPBodyStreamHandler
    /// The client sent END_STREAM.
    var requestEnded = false
    var headSent = false
    /// The handler called `finish`: the trailers go out after the queued bytes.
    var finished = false
    /// `cancelled` went to the handler (it is told once).
    var handlerCancelled = false
    /// Received bytes the handler has not consumed yet, held in the server's `RequestBodyBudget`.
    var reserved = 0
    /// nghttp2 found nothing to send and waits for `nghttp2_session_resume_data`.
    var deferred = false
    private var pending: [UInt8] = []
    private var pendingOffset = 0
    /// Bytes pulled into DATA frames so far, and those queued so far: the offsets `whenSent` waits for.
    private(set) var sentBytes = 0
    private var queuedBytes = 0
    private var notifications: [(end: Int, callback: @Sendable () -> Void)] = []
    /// Bytes received, or sent: what the idle timeout counts from.
    var lastActivity: ContinuousClock.Instant
    /// Since when queued bytes have waited for the client's window (meaningful while `hasUnsent`).
    var waitingSince: ContinuousClock.Instant

    init(handler: any HTTPBodyStreamHandler, now: ContinuousClock.Instant) {
        self.handler = handler
        lastActivity = now
        waitingSince = now
    }

    var hasUnsent: Bool { pendingOffset < pending.count }

    func enqueue(_ bytes: [UInt8], whenSent: (@Sendable () -> Void)?, now: ContinuousClock.Instant) {
        if !hasUnsent { waitingSince = now }
        pending.append(contentsOf: bytes)
        queuedBytes += bytes.count
        guard let whenSent else { return }
        if queuedBytes <= sentBytes { return whenSent() }  // nothing to wait for (no bytes)
        notifications.append((queuedBytes, whenSent))
    }

    /// Copies queued bytes into `buffer`: nil when there are none yet (nghttp2 defers the stream), otherwise the
    /// count and whether that ends the body (finished, nothing left). Runs the `whenSent` of bytes now all pulled.
    func next(into buffer: UnsafeMutableRawBufferPointer, now: ContinuousClock.Instant) -> (count: Int, end: Bool)? {
        let count = min(buffer.count, pending.count - pendingOffset)
        guard count > 0 || finished else { return nil }
        if count > 0 {
            pending.withUnsafeBytes { all in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[pendingOffset..<(pendingOffset + count)]))
            }
            pendingOffset += count
            sentBytes += count
            lastActivity = now
            waitingSince = now
            if pendingOffset == pending.count {
                pending.removeAll(keepingCapacity: true)
                pendingOffset = 0
            } else if pendingOffset > 64 * 1024, pendingOffset > pending.count / 2 {
                pending.removeFirst(pendingOffset)
                pendingOffset = 0
            }
            while let first = notifications.first, first.end <= sentBytes {
                notifications.removeFirst()
                first.callback()
            }
        }
        return (count, finished && !hasUnsent)
    }
}
