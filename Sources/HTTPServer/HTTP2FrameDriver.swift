/// The HTTP/2 frame path without a socket, for fuzz targets and tests: bytes a client sent
/// (preface first) go in, the bytes the server would send come out. Each complete request is
/// answered at once by `respond`, so its response is in the same output. Same session code,
/// limits and error handling as a real connection; only the socket, timers and drain are absent.
public final class HTTP2FrameDriver {
    let session: HTTP2Session
    public private(set) var requests: [HTTPRequest] = []
    /// What the handlers of body-streamed requests asked for, applied after the bytes that led to it were taken,
    /// as a real connection applies its `HTTPStreamWriter` calls on its queue, outside libnghttp2's callbacks.
    private var pending: [(HTTP2Session) -> Void] = []

    /// `streamBody`, if given, is asked for each request whose body is to follow, as `HTTPResponder.bodyStreamHandler`
    /// is; the handler it returns gets the body as it arrives and answers through the `HTTP2FrameDriver.StreamWriter`.
    /// `bodyBudget` is the body budget the session reserves in (by default one of `configuration`'s size).
    public init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(), bodyBudget: RequestBodyBudget? = nil,
                respond: @escaping (HTTPRequest) -> HTTPResponse,
                streamBody: ((HTTPRequest, StreamWriter) -> (any HTTPBodyStreamHandler)?)? = nil) throws {
        session = try HTTP2Session(limits: HTTP2Session.Limits(configuration),
                                   bodyBudget: bodyBudget ?? RequestBodyBudget(limit: configuration.maxBufferedBodyBytes))
        try session.start()
        session.onRequest = { [unowned session, unowned self] stream in
            let request = stream.request(remoteAddress: "fuzz")
            requests.append(request)
            session.respond(to: stream.id, with: respond(request))
        }
        if let streamBody {
            session.openBodyStream = { [unowned self] stream in
                streamBody(stream.request(remoteAddress: "fuzz"), StreamWriter(driver: self, streamID: stream.id))
            }
        }
    }

    /// Feeds `bytes` and returns what the server sends in answer; `isOpen` is false once the
    /// session is over (GOAWAY sent after an error, or nothing more to read or write).
    public func feed(_ bytes: [UInt8]) -> (output: [UInt8], isOpen: Bool) {
        let accepted = bytes.withUnsafeBytes { session.receive($0) }
        guard var output = session.nextOutput(limit: .max) else { return ([], false) }
        // Writer calls made while taking the bytes or sending (a stream closed: `cancelled`), each round's output in
        // turn; after a few rounds the calls still pending wait for the next `feed`, as a queue interleaves them with reads.
        for _ in 0..<8 where !pending.isEmpty {
            let calls = pending
            pending = []
            for call in calls { call(session) }
            guard let more = session.nextOutput(limit: .max) else { return (output, false) }
            output += more
        }
        return (output, accepted && (session.wantsRead || session.wantsWrite))
    }

    /// A body-streamed request's answer, as `HTTPStreamWriter` sends it on a real connection.
    public final class StreamWriter {
        private weak var driver: HTTP2FrameDriver?
        private let streamID: Int32

        init(driver: HTTP2FrameDriver, streamID: Int32) {
            self.driver = driver
            self.streamID = streamID
        }

        public func sendHead(_ response: HTTPResponse) { later { [streamID] in $0.streamHead(streamID, response) } }
        public func send(_ bytes: [UInt8]) { later { [streamID] in $0.streamData(streamID, bytes, whenSent: nil) } }
        public func finish(trailers: HTTPHeaders) { later { [streamID] in $0.streamFinish(streamID, trailers: trailers) } }
        public func consumed(_ count: Int) { later { [streamID] in $0.consumeStream(streamID, count) } }

        private func later(_ call: @escaping (HTTP2Session) -> Void) { driver?.pending.append(call) }
    }
}
