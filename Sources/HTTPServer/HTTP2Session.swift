import CNGHTTP2

/// The server side of one HTTP/2 connection in libnghttp2: bytes in, complete requests and
/// bytes to send out. No socket and no clock of its own, so tests and fuzzers drive it
/// directly (`HTTP2FrameDriver`). Used only on its owner's serial queue.
///
/// nghttp2 calls back through C function pointers; their `user_data` is this object, unretained
/// (the session is deleted in `deinit`, so it never outlives it). No global state.
final class HTTP2Session {
    struct Limits {
        var maxConcurrentStreams: Int
        /// Per stream, as RFC 9113 §6.5.2 counts it; more → 431 on that stream.
        var maxHeaderListBytes: Int
        var maxHeaderCount: Int
        /// Per stream; more → 413 on that stream.
        var maxBodyBytes: Int
        var serverName: String

        init(_ configuration: HTTPServerConfiguration) {
            maxConcurrentStreams = configuration.http2MaxConcurrentStreams
            maxHeaderListBytes = configuration.maxHeaderBytes
            maxHeaderCount = configuration.maxHeaderCount
            maxBodyBytes = configuration.maxBodyBytes
            serverName = configuration.serverName
        }

        /// Flow-control window, stream and connection: the largest allowed body fits in one
        /// window, so an upload never waits for a WINDOW_UPDATE round trip; 16 KiB more, so that a body-streamed
        /// message of that size with its framing (gRPC's 5-byte prefix) fits too while its handler holds it unconsumed.
        var window: Int32 { Int32(clamping: max(65_535, maxBodyBytes + 16 * 1024)) }
    }

    let limits: Limits
    let session: OpaquePointer
    private(set) var streams: [Int32: HTTP2Stream] = [:]
    /// Streams whose request is complete, handed to `onRequest` once `receive` returns
    /// (never from inside an nghttp2 callback: a responder may answer at once).
    private var ready: [HTTP2Stream] = []
    /// Streams refused by a limit, answered once `receive` returns.
    private var refused: [HTTP2Stream] = []

    /// A stream's request is complete; answer with `respond(to:with:)`.
    var onRequest: ((HTTP2Stream) -> Void)?
    /// nghttp2 closed a stream: its response was sent (or not), with the RST_STREAM or GOAWAY code.
    var onStreamClosed: ((HTTP2Stream, _ errorCode: UInt32) -> Void)?
    /// The responder's refusal of a request from its head, asked when a body is to follow (`HTTPResponder.admit`).
    var admit: ((HTTP2Stream) -> HTTPResponse?)?
    /// The handler of a request whose body is to be streamed to it, asked once the head is admitted
    /// (`HTTPResponder.bodyStreamHandler`); nil keeps the whole-body path.
    var openBodyStream: ((HTTP2Stream) -> (any HTTPBodyStreamHandler)?)?
    /// The responder's form of a refusal for a broken limit (`HTTPResponder.limitRefusal`).
    var adaptRefusal: ((HTTP2Stream, HTTPResponse) -> HTTPResponse)?
    var now: () -> ContinuousClock.Instant = { .now }

    let bodyBudget: RequestBodyBudget

