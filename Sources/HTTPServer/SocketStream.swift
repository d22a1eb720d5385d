import Dispatch

/// A connected non-blocking socket driven by Dispatch sources: reads arrive through `onData`,
/// writes are queued and finished by a write source when the kernel's buffer is full.
/// It knows nothing of HTTP.
///
/// `@unchecked Sendable`: every member is used only on `queue` (the owning connection's serial
/// queue, which is also the target of both Dispatch sources).
final class SocketStream: @unchecked Sendable {
    let socket: Socket
    let queue: DispatchQueue

    /// Bytes read; the buffer is only valid during the call.
    var onData: ((UnsafeRawBufferPointer) -> Void)?
    /// The peer closed its sending side. Reading is paused (the source would fire forever).
    var onEndOfFile: (() -> Void)?
    /// A read or write failed (reset, broken pipe): the connection is unusable.
    var onError: ((SocketError) -> Void)?

    private(set) var isClosed = false
    private(set) var lastWriteProgress = ContinuousClock.now
    var hasPendingWrites: Bool { !pending.isEmpty }

    private struct PendingWrite {
        var bytes: [UInt8]
        var offset = 0
        var completion: ((Bool) -> Void)?
    }

    private let readSource: any DispatchSourceRead
    private var readSuspended = true  // Dispatch sources start inactive
    private var writeSource: (any DispatchSourceWrite)?
    private var writeSuspended = true
    private var pending: [PendingWrite] = []
    private var flushing = false
    private var sourcesToCancel = 0
    private var onClosed: (() -> Void)?

    /// Where a turn's continuation waits (see `yieldThenRead`): the concurrent queue that `queue` targets.
    let yieldQueue: DispatchQueue

    init(socket: Socket, queue: DispatchQueue, yieldQueue: DispatchQueue) {
        self.socket = socket
        self.queue = queue
        self.yieldQueue = yieldQueue
        self.readSource = DispatchSource.makeReadSource(fileDescriptor: socket.fd, queue: queue)
        readSource.setEventHandler { [unowned self] in self.readAvailable() }
        readSource.setCancelHandler { [unowned self] in self.sourceCancelled() }
    }

    func resumeReading() {
        pausedByOwner = false
        guard !isClosed, readSuspended else { return }
        readSuspended = false
        readSource.resume()
    }

    /// The owner paused reading (back-pressure, end of input): a pending turn must not resume it.
    private var pausedByOwner = false

    func pauseReading() {
        pausedByOwner = true
        suspendReadSource()
    }

    private func suspendReadSource() {
        guard !isClosed, !readSuspended else { return }
        readSuspended = true
        readSource.suspend()
    }

    /// Queues `bytes`; `completion(true)` once all of them are in the kernel, `false` if the
    /// stream failed or closed first.
    func write(_ bytes: [UInt8], completion: ((Bool) -> Void)? = nil) {
        guard !isClosed else { completion?(false); return }
        pending.append(PendingWrite(bytes: bytes, completion: completion))
        if writeSuspended { flush() }
    }

    /// Half-closes the socket (FIN) while reading stays possible: used for a lingering close.
    func shutdownWrite() {
        guard !isClosed else { return }
        socket.shutdownWrite()
    }

    /// Cancels both sources; the descriptor is closed in the last cancel handler (Dispatch's rule:
    /// never close an fd a source still watches), then `then` runs. Idempotent.
    func close(then: @escaping () -> Void) {
        guard !isClosed else { return }
        isClosed = true
        onClosed = then
        let failed = pending
        pending = []
        sourcesToCancel = writeSource == nil ? 1 : 2
        // A suspended source never delivers its cancel handler: resume it first.
        if readSuspended { readSuspended = false; readSource.resume() }
        readSource.cancel()
        if let writeSource {
            if writeSuspended { writeSuspended = false; writeSource.resume() }
            writeSource.cancel()
        }
        for write in failed { write.completion?(false) }
        onData = nil
        onEndOfFile = nil
        onError = nil
    }

    private func sourceCancelled() {
        sourcesToCancel -= 1
        guard sourcesToCancel == 0 else { return }
        socket.close()
        let then = onClosed
        onClosed = nil
        then?()
    }

