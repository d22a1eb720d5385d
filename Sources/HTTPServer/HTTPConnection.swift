import Dispatch
import Logging

/// One client connection: a `SocketStream`, a decoder, one request in flight at a time and a
/// deadline per phase. Bytes of pipelined requests wait in the decoder until the response to
/// the current one is written.
///
/// `@unchecked Sendable`: all mutable state is confined to `queue`, this connection's serial
/// queue. The responder's completion may come from any thread; it hops back to `queue`.
final class HTTPConnection: @unchecked Sendable {
    enum Phase {
        /// Between requests: nothing of the next one has arrived.
        case awaitingRequest
        case readingHead
        case readingBody
        /// The responder has the request; `serial` tells its completion from a stale one.
        case responding(serial: Int)
        case writing
        /// The connection speaks HTTP/2: `http2` has it.
        case http2
        /// The connection is a WebSocket after a 101: `webSocket` has it.
        case webSocket
        /// The final response is out and FIN sent; input is read and dropped until EOF.
        case lingering
        case closed
    }

    enum DeadlineKind { case firstRequest, keepAlive, head, body, write, linger, http2, webSocket }

    /// What an exchange report needs to know about the request being answered.
    /// The request a response answers, for the encoder and the access log: its head (or, before the head was
    /// complete, its request line) as the decoder made it, not a copy of its fields.
    struct RequestInfo {
        var head: HTTPRequestHead?
        var line: HTTPRequestDecoder.RequestLine?
        var start: ContinuousClock.Instant

        init(head: HTTPRequestHead?, line: HTTPRequestDecoder.RequestLine? = nil, start: ContinuousClock.Instant) {
            self.head = head
            self.line = head == nil ? line : nil
            self.start = start
        }

        var method: String? { head?.method ?? line?.method }
        var version: HTTPVersion? { head?.version ?? line?.version }
    }

    let id: Int
    let queue: DispatchQueue
    /// The concurrent queue `queue` targets: where an HTTP/2 connection runs its streams'
    /// responders, so that they work in parallel as separate HTTP/1.1 connections would.
    let targetQueue: DispatchQueue
    let remoteAddress: String
    let stream: SocketStream
    let configuration: HTTPServerConfiguration
    let responder: any HTTPResponder
    let encoder: HTTPResponseEncoder
    let onExchange: (@Sendable (HTTPExchange) -> Void)?
    let onClose: @Sendable (Int) -> Void
    var logger: Logger

    var decoder: HTTPRequestDecoder
    var phase = Phase.awaitingRequest
    var requestsServed = 0
    /// The server's: set before any connection hears of the drain, so that a response
    /// finished in between already says `Connection: close`.
    let drainSignal: DrainSignal
    var draining: Bool { drainSignal.isSet }
    var peerClosed = false
    /// The request the responder is working on, cancelled if the client goes first.
    var awaitedRequest: RequestCancellation?
    /// The serial of a request whose connection closed before its answer: the answer is still reported.
    var orphanedSerial: Int?
    var readingPaused = false
    var requestStart = ContinuousClock.now
    var serial = 0
    /// Until the first bytes tell: may this connection still turn out to be HTTP/2?
    var sniffingPreface: Bool
    var http2: HTTP2Connection?
    var webSocket: WebSocketConnection?
    let bodyBudget: RequestBodyBudget
    /// This connection's share of `bodyBudget`: the current request's body.
    var reservedBodyBytes = 0
    var bodyStartedAt = ContinuousClock.now

    let timer: any DispatchSourceTimer
    var deadline: (kind: DeadlineKind, at: ContinuousClock.Instant)?
    var timerFiresAt: ContinuousClock.Instant?

    /// Unparsed input kept while a request is in flight before reading pauses (TCP then
    /// pushes back on the client).
    static let maxBufferedWhileBusy = 64 * 1024