    init(limits: Limits, bodyBudget: RequestBodyBudget) throws(HTTP2SessionError) {
        self.limits = limits
        self.bodyBudget = bodyBudget
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else {
            throw HTTP2SessionError(message: "nghttp2_session_callbacks_new failed")
        }
        defer { nghttp2_session_callbacks_del(callbacks) }
        Self.install(callbacks)
        // Window credit is given as the application takes received bytes (`nghttp2_session_consume`): at once for a
        // whole-body request, when its handler has taken them for a body-streamed one (so that a client that does
        // not read its answers cannot make the server buffer requests without bound).
        var option: OpaquePointer?
        guard nghttp2_option_new(&option) == 0, let option else { throw HTTP2SessionError(message: "nghttp2_option_new failed") }
        defer { nghttp2_option_del(option) }
        nghttp2_option_set_no_auto_window_update(option, 1)
        var created: OpaquePointer?
        guard nghttp2_session_server_new2(&created, callbacks, nil, option) == 0, let created else {
            throw HTTP2SessionError(message: "nghttp2_session_server_new failed")
        }
        session = created
        nghttp2_session_set_user_data(session, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        nghttp2_session_del(session)
        for stream in streams.values { bodyBudget.release(stream.reservedBody + (stream.bodyStream?.reserved ?? 0)) }
    }

    /// Queues the server's SETTINGS (the first frame it must send) and opens the connection
    /// window. For an upgraded connection call `upgrade` first.
    func start() throws(HTTP2SessionError) {
        var settings = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                                   value: UInt32(clamping: limits.maxConcurrentStreams)),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                                   value: UInt32(limits.window)),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
                                   value: UInt32(clamping: limits.maxHeaderListBytes)),
        ]
        guard nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count) == 0,
              nghttp2_session_set_local_window_size(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, limits.window) == 0
        else { throw HTTP2SessionError(message: "cannot submit SETTINGS") }
    }

    /// Takes over an HTTP/1.1 request that asked for `Upgrade: h2c` (RFC 7540 §3.2): its
    /// decoded HTTP2-Settings are applied and it becomes stream 1, half-closed, whose
    /// response the caller submits like any other.
    func upgrade(settings: [UInt8], request: HTTPRequest) throws(HTTP2SessionError) -> HTTP2Stream {
        let rc = settings.withUnsafeBufferPointer { payload in
            nghttp2_session_upgrade2(session, payload.baseAddress, payload.count, request.method == "HEAD" ? 1 : 0, nil)
        }
        guard rc == 0 else { throw HTTP2SessionError(message: "bad HTTP2-Settings (\(Self.describe(rc)))") }
        let stream = HTTP2Stream(id: 1, now: request.receivedAt, cancellation: request.cancellation)
        stream.method = request.method
        stream.path = request.target
        stream.headers = request.headers
        stream.head = request.head
        stream.head.version = .http2
        stream.body = request.body
        stream.headersComplete = true
        stream.state = .responding
        streams[1] = stream
        return stream
    }

    /// Feeds bytes read from the peer. Returns false when the connection cannot go on: a
    /// GOAWAY with the error's code is then queued, to be sent before closing.
    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let rc = bytes.withMemoryRebound(to: UInt8.self) { nghttp2_session_mem_recv(session, $0.baseAddress, $0.count) }
        deliver()
        guard rc >= 0 else {
            // nghttp2 queued a GOAWAY itself for most connection errors; a bad preface or a
            // flood gets one here (terminate does nothing if a GOAWAY is already on its way).
            let code = Int32(rc) == NGHTTP2_ERR_FLOODED.rawValue || calmDown ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR
            nghttp2_session_terminate_session(session, code.rawValue)
            return false
        }
        return true
    }

    /// Hands completed requests to `onRequest` and answers refused streams.
    private func deliver() {
        while !refused.isEmpty || !ready.isEmpty {
            let refusedNow = refused, readyNow = ready
            refused = []
            ready = []
            for stream in refusedNow {
                guard let refusal = stream.refusal, stream.response == nil else { continue }
                submit(adaptRefusal?(stream, refusal) ?? refusal, on: stream)
            }
            for stream in readyNow { onRequest?(stream) }
        }
    }

    /// Up to about `limit` bytes of frames to send (empty when nothing is pending).
    /// Returns nil on a fatal error (the connection must close).
    func nextOutput(limit: Int) -> [UInt8]? {
        var output: [UInt8] = []
        while output.count < limit {
            var data: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(session, &data)
            if count < 0 { return nil }
            guard count > 0, let data else { break }
            output.append(contentsOf: UnsafeBufferPointer(start: data, count: count))
        }
        return output
    }

    /// Submits `response` on `stream` if it still waits for one; false if it does not (reset
    /// or closed meanwhile).
    @discardableResult
    func respond(to streamID: Int32, with response: HTTPResponse) -> Bool {
        guard let stream = streams[streamID], stream.response == nil else { return false }
        submit(response, on: stream)
        return true
    }

    private func submit(_ response: HTTPResponse, on stream: HTTP2Stream) {
        let (fields, body) = HTTP2ResponseFields.make(response, requestMethod: stream.method,
                                                      serverName: limits.serverName, date: HTTPDate.now())
        stream.response = response
        stream.responseBody = body
        stream.state = .sending
        stream.lastActivity = now()
        // No body but trailers: one HEADERS frame with both that ends the stream (gRPC's Trailers-Only).
        let trailersOnly = body.isEmpty && response.trailers.map { !$0.isEmpty } == true
        let allFields = trailersOnly ? fields + HTTP2ResponseFields.trailerFields(response.trailers ?? [:]) : fields
        let rc = HTTP2ResponseFields.withNameValuePairs(allFields) { pairs in
            guard !body.isEmpty || (response.trailers != nil && !trailersOnly) else {
                return nghttp2_submit_response(session, stream.id, pairs.baseAddress, pairs.count, nil)
            }
            var provider = nghttp2_data_provider(source: nghttp2_data_source(ptr: nil), read_callback: Self.readBody)
            return nghttp2_submit_response(session, stream.id, pairs.baseAddress, pairs.count, &provider)
        }
        if rc != 0 { nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream.id, NGHTTP2_INTERNAL_ERROR.rawValue) }
    }

    var wantsRead: Bool { nghttp2_session_want_read(session) != 0 }
    var wantsWrite: Bool { nghttp2_session_want_write(session) != 0 }
    /// Streams open in nghttp2 (ours plus any it is still closing).
    var openStreamCount: Int { streams.count }

    /// First step of a graceful shutdown: a GOAWAY with the largest stream id, so that the
    /// client stops opening streams while those already on their way are still taken.
    func submitShutdownNotice() {
        nghttp2_submit_shutdown_notice(session)
    }

    /// The final GOAWAY(NO_ERROR) with the last stream this server has seen: streams up to it
    /// are answered, later ones are the client's to retry.
    func submitGoAway() {
        nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nghttp2_session_get_last_proc_stream_id(session),
                              NGHTTP2_NO_ERROR.rawValue, nil, 0)
    }

    /// GOAWAY with `code`, then nothing more is read or started.
    func terminate(_ code: nghttp2_error_code) {
        nghttp2_session_terminate_session(session, code.rawValue)
    }

    /// Cancels one stream with RST_STREAM (e.g. a body that stalled); the others go on.
    func reset(_ streamID: Int32, code: nghttp2_error_code) {
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, code.rawValue)
    }

    static func describe(_ code: some BinaryInteger) -> String {
        String(cString: nghttp2_strerror(Int32(clamping: code)))
    }

    // MARK: Events (called from the C callbacks in HTTP2Session+Callbacks.swift)

    func beginHeaders(streamID: Int32) {
        streams[streamID] = HTTP2Stream(id: streamID, now: now())
    }

    /// One header field. False when the stream is to be reset at once (RST_STREAM): its header list has
    /// gone far past the limits, and every further field would be decoded and checked for nothing. Up to
    /// twice the limits, an oversized list is still read to its end and answered 431.
    func header(streamID: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> Bool {
        // Trailer fields (a second header block) are read and dropped, like HTTP/1.1's.
        guard let stream = streams[streamID], !stream.headersComplete else { return true }
        stream.lastActivity = now()
        stream.headerListBytes += name.count + value.count + 32
        stream.headerFieldCount += 1
        if stream.refusal != nil {
            return stream.headerListBytes <= 2 * limits.maxHeaderListBytes && stream.headerFieldCount <= 2 * limits.maxHeaderCount
        }
        if stream.headerListBytes > limits.maxHeaderListBytes || stream.headers.count >= limits.maxHeaderCount {
            stream.refusal = .error(status: 431, message: "header list exceeds \(limits.maxHeaderListBytes) bytes or \(limits.maxHeaderCount) fields")
            stream.headers = HTTPHeaders()
            return true
        }
        let nameText = String(decoding: name, as: UTF8.self), valueText = String(decoding: value, as: UTF8.self)
        switch nameText {
        case ":method": stream.method = valueText
        case ":path": stream.path = valueText
        case ":scheme": stream.scheme = valueText
        case ":authority": stream.authority = valueText
        default: stream.headers.add(name: nameText, value: valueText)
        }
        return true
    }

    /// A stream was reset for its header list (`header` returned false). A client that keeps sending such
    /// lists gets GOAWAY(ENHANCE_YOUR_CALM) after `maxOversizedHeaderLists`: each costs the server up to
    /// twice the header limits of decoding, for a few bytes on the wire (HPACK references).
    /// Returns false when the connection is to end.
    func headerListReset() -> Bool {
        oversizedHeaderLists += 1
        return oversizedHeaderLists <= Self.maxOversizedHeaderLists
    }

    static let maxOversizedHeaderLists = 8
    private(set) var oversizedHeaderLists = 0
    /// Set when a callback ended the connection for abuse: the GOAWAY says ENHANCE_YOUR_CALM.
    var calmDown = false

    func headersReceived(streamID: Int32, endStream: Bool) {
        guard let stream = streams[streamID] else { return }
        if !stream.headersComplete {
            stream.headersComplete = true
            stream.headersCompletedAt = now()
            // A declared length over the limit is refused before any body byte.
            if stream.refusal == nil, let length = stream.headers["content-length"].flatMap(Int.init), length > limits.maxBodyBytes {
                stream.refusal = .error(status: 413, message: "request body exceeds \(limits.maxBodyBytes) bytes")
            }
            // A body follows: the responder may refuse the request from its head (authentication,
            // route, method) before any of it is taken into memory or the body budget.
            if stream.refusal == nil, !endStream, let refusal = admit?(stream) { stream.refusal = refusal }
            if stream.refusal == nil, !endStream, let handler = openBodyStream?(stream) {
                stream.bodyStream = HTTP2BodyStream(handler: handler, now: now())
                stream.state = .streaming
                return
            }
        }
        endOfHeadersOrData(stream, endStream: endStream)
    }

    func dataReceived(streamID: Int32, endStream: Bool) {
        guard let stream = streams[streamID] else { return }
        endOfHeadersOrData(stream, endStream: endStream)
    }

    private func endOfHeadersOrData(_ stream: HTTP2Stream, endStream: Bool) {
        stream.lastActivity = now()
        if let bodyStream = stream.bodyStream {
            if endStream, !bodyStream.requestEnded {
                bodyStream.requestEnded = true
                if !bodyStream.finished { bodyStream.handler.receivedEnd() }
            }
            return
        }
        if stream.refusal != nil {
            if stream.response == nil, !refused.contains(where: { $0 === stream }) {
                stream.resetAfterResponse = !endStream
                refused.append(stream)
            }
            return
        }
        guard endStream, case .receiving = stream.state else { return }
        stream.state = .responding
        ready.append(stream)
    }

    func dataChunk(streamID: Int32, _ data: UnsafeBufferPointer<UInt8>) {
        guard let stream = streams[streamID], let bodyStream = stream.bodyStream else {
            // A whole-body request (or a closed stream): the bytes are taken (or dropped) now.
            nghttp2_session_consume(session, streamID, data.count)
            if let stream = streams[streamID] { wholeBodyChunk(stream, data) }
            return
        }
        // The connection's window opens at once, so that other streams go on; this stream's when its handler
        // has taken the bytes (`consumeStream`).
        nghttp2_session_consume_connection(session, data.count)
        bodyStream.lastActivity = now()
        guard !bodyStream.finished, !bodyStream.handlerCancelled else { return }
        // Bytes the handler has not consumed count in the body budget like a whole body's. Past it the stream is
        // reset with ENHANCE_YOUR_CALM (gRPC clients read it as RESOURCE_EXHAUSTED): its head is already out.
        guard bodyBudget.reserve(data.count) else {
            cancelHandler(of: stream, bodyStream)
            reset(streamID, code: NGHTTP2_ENHANCE_YOUR_CALM)
            return
        }
        bodyStream.reserved += data.count
        bodyStream.handler.received(Array(data))
    }

    private func wholeBodyChunk(_ stream: HTTP2Stream, _ data: UnsafeBufferPointer<UInt8>) {
        stream.lastActivity = now()
        guard stream.refusal == nil else { return }  // dropped: its 413 is on its way
        guard stream.body.count + data.count <= limits.maxBodyBytes else {
            stream.refusal = .error(status: 413, message: "request body exceeds \(limits.maxBodyBytes) bytes")
            dropBody(of: stream)
            return
        }
        guard bodyBudget.reserve(data.count) else {
            var refusal = HTTPResponse.error(status: 503, message: RequestBodyBudget.refusalMessage)
            refusal.headers.replace(name: "Retry-After", value: "1")
            stream.refusal = refusal
            dropBody(of: stream)
            return
        }
        stream.reservedBody += data.count
        stream.body.append(contentsOf: data)
    }

    /// At the end of a body: submits the response's trailers, if it has any, so that the stream ends with
    /// them instead of with the last DATA frame. Returns whether it did.
    func submitTrailers(streamID: Int32) -> Bool {
        guard let stream = streams[streamID], let trailers = stream.response?.trailers else { return false }
        let rc = HTTP2ResponseFields.withNameValuePairs(HTTP2ResponseFields.trailerFields(trailers)) { pairs in
            nghttp2_submit_trailer(session, streamID, pairs.baseAddress, pairs.count)
        }
        return rc == 0
    }

    func endStreamSent(streamID: Int32) {
        guard let stream = streams[streamID], stream.resetAfterResponse else { return }
        // The answer is complete; tell the client to stop uploading (RFC 9113 §8.1).
        if nghttp2_session_get_stream_remote_close(session, streamID) == 0 {
            reset(streamID, code: NGHTTP2_NO_ERROR)
        }
    }

    func dropBody(of stream: HTTP2Stream) {
        stream.body = []
        bodyBudget.release(stream.reservedBody + (stream.bodyStream?.reserved ?? 0))
        stream.reservedBody = 0
        stream.bodyStream?.reserved = 0
    }

    func streamClosed(streamID: Int32, errorCode: UInt32) {
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        if stream.response == nil { stream.cancellation.cancel() }  // reset before its answer: nobody will read it
        if let bodyStream = stream.bodyStream { cancelHandler(of: stream, bodyStream) }
        dropBody(of: stream)
        onStreamClosed?(stream, errorCode)
    }

    /// nghttp2 asks for the next piece of `streamID`'s response body: nil when there is none (a body-streamed
    /// answer not ready yet: `deferred`, resumed by `streamData`).
    func bodyBytes(streamID: Int32, into buffer: UnsafeMutableRawBufferPointer) -> (count: Int, end: Bool)? {
        guard let stream = streams[streamID] else { return nil }
        stream.lastActivity = now()  // progress: the client's flow-control window let more through
        guard let bodyStream = stream.bodyStream else { return stream.nextBodyBytes(into: buffer) }
        guard let next = bodyStream.next(into: buffer, now: now()) else {
            bodyStream.deferred = true
            return nil
        }
        return next
    }

    // MARK: Body-streamed requests (HTTPStreamWriter's calls, on the owner's queue)

    /// The handler hears once that its stream is gone, unless it had finished; so does the request's cancellation.
    func cancelHandler(of stream: HTTP2Stream, _ bodyStream: HTTP2BodyStream) {
        guard !bodyStream.handlerCancelled else { return }
        bodyStream.handlerCancelled = true
        if !bodyStream.finished {
            stream.cancellation.cancel()
            bodyStream.handler.cancelled()
        }
    }

    /// Submits the head of a body-streamed answer; its DATA comes from `bodyBytes` as it is queued.
    func streamHead(_ streamID: Int32, _ head: HTTPResponse) {
        guard let stream = streams[streamID], let bodyStream = stream.bodyStream, !bodyStream.headSent else { return }
        bodyStream.headSent = true
        var response = head
        response.body = []
        response.trailers = response.trailers ?? [:]  // no content-length: the length is not known
        stream.response = response
        stream.lastActivity = now()
        let (fields, _) = HTTP2ResponseFields.make(response, requestMethod: stream.method, serverName: limits.serverName,
                                                   date: HTTPDate.now())
        let rc = HTTP2ResponseFields.withNameValuePairs(fields) { pairs in
            var provider = nghttp2_data_provider(source: nghttp2_data_source(ptr: nil), read_callback: Self.readBody)
            return nghttp2_submit_response(session, streamID, pairs.baseAddress, pairs.count, &provider)
        }
        if rc != 0 { reset(streamID, code: NGHTTP2_INTERNAL_ERROR) }
    }

    func streamData(_ streamID: Int32, _ bytes: [UInt8], whenSent: (@Sendable () -> Void)?) {
        guard let stream = streams[streamID], let bodyStream = stream.bodyStream, !bodyStream.finished else { return }
        if !bodyStream.headSent { streamHead(streamID, HTTPResponse(status: 200)) }
        bodyStream.enqueue(bytes, whenSent: whenSent, now: now())
        resume(bodyStream, streamID)
    }

    func streamFinish(_ streamID: Int32, trailers: HTTPHeaders) {
        guard let stream = streams[streamID], let bodyStream = stream.bodyStream, !bodyStream.finished else { return }
        if !bodyStream.headSent { streamHead(streamID, HTTPResponse(status: 200)) }
        bodyStream.finished = true
        stream.response?.trailers = trailers
        // Still uploading: RST_STREAM(NO_ERROR) once the trailers are out (`endStreamSent`).
        stream.resetAfterResponse = !bodyStream.requestEnded
        resume(bodyStream, streamID)
    }

    func consumeStream(_ streamID: Int32, _ count: Int) {
        guard let bodyStream = streams[streamID]?.bodyStream else { return }
        let released = min(count, bodyStream.reserved)
        bodyStream.reserved -= released
        bodyBudget.release(released)
        nghttp2_session_consume_stream(session, streamID, count)
    }

    private func resume(_ bodyStream: HTTP2BodyStream, _ streamID: Int32) {
        guard bodyStream.deferred else { return }
        bodyStream.deferred = false
        nghttp2_session_resume_data(session, streamID)
    }
}

/// libnghttp2 refused to set up or upgrade a session.
struct HTTP2SessionError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
