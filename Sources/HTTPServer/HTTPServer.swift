import Dispatch
import Glibc
public import Logging
import Synchronization

/// Why the server could not start, e.g. "cannot listen on 0.0.0.0:8080: Address already in use".
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// The system error behind it, if any (its `code` is the errno).
    public let underlying: SocketError?

    public var description: String { message }
}

/// An HTTP/1.1 server on plain sockets and Dispatch: it listens, accepts, keeps the registry of
/// open connections, and drains. Each connection runs on its own serial queue.
public final class HTTPServer: Sendable {
    public let configuration: HTTPServerConfiguration
    let responder: any HTTPResponder
    let logger: Logger
    let onExchange: (@Sendable (HTTPExchange) -> Void)?
    /// Serialises accepting and closing the listener.
    let acceptQueue = DispatchQueue(label: "HTTPServer.accept")
    /// What every connection's serial queue targets.
    let connectionQueue = DispatchQueue(label: "HTTPServer.connections", attributes: .concurrent)

    enum Lifecycle { case idle, running, draining, stopped }

    struct State {
        var lifecycle = Lifecycle.idle
        var listener: Listener?
        var listenerClosed = false
        var port = 0
        var nextID = 0
        var connections: [Int: HTTPConnection] = [:]
        /// Connections that are being told 503: registered (so shutdown closes them) but not
        /// counted against `maxConnections`.
        var rejecting: Set<Int> = []
        var drainCompletions: [@Sendable () -> Void] = []
    }

    let state = Mutex(State())
    let drainSignal = DrainSignal()
    /// Request bodies held at once, over all connections (`maxBufferedBodyBytes`).
    public let bodyBudget: RequestBodyBudget