    init(
        id: Int, socket: Socket, remoteAddress: String, targetQueue: DispatchQueue,
        configuration: HTTPServerConfiguration, responder: any HTTPResponder, logger: Logger,
        drainSignal: DrainSignal, bodyBudget: RequestBodyBudget, onExchange: (@Sendable (HTTPExchange) -> Void)?,
        onClose: @escaping @Sendable (Int) -> Void
    ) {
        self.id = id
        self.queue = DispatchQueue(label: "HTTPServer.connection.\(id)", target: targetQueue)
        self.targetQueue = targetQueue
        self.remoteAddress = remoteAddress
        self.stream = SocketStream(socket: socket, queue: queue, yieldQueue: targetQueue)
        self.configuration = configuration
        self.responder = responder
        self.encoder = HTTPResponseEncoder(serverName: configuration.serverName)
        self.onExchange = onExchange
        self.onClose = onClose
        self.drainSignal = drainSignal
        self.bodyBudget = bodyBudget
        self.logger = logger
        self.logger[metadataKey: "connection"] = "\(id)"
        self.logger[metadataKey: "peer"] = "\(remoteAddress)"
        self.decoder = HTTPRequestDecoder(limits: configuration.decoderLimits)
        self.sniffingPreface = configuration.http2Enabled
        self.timer = DispatchSource.makeTimerSource(queue: queue)
        // Active from the start (never scheduled yet): Dispatch must not release an inactive source.
        timer.activate()
    }

    /// Starts serving; with `rejecting`, answers 503 at once and closes (too many connections).
    func start(rejecting: Bool) {
        queue.async { [self] in
            guard case .awaitingRequest = phase else { return }  // closed before it started
            stream.onData = { [unowned self] bytes in received(bytes) }
            stream.onEndOfFile = { [unowned self] in endOfFile() }
            stream.onError = { [unowned self] error in
                logger.debug("connection error: \(error)")
                close()
            }
            timer.setEventHandler { [unowned self] in timerFired() }
            stream.resumeReading()
            if rejecting {
                let info = RequestInfo(head: nil, start: requestStart)
                // Retry-After, as every other 503 of the service has: a client knows the refusal is temporary.
                var response = HTTPResponse.error(status: 503, message: "too many open connections")
                response.headers.replace(name: "Retry-After", value: "1")
                writeResponse(response, info: info, keepAlive: false)
            } else {
                setDeadline(.firstRequest, after: configuration.headerReadTimeout)
            }
        }
    }

    /// Graceful drain: an idle kept-alive connection closes now; any other finishes its
    /// current request (a new connection may still send its first) with `Connection: close`.
    func beginDrain() {
        queue.async { [self] in
            if case .awaitingRequest = phase, requestsServed > 0 { close() }
            if case .http2 = phase { http2?.beginDrain() }
            if case .webSocket = phase { webSocket?.beginDrain() }
        }
    }

    func forceClose() {
        queue.async { [self] in close() }
    }

    // MARK: Reading

    private func received(_ bytes: UnsafeRawBufferPointer) {
        switch phase {
        case .lingering, .closed:
            return
        case .http2:
            http2?.received(bytes)
        case .webSocket:
            webSocket?.received(bytes)
        case .awaitingRequest:
            decoder.append(bytes)
            beginRequest()
            if sniffedPreface() { return }
            process()
        case .readingHead:
            decoder.append(bytes)
            if sniffedPreface() { return }
            process()
        case .readingBody:
            // The body budget is charged as bytes arrive: a client holds only what it sent, not what it
            // declared (a declared length is only a bound, checked from the head).
            let body = if case .length(let length) = decoder.head?.framing { min(bytes.count, length - reservedBodyBytes) }
                       else { bytes.count }
            guard reserveBody(body) else { return refuseBody() }
            decoder.append(bytes)
            setBodyDeadline()
            process()
        case .responding, .writing:
            // The next pipelined request: keep it for later, up to a bound.
            decoder.append(bytes)
            if decoder.bufferedByteCount > Self.maxBufferedWhileBusy {
                readingPaused = true
                stream.pauseReading()
            }
        }
    }

    private func beginRequest() {
        phase = .readingHead
        requestStart = .now
        setDeadline(.head, after: configuration.headerReadTimeout)
    }

    private func endOfFile() {
        peerClosed = true
        switch phase {
        case .responding:
            // A half-closed client still gets its response, then the connection closes; but the
            // responder hears that the client has most likely given up (unless it pipelined more).
            if decoder.bufferedByteCount == 0 { awaitedRequest?.cancel() }
        case .writing:
            break
        case .http2:
            http2?.peerClosedInput()
        case .webSocket:
            webSocket?.peerClosedInput()
        default:
            // Between requests, or a request that can no longer be completed.
            close()
        }
    }

