import HTTPServer
import XCTest

/// The socket-less HTTP/2 path a fuzz target drives: bytes in, bytes out.
final class HTTP2FrameDriverTests: XCTestCase {
    private func driver() throws -> HTTP2FrameDriver {
        try HTTP2FrameDriver(configuration: TestServer.shortTimeouts) { request in
            .text("\(request.method) \(request.path) \(request.headers["Host"] ?? "-") \(request.version)")
        }
    }

    func testARequestFedAsBytesIsAnsweredInTheOutput() throws {
        let driver = try driver()
        let (output, isOpen) = driver.feed(HTTP2Frames.preface + HTTP2Frames.frame(HTTP2Frames.Kind.settings.rawValue)
                                           + HTTP2Frames.get("/a?b=c", stream: 1))
        XCTAssertTrue(isOpen)
        let frames = HTTP2Frames.parse(output)
        XCTAssertEqual(frames.first?.type, HTTP2Frames.Kind.settings.rawValue)
        XCTAssertTrue(frames.contains { $0.type == HTTP2Frames.Kind.headers.rawValue && $0.streamID == 1 })
        let data = frames.filter { $0.type == HTTP2Frames.Kind.data.rawValue && $0.streamID == 1 }
        XCTAssertEqual(String(decoding: data.flatMap(\.payload), as: UTF8.self), "GET /a test HTTP/2")
        XCTAssertEqual(data.last?.flags ?? 0 & 0x1, 0x1, "END_STREAM")
        XCTAssertEqual(driver.requests.map(\.target), ["/a?b=c"])
    }

    func testBytesSplitAnywhereGiveTheSameAnswer() throws {
        let input = HTTP2Frames.preface + HTTP2Frames.frame(HTTP2Frames.Kind.settings.rawValue)
            + HTTP2Frames.get("/x", stream: 1) + HTTP2Frames.get("/y", stream: 3)
        for split in stride(from: 1, to: input.count, by: 7) {
            let driver = try driver()
            var output = driver.feed(Array(input[..<split])).output
            output += driver.feed(Array(input[split...])).output
            XCTAssertEqual(driver.requests.map(\.path), ["/x", "/y"], "split at \(split)")
            let bodies = HTTP2Frames.parse(output).filter { $0.type == HTTP2Frames.Kind.data.rawValue }
            XCTAssertEqual(bodies.count, 2, "split at \(split)")
        }
    }

    /// A small seeded fuzz run of the same entry point: random frames after the preface never
    /// crash the session, and whatever it answers is whole frames.
    func testRandomFramesAfterThePrefaceAreHandled() throws {
        var generator = SplitMix64(state: 9)
        for _ in 0..<300 {
            let driver = try driver()
            var input = HTTP2Frames.preface + HTTP2Frames.frame(HTTP2Frames.Kind.settings.rawValue)
            for _ in 0..<Int(generator.next() % 4 + 1) {
                let type = UInt8(generator.next() % 10), flags = UInt8(generator.next() % 256)
                let stream = UInt32(generator.next() % 4) * 2 + 1
                let payload = (0..<Int(generator.next() % 40)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                input += generator.next() % 3 == 0 ? HTTP2Frames.get("/r", stream: stream)
                    : HTTP2Frames.frame(type, flags: flags, stream: stream, payload)
            }
            let (output, _) = driver.feed(input)
            let frames = HTTP2Frames.parse(output)
            XCTAssertEqual(frames.reduce(0) { $0 + 9 + $1.payload.count }, output.count, "output is whole frames")
        }
    }

    func testAProtocolErrorEndsTheSessionWithGoAway() throws {
        let driver = try driver()
        let (output, isOpen) = driver.feed(HTTP2Frames.preface + HTTP2Frames.frame(HTTP2Frames.Kind.data.rawValue, stream: 0, [0]))
        XCTAssertFalse(isOpen)
        XCTAssertEqual(HTTP2Frames.parse(output).compactMap(\.goAway).last?.code, 0x1)
        // A wrong preface is an error too (the socket path only gets here with a right one).
        let other = try self.driver()
        let wrong = other.feed(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        XCTAssertFalse(wrong.isOpen)
    }

    /// A body streamed to a handler (as gRPC's are): its bytes reach the handler as DATA arrives, the answer goes out
    /// before the client ends its side, and the body budget is whole again once the session is gone.
    func testAStreamedBodyIsAnsweredAsItArrivesAndGivesItsBudgetBack() throws {
        let budget = RequestBodyBudget(limit: 1 << 16)
        var output: [UInt8] = []
        let echo = Echo()
        do {
            let driver = try HTTP2FrameDriver(configuration: TestServer.shortTimeouts, bodyBudget: budget,
                                              respond: { _ in .text("whole") },
                                              streamBody: { request, writer in
                                                  echo.path = request.path
                                                  echo.writer = writer
                                                  return echo
                                              })
            output += driver.feed(HTTP2Frames.preface + HTTP2Frames.frame(HTTP2Frames.Kind.settings.rawValue)
                                  + HTTP2Frames.post("/s", stream: 1)
                                  + HTTP2Frames.frame(HTTP2Frames.Kind.data.rawValue, stream: 1, Array("ab".utf8))).output
            let early = HTTP2Frames.parse(output).filter { $0.type == HTTP2Frames.Kind.data.rawValue && $0.streamID == 1 }
            XCTAssertEqual(early.flatMap(\.payload), Array("ab".utf8), "echoed before the client ended its side")
            XCTAssertEqual(budget.inUse, 0, "the handler consumed what it took")
            output += driver.feed(HTTP2Frames.frame(HTTP2Frames.Kind.data.rawValue, flags: 0x1, stream: 1, Array("c".utf8))).output
            XCTAssertTrue(driver.requests.isEmpty, "a streamed request does not go to `respond`")
        }
        XCTAssertEqual(echo.calls, ["received ab", "received c", "end"])
        XCTAssertEqual(echo.path, "/s")
        let frames = HTTP2Frames.parse(output).filter { $0.streamID == 1 }
        XCTAssertEqual(frames.filter { $0.type == HTTP2Frames.Kind.data.rawValue }.flatMap(\.payload), Array("abc".utf8))
        let trailers = try XCTUnwrap(frames.last, "the stream's last frame")
        XCTAssertEqual(trailers.type, HTTP2Frames.Kind.headers.rawValue, "trailers end the stream")
        XCTAssertEqual(trailers.flags & 0x1, 0x1, "END_STREAM")
        XCTAssertEqual(budget.inUse, 0)
    }

    private final class Echo: HTTPBodyStreamHandler, @unchecked Sendable {  // one test, one thread
        var writer: HTTP2FrameDriver.StreamWriter?
        var path = "", calls: [String] = []
        func received(_ bytes: [UInt8]) {
            calls.append("received \(String(decoding: bytes, as: UTF8.self))")
            writer?.send(bytes)
            writer?.consumed(bytes.count)
        }
        func receivedEnd() {
            calls.append("end")
            writer?.finish(trailers: ["grpc-status": "0"])
        }
        func cancelled() { calls.append("cancelled") }
        func idle() {}
        func drain() {}
    }
}
