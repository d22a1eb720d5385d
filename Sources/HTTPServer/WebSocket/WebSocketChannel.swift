import Dispatch

/// How a `WebSocketHandler` talks back: sends and closes from any thread, carried out in call order on the
/// connection's queue. After the connection closed (or its close frame went out) they do nothing.
public final class WebSocketChannel: @unchecked Sendable {
    private let queue: DispatchQueue
    /// Weak so that a handler holding its channel keeps nothing alive; read only on `queue` (`@unchecked`).
    private weak var connection: WebSocketConnection?

    init(queue: DispatchQueue, connection: WebSocketConnection) {
        self.queue = queue
        self.connection = connection
    }

    /// A text message (one frame).
    public func send(text: String) {
        queue.async { [self] in connection?.send(WebSocketFrame(opcode: .text, payload: Array(text.utf8)), onWritten: nil) }
    }

    /// A text message; `onWritten` runs on the connection's queue once its bytes are in the kernel (false if the
    /// connection failed first).
    public func send(text: String, onWritten: @escaping @Sendable (Bool) -> Void) {
        queue.async { [self] in
            guard let connection else { return onWritten(false) }
            connection.send(WebSocketFrame(opcode: .text, payload: Array(text.utf8)), onWritten: onWritten)
        }
    }

    public func send(binary: [UInt8]) {
        queue.async { [self] in connection?.send(WebSocketFrame(opcode: .binary, payload: binary), onWritten: nil) }
    }

    /// Starts the closing handshake (RFC 6455 §7.1.2) with `code`; the socket closes when the client answers it or
    /// after the linger timeout.
    public func close(code: UInt16, reason: String = "") {
        queue.async { [self] in connection?.initiateClose(code: code, reason: reason) }
    }
}