    private func readAvailable() {
        // One buffer (`turnBytes`) of input per turn, then the queue's worker thread is given back and the rest
        // waits its turn behind every other connection's (`yieldThenRead`): all connections share a few
        // Dispatch worker threads, and one that streams cheap input must not hold one while others wait.
        // Reads go on after a short read (the kernel's queue ran dry), so that the hang-up Dispatch reports
        // once after data (a reset) is still read in the same turn; at most `maxReadsPerTurn` of them.
        var reads = 0
        while !isClosed, !readSuspended {
            reads += 1
            // A buffer per read rather than per connection: idle connections then cost no memory.
            let result = withUnsafeTemporaryAllocation(byteCount: turnBytes, alignment: 16) { scratch in
                let result = socket.read(into: scratch)
                if case .bytes(let count) = result {
                    onData?(UnsafeRawBufferPointer(rebasing: scratch[0..<count]))
                }
                return result
            }
            switch result {
            case .bytes(let count):
                // A full buffer means more is waiting: that is for the next turn. A short read (the queue
                // ran dry) reads once more, for the error or EOF that may be behind it.
                if count == turnBytes || reads == Self.maxReadsPerTurn { return yieldThenRead() }
                continue
            case .endOfFile:
                pauseReading()
                onEndOfFile?()
            case .wouldBlock:
                break
            case .failed(let error):
                onError?(error)
            }
            return
        }
    }

    /// The bytes read per turn (a readiness event, or a turn after a yield) are at most one full buffer of
    /// `turnBytes`, in at most `maxReadsPerTurn` reads: the work one connection does before another gets the
    /// thread is bounded. HTTP/2 takes a smaller turn (`HTTP2Connection.turnBytes`): its frames can cost work
    /// for as little as 9 bytes each.
    var turnBytes = 64 * 1024
    static let maxReadsPerTurn = 4
    /// Turns given up with input still waiting, for tests.
    private(set) var yields = 0

    /// Gives the worker thread back and reads again once every connection that was waiting has had its
    /// turn: the source stays suspended meanwhile (its next event would run at once on this queue), and the
    /// continuation goes through `yieldQueue`, the concurrent queue all connections share, whose FIFO order
    /// puts it behind the others' pending turns.
    private func yieldThenRead() {
        yields += 1
        suspendReadSource()
        yieldQueue.async { [self] in
            queue.async { [self] in
                guard !isClosed, !pausedByOwner else { return }
                resumeReading()
                readAvailable()
            }
        }
    }

    private func flush() {
        guard !flushing else { return }  // a completion that writes again is picked up by the loop
        flushing = true
        defer { flushing = false }
        while !isClosed, !pending.isEmpty {
            let offset = pending[0].offset
            if offset == pending[0].bytes.count {  // nothing (left) to send
                let done = pending.removeFirst()
                done.completion?(true)
                continue
            }
            let result = pending[0].bytes.withUnsafeBytes { all in
                socket.send(UnsafeRawBufferPointer(rebasing: all[offset...]))
            }
            switch result {
            case .sent(let count):
                lastWriteProgress = .now
                pending[0].offset += count  // completed on the next pass of the loop
            case .wouldBlock:
                // Kernel buffer full: wait for the socket to become writable.
                armWriteSource()
                return
            case .failed(let error):
                onError?(error)
                return
            }
        }
        disarmWriteSource()
    }

    private func armWriteSource() {
        guard !isClosed else { return }
        if writeSource == nil {
            let source = DispatchSource.makeWriteSource(fileDescriptor: socket.fd, queue: queue)
            source.setEventHandler { [unowned self] in self.writable() }
            source.setCancelHandler { [unowned self] in self.sourceCancelled() }
            writeSource = source
        }
        if writeSuspended, let writeSource {
            writeSuspended = false
            writeSource.resume()
        }
    }

    private func disarmWriteSource() {
        // Level-triggered: an armed source with nothing to write would spin.
        guard !isClosed, !writeSuspended, let writeSource else { return }
        writeSuspended = true
        writeSource.suspend()
    }

    private func writable() {
        guard !isClosed else { return }
        flush()  // suspends the source again once everything is written
    }
}
