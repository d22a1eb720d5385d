/// The HTTP/2 frame path without a socket, for fuzz targets and tests: bytes a client sent
/// (preface first) go in, the bytes the server would send come out. Each complete request is
/// answered at once by `respond`, so its response is in the same output. Same session code,
/// limits and error handling as a real connection; only the socket, timers and drain are absent.
public final class HTTP2FrameDriver {
    let session: HTTP2Session
    public private(set) var requests: [HTTPRequest] = []

    public init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(),
                respond: @escaping (HTTPRequest) -> HTTPResponse) throws {
        session = try HTTP2Session(limits: HTTP2Session.Limits(configuration),
                                   bodyBudget: RequestBodyBudget(limit: configuration.maxBufferedBodyBytes))
        try session.start()
        session.onRequest = { [unowned session, unowned self] stream in
            let request = stream.request(remoteAddress: "fuzz")
            requests.append(request)
            session.respond(to: stream.id, with: respond(request))
        }
    }

    /// Feeds `bytes` and returns what the server sends in answer; `isOpen` is false once the
    /// session is over (GOAWAY sent after an error, or nothing more to read or write).
    public func feed(_ bytes: [UInt8]) -> (output: [UInt8], isOpen: Bool) {
        let accepted = bytes.withUnsafeBytes { session.receive($0) }
        guard let output = session.nextOutput(limit: .max) else { return ([], false) }
        return (output, accepted && (session.wantsRead || session.wantsWrite))
    }
}