    /// Runs the decoder until it needs more bytes, a request is complete, or it fails.
    func process() {
        while true {
            switch phase {
            case .awaitingRequest, .readingHead, .readingBody: break
            default: return
            }
            let event: HTTPRequestDecoder.Event?
            do {
                event = try decoder.next()
            } catch {
                fail(error)
                return
            }
            switch event {
            case nil:
                if peerClosed { close() }
                return
            case .head(let head)?:
                guard head.hasBody else { continue }
                // Admission from the head alone (authentication, route, method): a refused request's body
                // is never read (nor asked for with 100 Continue) and takes nothing from the body budget.
                // A request without a body goes the usual way, where the responder refuses it the same.
                let probe = HTTPRequest(head: head, body: [], remoteAddress: remoteAddress, receivedAt: requestStart)
                if let refusal = responder.admit(probe) { return refuseHead(refusal, head: head) }
                // What came with the head is charged now, the rest as it arrives (`received`).
                let buffered = if case .length(let length) = head.framing { min(length, decoder.bufferedByteCount) }
                               else { decoder.bufferedByteCount }
                guard reserveBody(buffered) else { return refuseBody() }
                phase = .readingBody
                bodyStartedAt = .now
                setBodyDeadline()
                // RFC 9110 §10.1.1: ask for the body only if the client is waiting for us.
                if head.expectsContinue, decoder.bufferedByteCount == 0 {
                    stream.write(HTTPResponseEncoder.continueResponse)
                }
            case .request(let head, let body)?:
                dispatch(head, body: body)
                return
            }
        }
    }

    /// The next body byte is due within the idle timeout, and the whole body within `maxBodyDuration`.
    private func setBodyDeadline() {
        let left = bodyStartedAt + configuration.maxBodyDuration - .now
        setDeadline(.body, after: min(configuration.bodyIdleTimeout, max(.zero, left)))
    }

    /// The body would not fit in the server's body budget: 503, and the connection closes (its body is
    /// not read).
    private func refuseBody() {
        releaseBody()
        var response = HTTPResponse.error(status: 503, message: RequestBodyBudget.refusalMessage)
        response.headers.replace(name: "Retry-After", value: "1")
        writeResponse(response, info: RequestInfo(head: decoder.head, start: requestStart), keepAlive: false)
    }

    /// Takes `bytes` more of the body budget for this request's body.
    private func reserveBody(_ bytes: Int) -> Bool {
        guard bodyBudget.reserve(bytes) else { return false }
        reservedBodyBytes += bytes
        return true
    }

    /// The responder refused the request from its head: its answer, and the connection closes (the body
    /// was not read; the lingering close discards what arrives of it).
    private func refuseHead(_ response: HTTPResponse, head: HTTPRequestHead) {
        writeResponse(response, info: RequestInfo(head: head, start: requestStart), keepAlive: false, version: head.version)
    }

    func releaseBody() {
        bodyBudget.release(reservedBodyBytes)
        reservedBodyBytes = 0
    }

    private func fail(_ error: HTTPDecodingError) {
        logger.debug("bad request: \(error)")
        let info = RequestInfo(head: decoder.head, line: decoder.requestLine, start: requestStart)
        writeResponse(.error(status: error.status, message: error.message), info: info, keepAlive: false)
    }

    private func dispatch(_ head: HTTPRequestHead, body: [UInt8]) {
        sniffingPreface = false
        if upgradedToHTTP2(head, body: body) { return }
        serial += 1
        let current = serial
        phase = .responding(serial: current)
        deadline = nil
        let request = HTTPRequest(head: head, body: body, remoteAddress: remoteAddress, receivedAt: requestStart)
        awaitedRequest = request.cancellation
        let info = RequestInfo(head: head, start: requestStart)
        responder.respond(to: request) { [self] response in
            queue.async { self.completed(serial: current, head: head, info: info, response: response) }
        }
        // The responder has the request: the body is its memory now (ours is released with the request).
        releaseBody()
    }

    private func completed(serial: Int, head: HTTPRequestHead, info: RequestInfo, response: HTTPResponse) {
        // A second completion, or one for a connection that has since closed, is dropped; the latter is
        // still reported (unsent), so the access log and metrics show what became of the request.
        guard case .responding(let current) = phase, current == serial else {
            if case .closed = phase, orphanedSerial == serial {
                orphanedSerial = nil
                report(response, info: info, bytesWritten: 0, completed: false)
            }
            return
        }
        awaitedRequest = nil
        if let upgrade = response.webSocket { return startWebSocket(upgrade, response: response, head: head, info: info) }
        let responderCloses = response.headers.tokens("Connection").contains("close")
        let keepAlive = head.keepAlive && !draining && !responderCloses
            && !(peerClosed && decoder.bufferedByteCount == 0)
        writeResponse(response, info: info, keepAlive: keepAlive, version: head.version)
    }
}
