import FuzzSupport
import HTTPServer

/// The HTTP/2 server session (libnghttp2 behind `HTTP2FrameDriver`, no socket) on any client byte stream.
/// Control bytes: one picks the limits (the server's defaults or small ones) and whether the client preface is
/// put in front, then a split plan for feeding the stream in pieces. Every request a stream completes must
/// respect the limits; once the session says it is over, it must stay over.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP2Frames(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let control = input.byte()
    var configuration = HTTPServerConfiguration()
    if control & 1 == 1 {
        configuration.maxHeaderBytes = 512
        configuration.maxHeaderCount = 8
        configuration.maxBodyBytes = 1024
        configuration.http2MaxConcurrentStreams = 4
        configuration.maxBufferedBodyBytes = 2048
    }
    let plan = input.splitPlan()
    var stream = Array(input.rest)
    if control & 2 == 0 { stream = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + stream }
    guard let driver = try? HTTP2FrameDriver(configuration: configuration, respond: { request in
        HTTPResponse(status: 200, headers: ["Content-Type": "application/octet-stream"], body: request.body)
    }) else {
        fuzzCheck(false, "the session did not start")
        return 0
    }
    var open = true
    for piece in pieces(of: stream[...], plan: plan) {
        let (_, stillOpen) = driver.feed(Array(piece))
        if !stillOpen { open = false; break }
    }
    if !open {
        // A finished session takes nothing more and sends nothing more.
        let (after, reopened) = driver.feed(Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8))
        fuzzCheck(!reopened && after.isEmpty, "a finished session answered again (\(after.count) bytes)")
    }
    for request in driver.requests {
        fuzzCheck(request.body.count <= configuration.maxBodyBytes,
                  "a request body of \(request.body.count) bytes passed the \(configuration.maxBodyBytes)-byte limit")
        fuzzCheck(request.headers.count <= configuration.maxHeaderCount + 1,  // + Host from :authority
                  "\(request.headers.count) header fields passed the limit of \(configuration.maxHeaderCount)")
        fuzzCheck(!request.method.isEmpty, "a request without a method")
    }
    return 0
}
