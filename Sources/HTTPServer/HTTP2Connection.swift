import CNGHTTP2
import Dispatch
import Logging

/// Drives an `HTTP2Session` over an `HTTPConnection`'s socket once the connection turned out to
/// speak HTTP/2 (prior-knowledge preface or `Upgrade: h2c`): reads go to `mem_recv`, frames from
/// `mem_send` go out in chunks, each complete stream goes to the same responder as HTTP/1.1.
///
/// Back-pressure: at most `highWater` bytes are handed to the socket and not yet in the kernel;
/// past that nghttp2 keeps the rest and reading pauses until the client reads.
///
/// `@unchecked Sendable`: all state is confined to the connection's serial queue; responder
/// completions hop back to it.
final class HTTP2Connection: @unchecked Sendable {
    let connection: HTTPConnection
    let session: HTTP2Session
    var logger: Logger
    private(set) var outstandingBytes = 0
    private var flushing = false
    private var readingPaused = false
    private(set) var isClosed = false
    private var peerClosed = false
    private var drainStarted = false
    /// The last bytes from the client, or a stream closing: what the idle timeout counts from.
    private(set) var lastActivity = ContinuousClock.now
    /// The last bytes from the client: what the header, body and preface timeouts count from.
    private(set) var lastReceived = ContinuousClock.now
    private var upgraded = false
    private var bytesReceived = 0
    /// Stream 1's answer on an upgraded connection, held until the client's preface arrives
    /// (see `completed`).
    private var heldUpgradeAnswer: (request: HTTPRequest, response: HTTPResponse)?
    var awaitingPreface: Bool { bytesReceived < HTTPConnection.http2Preface.count }

    static let highWater = 256 * 1024
    /// Input taken per turn on the shared worker threads (`SocketStream.turnBytes`): 16 KB of the cheapest
    /// frames (empty DATA, 9 bytes each) is about a millisecond of nghttp2 and callbacks.
    static let turnBytes = 16 * 1024
    static let chunkBytes = 64 * 1024
    /// Between the shutdown notice and the final GOAWAY: time for streams the client sent
    /// before it saw the notice to arrive (nghttp2 asks for about one round trip).
    static let shutdownNoticeGrace = DispatchTimeInterval.milliseconds(50)

    init(connection: HTTPConnection) throws(HTTP2SessionError) {
        self.connection = connection
        self.session = try HTTP2Session(limits: HTTP2Session.Limits(connection.configuration),
                                        bodyBudget: connection.bodyBudget)
        self.logger = connection.logger
        logger[metadataKey: "protocol"] = "h2c"
        connection.stream.turnBytes = Self.turnBytes
        session.onRequest = { [unowned self] stream in dispatch(stream) }
        session.onStreamClosed = { [unowned self] stream, code in streamClosed(stream, code: code) }
        session.admit = { [unowned connection] stream in
            connection.responder.admit(stream.request(remoteAddress: connection.remoteAddress))
        }
        session.openBodyStream = { [unowned self] stream in openBodyStream(stream) }
        session.adaptRefusal = { [unowned connection] stream, refusal in
            connection.responder.limitRefusal(refusal, head: stream.request(remoteAddress: connection.remoteAddress))
        }
    }

    /// Starts with the bytes read so far (the client preface and whatever followed it).
    func start(with bytes: [UInt8]) throws(HTTP2SessionError) {
        try session.start()
        logger.debug("HTTP/2 connection started")
        if connection.draining { beginDrain() }
        bytes.withUnsafeBytes { received($0) }
        if bytes.isEmpty { flush() }
    }

    /// For `Upgrade: h2c`: applies the client's HTTP2-Settings and makes the request stream 1.
    /// Throws, before anything is sent, if the settings are not valid.
    func prepareUpgrade(settings: [UInt8], request: HTTPRequest) throws(HTTP2SessionError) -> HTTP2Stream {
        let stream = try session.upgrade(settings: settings, request: request)
        try session.start()
        return stream
    }