    /// `onExchange` is called once for every response written or abandoned, the server's own
    /// error responses included, on the connection's queue: keep it quick.
    /// Call `shutdown()` or `drain` before letting go of the server: the listener and the
    /// connections keep it alive until then.
    public init(
        configuration: HTTPServerConfiguration,
        responder: any HTTPResponder,
        logger: Logger,
        onExchange: (@Sendable (HTTPExchange) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.responder = responder
        self.logger = logger
        self.onExchange = onExchange
        self.bodyBudget = RequestBodyBudget(limit: configuration.maxBufferedBodyBytes)
    }

    /// The bound port (the kernel's choice when the configuration says 0); 0 before `start()`.
    public var port: Int { state.withLock { $0.port } }

    /// Connections being served (those turned away with 503 are not counted).
    public var openConnections: Int {
        state.withLock { $0.connections.count - $0.rejecting.count }
    }

    /// Binds and listens. Throws `HTTPServerError` with the system's reason.
    public func start() throws {
        // A peer that vanishes must give EPIPE, not kill the process (sends also use MSG_NOSIGNAL).
        signal(SIGPIPE, SIG_IGN)
        let canStart = state.withLock { state in
            guard state.lifecycle == .idle else { return false }
            state.lifecycle = .running
            return true
        }
        guard canStart else {
            throw HTTPServerError(message: "the server was already started", underlying: nil)
        }
        let socket: Socket
        do {
            socket = try Socket.listen(host: configuration.host, port: configuration.port, backlog: Int32(clamping: configuration.backlog))
        } catch {
            state.withLock { $0.lifecycle = .idle }
            throw HTTPServerError(
                message: "cannot listen on \(configuration.host):\(configuration.port): \(error.message) (\(error.operation), errno \(error.code))",
                underlying: error
            )
        }
        let listener = Listener(socket: socket, queue: acceptQueue, logger: logger)
        listener.onConnection = { [self] client, peer in accepted(client, peer: peer) }
        let port = socket.localPort()
        let stillRunning = state.withLock { state in
            state.port = port
            // A drain or shutdown that came while binding has already looked for a listener.
            guard state.lifecycle == .running else { return false }
            state.listener = listener
            return true
        }
        guard stillRunning else {
            acceptQueue.async { listener.close() }
            return
        }
        acceptQueue.async { listener.start() }
        logger.info("listening on \(configuration.host):\(port)")
    }

    /// Stops accepting, closes idle connections, lets requests in flight (and requests already
    /// on their way on accepted connections) be answered with `Connection: close`, then calls
    /// `completion` once every connection is closed. When `timeout` expires first, `completion`
    /// is called at once — `openConnections` then still counts the connections left, so the
    /// caller can tell a clean drain from a forced one — and those are closed right after.
    public func drain(timeout: Duration, completion: @escaping @Sendable () -> Void) {
        drainSignal.set()
        let neverStarted = state.withLock { state in
            state.drainCompletions.append(completion)
            switch state.lifecycle {
            case .idle:
                state.lifecycle = .stopped
                state.listenerClosed = true
                return true
            case .running:
                state.lifecycle = .draining
            case .draining, .stopped:
                break
            }
            return false
        }
        if neverStarted {
            finishDrainIfDone()
            return
        }
        acceptQueue.async { [self] in
            let listener = state.withLock { $0.listener }
            // Connections the kernel already accepted are clients that will send a request:
            // take them in rather than let closing the listener reset them.
            listener?.acceptPending()
            let listenerGone = { [self] in
                let connections = state.withLock { state in
                    state.listener = nil
                    state.listenerClosed = true
                    return Array(state.connections.values)
                }
                logger.info("draining \(connections.count) connections")
                for connection in connections { connection.beginDrain() }
                finishDrainIfDone()
            }
            if let listener { listener.close(then: listenerGone) } else { listenerGone() }
        }
        acceptQueue.asyncAfter(deadline: .now() + Self.dispatchInterval(timeout)) { [self] in
            let (remaining, completions) = state.withLock { state in
                defer { state.drainCompletions = [] }
                return (Array(state.connections.values), state.drainCompletions)
            }
            guard !completions.isEmpty else { return }  // drained in time
            logger.warning("drain timeout: closing \(remaining.count) connections")
            // Completions first: in them `openConnections` still counts what was left, which
            // tells the caller that the drain did not finish in time.
            for completion in completions { completion() }
            for connection in remaining { connection.forceClose() }
        }
    }

    /// `drain(timeout:completion:)` for async callers.

    /// Closes the listener and every connection at once.
    public func shutdown() {
        let (listener, connections) = state.withLock { state in
            state.lifecycle = .stopped
            let listener = state.listener
            state.listener = nil
            return (listener, Array(state.connections.values))
        }
        acceptQueue.async { [self] in
            let listenerGone = { [self] in
                state.withLock { $0.listenerClosed = true }
                finishDrainIfDone()
            }
            if let listener { listener.close(then: listenerGone) } else { listenerGone() }
        }
        for connection in connections { connection.forceClose() }
    }

    // MARK: Connections

    /// On `acceptQueue`: registers and starts a connection, or turns it away.
    private func accepted(_ socket: Socket, peer: String) {
        let accepted = state.withLock { state -> Bool in
            guard state.lifecycle == .running || state.lifecycle == .draining else { return false }
            let serving = state.connections.count - state.rejecting.count
            let reject = serving >= configuration.maxConnections
            // Under a flood, even the 503 costs too much: past twice the limit, just close.
            if reject, state.rejecting.count >= configuration.maxConnections { return false }
            let id = state.nextID
            state.nextID += 1
            let connection = HTTPConnection(
                id: id, socket: socket, remoteAddress: peer, targetQueue: connectionQueue,
                configuration: configuration, responder: responder, logger: logger,
                drainSignal: drainSignal, bodyBudget: bodyBudget, onExchange: onExchange, onClose: { [self] id in connectionClosed(id) }
            )
            state.connections[id] = connection
            if reject { state.rejecting.insert(id) }
            // Started under the lock so that a concurrent shutdown's close is queued after it.
            connection.start(rejecting: reject)
            return true
        }
        if !accepted { socket.close() }
    }

    private func connectionClosed(_ id: Int) {
        state.withLock { state in
            state.connections[id] = nil
            state.rejecting.remove(id)
        }
        finishDrainIfDone()
    }

    /// Calls the drain completions once the listener is closed and no connection is left.
    private func finishDrainIfDone() {
        let completions = state.withLock { state -> [@Sendable () -> Void] in
            guard state.listenerClosed, state.connections.isEmpty else { return [] }
            defer { state.drainCompletions = [] }
            return state.drainCompletions
        }
        for completion in completions { completion() }
    }

    static func dispatchInterval(_ duration: Duration) -> DispatchTimeInterval {
        let (seconds, attoseconds) = max(.zero, duration).components
        // Clamped to ~31 years so that the multiplication cannot overflow.
        return .nanoseconds(Int(min(seconds, 1_000_000_000)) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
    }
}

/// Set once, when the server starts draining; read by every connection on its own queue.
final class DrainSignal: Sendable {
    private let flag = Atomic<Bool>(false)

    func set() { flag.store(true, ordering: .releasing) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
}
