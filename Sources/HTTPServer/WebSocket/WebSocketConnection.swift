import Dispatch
import Logging

/// A WebSocket on the socket of an `HTTPConnection` that answered a handshake with 101. It runs on that
/// connection's queue, reads through its `SocketStream` and keeps its timer (deadline kind `.webSocket`):
/// frames in through a `WebSocketMessageReader`, messages to the handler, pings answered, the closing handshake
/// (RFC 6455 §7), and three deadlines: no message for `webSocketIdleTimeout` (close 1001), a client that stops
/// reading for `writeTimeout` (socket closed), and a close frame the client does not answer within
/// `lingerTimeout` (socket closed).
///
/// `@unchecked Sendable`: all state is used only on `connection.queue`.
final class WebSocketConnection: @unchecked Sendable {
    unowned let connection: HTTPConnection
    let handler: any WebSocketHandler
    private var reader: WebSocketMessageReader
    private(set) var channel: WebSocketChannel!
    /// Our close frame is queued: no more frames go out, data messages that still arrive are dropped.
    private var closeSent = false
    private var closeSentAt = ContinuousClock.now
    /// The client's close frame came (or its input failed): nothing more is read.
    private var inputDone = false
    private var closeCode: UInt16?
    private var lastReceived = ContinuousClock.now
    private var notifiedClosed = false

    init(connection: HTTPConnection, handler: any WebSocketHandler) {
        self.connection = connection
        self.handler = handler
        let configuration = connection.configuration
        reader = WebSocketMessageReader(maxFrameBytes: configuration.webSocketMaxFrameBytes,
                                        maxMessageBytes: configuration.webSocketMaxMessageBytes)
        channel = WebSocketChannel(queue: connection.queue, connection: self)
    }

    /// Before the 101 is written: the handler counts the stream while its client cannot yet know it is open, so
    /// a limit it enforces is taken in the order the clients see their 101s.
    func open() { handler.opened(channel) }

    /// After the 101 is queued: bytes that came behind the handshake are the first frames.
    func start(with leftover: [UInt8]) {
        if !leftover.isEmpty { leftover.withUnsafeBytes { received($0) } } else { scheduleDeadline() }
    }

    func received(_ bytes: UnsafeRawBufferPointer) {
        guard !inputDone else { return }
        lastReceived = .now
        reader.append(bytes)
        do {
            while !inputDone, let event = try reader.next() { handle(event) }
        } catch {
            connection.logger.debug("websocket protocol error: \(error)")
            inputDone = true
            initiateClose(code: error.code, reason: error.reason)
        }
        scheduleDeadline()
    }

    private func handle(_ event: WebSocketEvent) {
        switch event {
        case .text(let text):
            if !closeSent { handler.received(.text(text)) }
        case .binary(let bytes):
            if !closeSent { handler.received(.binary(bytes)) }
        case .ping(let payload):
            // §5.5.2: a pong with the same payload, unless we are closing.
            if !closeSent { write(WebSocketFrame(opcode: .pong, payload: payload)) }
        case .pong:
            break
        case .close(let code, _):
            inputDone = true
            if closeSent {
                // Our close answered: the handshake is complete; the server closes TCP first (§7.1.1).
                connection.close()
            } else {
                // Echo the code (§5.5.1); no code received means none in the answer either.
                closeSent = true
                closeSentAt = .now
                closeCode = code ?? WebSocketCloseCode.normal
                notifyClosed()
                let payload = code.map { WebSocketFrame.closePayload(code: $0, reason: "") } ?? []
                write(WebSocketFrame(opcode: .close, payload: payload)) { [weak self] _ in self?.connection.close() }
            }
        }
    }

    func send(_ frame: WebSocketFrame, onWritten: ((Bool) -> Void)?) {
        guard !closeSent else { onWritten?(false); return }
        write(frame, onWritten: onWritten)
    }

    private func write(_ frame: WebSocketFrame, onWritten: ((Bool) -> Void)? = nil) {
        connection.stream.write(frame.encoded(), completion: onWritten)
        scheduleDeadline()
    }

    /// Sends our close frame (once) and waits for the client's, up to the linger timeout.
    func initiateClose(code: UInt16, reason: String) {
        guard !closeSent else { return }
        closeSent = true
        closeSentAt = .now
        closeCode = code
        notifyClosed()
        write(WebSocketFrame(opcode: .close, payload: WebSocketFrame.closePayload(code: code, reason: reason))) { [weak self] written in
            guard let self else { return }
            // A client that already sent its close (or failed) is not waited for.
            if !written || inputDone { connection.close() }
        }
    }

    func beginDrain() {
        guard !closeSent else { return }
        handler.drain()
    }

    func peerClosedInput() {
        inputDone = true
        connection.close()
    }

    /// The socket is closing (from any side): the handler hears it once.
    func connectionClosed() {
        notifyClosed()
    }

    private func notifyClosed() {
        guard !notifiedClosed else { return }
        notifiedClosed = true
        handler.closed(code: closeCode)
    }

    // MARK: Deadlines

    private func scheduleDeadline() {
        let configuration = connection.configuration
        var due = closeSent ? closeSentAt + configuration.lingerTimeout : lastReceived + configuration.webSocketIdleTimeout
        if connection.stream.hasPendingWrites { due = min(due, connection.stream.lastWriteProgress + configuration.writeTimeout) }
        connection.setDeadline(.webSocket, after: due - .now)
    }

    func deadlineReached() {
        let configuration = connection.configuration
        let now = ContinuousClock.now
        if connection.stream.hasPendingWrites, now >= connection.stream.lastWriteProgress + configuration.writeTimeout {
            connection.logger.debug("websocket write timeout: client is not reading")
            return connection.close()
        }
        if closeSent {
            if now >= closeSentAt + configuration.lingerTimeout { return connection.close() }
        } else if now >= lastReceived + configuration.webSocketIdleTimeout {
            initiateClose(code: WebSocketCloseCode.goingAway, reason: "idle for \(configuration.webSocketIdleTimeout)")
        }
        scheduleDeadline()
    }
}