    /// After the 101: answers stream 1, then reads the bytes that followed the request (the
    /// client preface, usually).
    func startUpgraded(_ stream: HTTP2Stream, request: HTTPRequest, then bytes: [UInt8]) {
        logger.debug("HTTP/1.1 connection upgraded to h2c")
        upgraded = true
        if connection.draining { beginDrain() }
        respond(to: stream, request: request)
        bytes.withUnsafeBytes { received($0) }
        if bytes.isEmpty { flush() }
    }

    func received(_ bytes: UnsafeRawBufferPointer) {
        guard !isClosed else { return }
        lastActivity = .now
        lastReceived = lastActivity
        bytesReceived += bytes.count
        if !session.receive(bytes) {
            logger.debug("HTTP/2 protocol error: closing with GOAWAY")
        }
        if !awaitingPreface, let held = heldUpgradeAnswer {
            heldUpgradeAnswer = nil
            completed(streamID: 1, request: held.request, response: held.response)
        }
        flush()
    }

    // MARK: Streams

    private func dispatch(_ stream: HTTP2Stream) {
        respond(to: stream, request: stream.request(remoteAddress: connection.remoteAddress))
    }

    /// Runs the responder off the connection's serial queue: a handler's own work (e.g. decoding
    /// a JSON body) for 32 streams would otherwise run one after another on one core, where 32
    /// HTTP/1.1 connections run it in parallel. The answer hops back to the connection's queue.
    private func respond(to stream: HTTP2Stream, request: HTTPRequest) {
        let id = stream.id
        let responder = connection.responder, queue = connection.queue, budget = session.bodyBudget
        // The responder gets the body: its budget share is given back once it has the request.
        let reserved = stream.reservedBody
        stream.reservedBody = 0
        connection.targetQueue.async { [self] in
            responder.respond(to: request) { response in
                queue.async { self.completed(streamID: id, request: request, response: response) }
            }
            budget.release(reserved)
        }
    }

    private func completed(streamID: Int32, request: HTTPRequest, response: HTTPResponse) {
        // A WebSocket needs the HTTP/1.1 upgrade (RFC 8441's extended CONNECT is not offered).
        let response = response.webSocket == nil ? response
            : .error(status: 500, message: "a WebSocket cannot be opened on an HTTP/2 stream")
        // After a 101, answer stream 1 only once the client has sent its preface, i.e. has
        // read the 101: curl 7.88 drops the connection when more than 32 KB of HTTP/2 data
        // arrive together with the 101 ("connection buffer size is too small").
        if upgraded, streamID == 1, awaitingPreface, !isClosed {
            heldUpgradeAnswer = (request, response)
            return
        }
        guard !isClosed, session.respond(to: streamID, with: response) else {
            // The client reset the stream (or went away) while the responder worked.
            report(request.head, start: request.receivedAt, response: response, bytesWritten: 0, completed: false)
            return
        }
        flush()
    }

    private func streamClosed(_ stream: HTTP2Stream, code: UInt32) {
        lastActivity = .now
        guard let response = stream.response else { return }  // no answer yet: reported on completion, if any
        var complete = code == NGHTTP2_NO_ERROR.rawValue && stream.responseOffset == stream.responseBody.count
        var written = complete ? stream.responseBody.count : stream.responseOffset
        if let bodyStream = stream.bodyStream {
            complete = code == NGHTTP2_NO_ERROR.rawValue && bodyStream.finished && !bodyStream.hasUnsent
            written = bodyStream.sentBytes
        }
        report(stream.head, start: stream.startedAt, response: response, bytesWritten: written, completed: complete)
    }

    // MARK: Body-streamed requests

    private func openBodyStream(_ stream: HTTP2Stream) -> (any HTTPBodyStreamHandler)? {
        let writer = HTTPStreamWriter(connection: self, streamID: stream.id)
        guard let handler = connection.responder.bodyStreamHandler(for: stream.request(remoteAddress: connection.remoteAddress),
                                                                    writer: writer) else { return nil }
        if drainStarted { handler.drain() }
        return handler
    }

    func streamHead(_ streamID: Int32, _ response: HTTPResponse) {
        guard !isClosed else { return }
        session.streamHead(streamID, response)
        flush()
    }

    func streamData(_ streamID: Int32, _ bytes: [UInt8], whenSent: (@Sendable () -> Void)?) {
        guard !isClosed else { return }
        session.streamData(streamID, bytes, whenSent: whenSent)
        flush()
    }

