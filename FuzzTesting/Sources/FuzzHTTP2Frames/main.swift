import FuzzSupport
import HTTPServer

/// The HTTP/2 server session (libnghttp2 behind `HTTP2FrameDriver`, no socket) on any client byte stream.
/// Control bytes: one picks the limits (the server's defaults or small ones), whether the client preface is
/// put in front and whether request bodies are streamed to a handler (as gRPC's are) or taken whole; then a
/// split plan for feeding the stream in pieces. Every request a stream completes must respect the limits; once
/// the session says it is over, it must stay over; a streaming handler hears its calls in the documented order;
/// and when the session is gone, every byte it reserved in the body budget is given back.
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
    let budget = RequestBodyBudget(limit: configuration.maxBufferedBodyBytes)
    run(stream, plan: plan, configuration: configuration, budget: budget, streaming: control & 4 == 4)
    fuzzCheck(budget.inUse == 0, "the finished session still holds \(budget.inUse) bytes of the body budget")
    return 0
}

/// One session, gone when this returns.
private func run(_ stream: [UInt8], plan: [Int], configuration: HTTPServerConfiguration,
                 budget: RequestBodyBudget, streaming: Bool) {
    guard let driver = try? HTTP2FrameDriver(configuration: configuration, bodyBudget: budget, respond: { request in
        HTTPResponse(status: 200, headers: ["Content-Type": "application/octet-stream"], body: request.body)
    }, streamBody: streaming ? { _, writer in EchoStream(writer) } : nil) else {
        fuzzCheck(false, "the session did not start")
        return
    }
    var open = true
    for piece in pieces(of: stream[...], plan: plan) {
        let (_, stillOpen) = driver.feed(Array(piece))
        fuzzCheck(budget.inUse <= budget.limit, "\(budget.inUse) bytes held past the body budget of \(budget.limit)")
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
}

/// Echoes a streamed body back as it arrives and ends with trailers, checking the order of its calls
/// (`HTTPBodyStreamHandler`: `received` any number of times, then at most one `receivedEnd`, `cancelled` at most
/// once and last).
private final class EchoStream: HTTPBodyStreamHandler, @unchecked Sendable {  // one fuzz run, one thread
    private let writer: HTTP2FrameDriver.StreamWriter
    private var ended = false, cancelledOnce = false

    init(_ writer: HTTP2FrameDriver.StreamWriter) { self.writer = writer }

    func received(_ bytes: [UInt8]) {
        fuzzCheck(!ended && !cancelledOnce, "body bytes after the end or the cancel of the stream")
        writer.send(bytes)
        writer.consumed(bytes.count)
    }

    func receivedEnd() {
        fuzzCheck(!ended && !cancelledOnce, "a second end, or an end after the cancel")
        ended = true
        writer.finish(trailers: ["grpc-status": "0"])
    }

    func cancelled() {
        fuzzCheck(!cancelledOnce, "cancelled twice")
        cancelledOnce = true
    }

    func idle() {}
    func drain() {}
}
