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
    /// connection attempts are refused.
    func close(then: (() -> Void)? = nil) {
        guard !isClosed else { return }
        isClosed = true
        onClosed = then
        onConnection = nil
        start()  // an inactive source must not be released, and never delivers its cancel handler
        if isPaused {
            isPaused = false
            source.resume()
        }
        source.cancel()
    }
}