    func streamFinish(_ streamID: Int32, trailers: HTTPHeaders) {
        guard !isClosed else { return }
        session.streamFinish(streamID, trailers: trailers)
        flush()
    }

    func streamConsumed(_ streamID: Int32, _ count: Int) {
        guard !isClosed else { return }
        session.consumeStream(streamID, count)
        flush()  // a WINDOW_UPDATE to send
    }

    private func report(_ head: HTTPRequestHead, start: ContinuousClock.Instant,
                        response: HTTPResponse, bytesWritten: Int, completed: Bool) {
        connection.onExchange?(HTTPExchange(
            request: head, status: response.status, bytesWritten: bytesWritten,
            duration: .now - start, remoteAddress: connection.remoteAddress,
            responseHeaders: Self.headersAndTrailers(response), completed: completed, protocolVersion: .http2
        ))
    }

    /// The access log sees trailers (gRPC's `grpc-status`) as response fields.
    private static func headersAndTrailers(_ response: HTTPResponse) -> HTTPHeaders {
        guard let trailers = response.trailers else { return response.headers }
        var all = response.headers
        for (name, value) in trailers { all.add(name: name, value: value) }
        return all
    }

    // MARK: Writing

    /// Moves frames from nghttp2 to the socket until `highWater` bytes are in flight, then
    /// decides about reading and closing.
    func flush() {
        guard !isClosed, !flushing else { return }  // a write completing inside the loop re-enters
        flushing = true
        while outstandingBytes < Self.highWater {
            guard let chunk = session.nextOutput(limit: Self.chunkBytes) else {
                logger.debug("nghttp2 failed while sending: closing")
                flushing = false
                connection.close()
                return
            }
            if chunk.isEmpty { break }
            let count = chunk.count
            outstandingBytes += count
            connection.stream.write(chunk) { [self] written in
                outstandingBytes -= count
                if written { flush() }
            }
        }
        flushing = false
        guard !isClosed else { return }
        if outstandingBytes >= Self.highWater {
            if !readingPaused { readingPaused = true; connection.stream.pauseReading() }
        } else if readingPaused, !peerClosed {
            readingPaused = false
            connection.stream.resumeReading()
        }
        if outstandingBytes == 0, !session.wantsRead, !session.wantsWrite {
            // GOAWAY sent and no stream left (drain, idle close or a protocol error).
            logger.debug("HTTP/2 session finished")
            isClosed = true  // nothing more to do here; the connection lingers, then closes
            connection.lingerAndClose()
            return
        }
        // The client sends nothing more: streams still uploading can never complete (a body-streamed one can if
        // its request had ended).
        let completable = session.streams.values.contains { stream in
            stream.state == .streaming ? stream.bodyStream?.requestEnded == true : stream.state != .receiving
        }
        if peerClosed, outstandingBytes == 0, !completable {
            connection.close()
            return
        }
        scheduleDeadline()
    }

    // MARK: Lifecycle

    /// Graceful drain: a shutdown notice now, the final GOAWAY with the last stream id a
    /// moment later; streams up to it are answered, then the session ends by itself.
    func beginDrain() {
        guard !isClosed, !drainStarted else { return }
        drainStarted = true
        // Body-streamed requests answer what they have taken, then end; the final GOAWAY waits for them.
        for stream in session.streams.values { stream.bodyStream?.handler.drain() }
        session.submitShutdownNotice()
        flush()
        connection.queue.asyncAfter(deadline: .now() + Self.shutdownNoticeGrace) { [self] in
            guard !isClosed else { return }
            session.submitGoAway()
            flush()
        }
    }

    func peerClosedInput() {
        logger.debug("peer closed its side")
        peerClosed = true
        flush()
    }

    /// The connection closed (by us or the peer): later completions are dropped.
    func connectionClosed() {
        isClosed = true
        for stream in session.streams.values where stream.response == nil { stream.cancellation.cancel() }
        for stream in session.streams.values {
            if let bodyStream = stream.bodyStream { session.cancelHandler(of: stream, bodyStream) }
        }
    }
}
