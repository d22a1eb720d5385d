import Dispatch
import Glibc
import Logging

/// The listening socket and the read source that accepts from it. Socket layer only: it hands
/// each accepted socket to `onConnection` and knows nothing of HTTP.
///
/// `@unchecked Sendable`: every member is used only on `queue` (the server's accept queue).
final class Listener: @unchecked Sendable {
    let socket: Socket
    let queue: DispatchQueue
    var onConnection: ((Socket, String) -> Void)?
    private var onClosed: (() -> Void)?
    private let source: any DispatchSourceRead
    private let logger: Logger
    private var isClosed = false
    private var isPaused = false
    private var isActive = false

    init(socket: Socket, queue: DispatchQueue, logger: Logger) {
        self.socket = socket
        self.queue = queue
        self.logger = logger
        self.source = DispatchSource.makeReadSource(fileDescriptor: socket.fd, queue: queue)
        source.setEventHandler { [unowned self] in acceptPending() }
        // Dispatch's rule: close the descriptor only once its source is cancelled. Strong: the
        // listener must outlive this handler (Dispatch drops the handler after it ran).
        source.setCancelHandler { [self] in
            socket.close()
            let then = onClosed
            onClosed = nil
            then?()
        }
    }

    func start() {
        guard !isActive else { return }
        isActive = true
        source.activate()
    }

    /// Accepts every connection the kernel has queued.
    func acceptPending() {
        while !isClosed, !isPaused {
            do {
                guard let (client, peer) = try socket.accept() else { return }
                if let onConnection {
                    onConnection(client, peer)
                } else {
                    client.close()
                }
            } catch {
                logger.warning("accept failed: \(error)")
                if error.code == EMFILE || error.code == ENFILE || error.code == ENOBUFS || error.code == ENOMEM {
                    // Out of descriptors: the source would fire again at once. Back off a little.
                    isPaused = true
                    source.suspend()
                    queue.asyncAfter(deadline: .now() + .milliseconds(100)) { [self] in
                        guard isPaused else { return }
                        isPaused = false
                        source.resume()
                    }
                }
                return
            }
        }
    }

    /// Stops listening; `then` runs (on `queue`) once the descriptor is closed, from when new
    /// connection attempts are refused. Connections whose handshake the kernel completed are
    /// accepted first: closing a listener resets whatever is still in its accept queue, and those
    /// clients already believe they are connected.
    func close(then: (() -> Void)? = nil) {
        guard !isClosed else { return }
        // No handshake may complete between emptying the queue and closing the descriptor.
        refuseNewHandshakes()
        if isPaused {
            isPaused = false
            source.resume()
        }
        acceptPending()
        isClosed = true
        onClosed = then
        onConnection = nil
        start()  // an inactive source must not be released, and never delivers its cancel handler
        source.cancel()
    }

    /// Attaches a one-instruction classic BPF program, "return 0", to the listening socket: the
    /// kernel then drops every packet for it (SYNs and the ACKs that would finish a handshake), so
    /// clients see a timeout-then-refusal instead of a connection that is reset after it succeeded.
    private func refuseNewHandshakes() {
        var instruction = SocketFilterInstruction(code: 0x06, jumpTrue: 0, jumpFalse: 0, constant: 0)  // BPF_RET | BPF_K, 0
        let attached = withUnsafeMutablePointer(to: &instruction) { pointer -> Int32 in
            var program = SocketFilterProgram(length: 1, instructions: pointer)
            return setsockopt(socket.fd, SOL_SOCKET, Self.attachFilterOption, &program,
                              socklen_t(MemoryLayout<SocketFilterProgram>.size))
        }
        if attached != 0 { logger.debug("SO_ATTACH_FILTER failed (errno \(errno)); closing the listener without it") }
    }

    /// SO_ATTACH_FILTER from <asm-generic/socket.h>, which Glibc's module map does not export.
    private static let attachFilterOption: Int32 = 26
}

/// `struct sock_filter` of <linux/filter.h>: 8 bytes, fields in this order.
private struct SocketFilterInstruction {
    var code: UInt16
    var jumpTrue: UInt8
    var jumpFalse: UInt8
    var constant: UInt32
}

/// `struct sock_fprog`: a length, then (8-byte aligned) the instructions' address.
private struct SocketFilterProgram {
    var length: UInt16
    var instructions: UnsafeMutablePointer<SocketFilterInstruction>
}
