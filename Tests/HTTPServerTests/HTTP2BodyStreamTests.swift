import Foundation
import HTTPServer
import Logging
import Synchronization
import XCTest

/// Body-streamed HTTP/2 requests (`HTTPResponder.bodyStreamHandler`) over real sockets: each piece of the body
/// reaches the handler as it arrives and its answer goes out before the request's END_STREAM; the stream idle
/// timeout replaces the body timeouts; the handler's window credit bounds the upload; a drain ends the stream.
final class HTTP2BodyStreamTests: XCTestCase {
    /// Answers every complete line of the body at once with "echo:<line>\n"; ends with the line count in a trailer.
    /// `/hold` consumes nothing (no window credit), to show the upload stops at the stream window.
    final class LineEcho: HTTPBodyStreamHandler {
        struct State {
            var partial: [UInt8] = []
            var lines = 0
            var received = 0
            var events: [String] = []
        }
        let writer: HTTPStreamWriter
        let consumes: Bool
        let state = Mutex(State())

        init(writer: HTTPStreamWriter, consumes: Bool) {
            self.writer = writer
            self.consumes = consumes
            writer.sendHead(HTTPResponse(status: 200, headers: ["content-type": "text/plain"]))
        }

        func received(_ bytes: [UInt8]) {
            if consumes { writer.consumed(bytes.count) }
            let lines: [[UInt8]] = state.withLock { state in
                state.received += bytes.count
                state.partial += bytes
                var lines: [[UInt8]] = []
                while let end = state.partial.firstIndex(of: 0x0A) {
                    lines.append(Array(state.partial[..<end]))
                    state.partial.removeFirst(end + 1)
                }
                state.lines += lines.count
                return lines
            }
            for line in lines { writer.send(Array("echo:".utf8) + line + [0x0A]) }
        }

        func receivedEnd() { end("end") }
        func cancelled() { state.withLock { $0.events.append("cancelled") } }
        func idle() { end("idle") }
        func drain() { end("drain") }

        private func end(_ reason: String) {
            let lines = state.withLock { state in
                state.events.append(reason)
                return state.lines
            }
            writer.finish(trailers: ["x-lines": String(lines), "x-end": reason])
        }
    }

    final class Responder: HTTPResponder {
        let handlers = Mutex<[LineEcho]>([])

        func respond(to request: HTTPRequest, completion: @escaping @Sendable (HTTPResponse) -> Void) {
            completion(.text("whole body of \(request.body.count) bytes"))
        }

        func bodyStreamHandler(for head: HTTPRequest, writer: HTTPStreamWriter) -> (any HTTPBodyStreamHandler)? {
            guard head.path == "/stream" || head.path == "/hold" else { return nil }
            let handler = LineEcho(writer: writer, consumes: head.path == "/stream")
            handlers.withLock { $0.append(handler) }
            return handler
        }
    }

    private var server: HTTPServer?
    private let responder = Responder()

    private func start(streamIdle: Duration = .seconds(5), budget: Int? = nil) throws -> Int {
        var configuration = TestServer.shortTimeouts  // body idle 300 ms, write timeout 300 ms, 64 KiB bodies
        configuration.bodyStreamIdleTimeout = streamIdle
        if let budget { configuration.maxBufferedBodyBytes = budget }
        var logger = Logger(label: "HTTP2BodyStreamTests")
        logger.logLevel = .critical
        let server = HTTPServer(configuration: configuration, responder: responder, logger: logger)
        try server.start()
        self.server = server
        return server.port
    }

    override func tearDown() {
        server?.shutdown()
        server = nil
    }

    func testEachLineIsAnsweredBeforeTheRequestEnds() throws {
        let client = try HTTP2TestClient(port: try start())
        let id = client.submit("POST", "/stream", body: [], openBody: true)
        var expected = ""
        for round in 1...5 {
            client.sendMore(id, Array("line \(round)\n".utf8))
            expected += "echo:line \(round)\n"
            try client.run { client.response(id).text == expected }
            XCTAssertNil(client.response(id).closeCode, "round \(round): the stream is still open")
        }
        XCTAssertEqual(client.response(id).status, 200)
        XCTAssertNil(client.response(id).headers["content-length"])
        // A whole-body request on the same connection meanwhile goes the usual way.
        let plain = client.submit("POST", "/plain", body: Array("abc".utf8))
        try client.run { client.response(plain).closeCode != nil }
        XCTAssertEqual(client.response(plain).text, "whole body of 3 bytes")
        client.sendMore(id, [], end: true)
        try client.runUntilAllClosed()
        XCTAssertEqual(client.response(id).headers["x-lines"], "5")
        XCTAssertEqual(client.response(id).headers["x-end"], "end")
        XCTAssertEqual(client.response(id).closeCode, 0)
    }

    func testAnIdleStreamOutlivesTheBodyTimeoutsAndEndsAtTheStreamIdleTimeout() throws {
        let client = try HTTP2TestClient(port: try start(streamIdle: .seconds(1)))
        let id = client.submit("POST", "/stream", body: Array("a\n".utf8), openBody: true)
        try client.run { client.response(id).text == "echo:a\n" }
        // Three times the 300 ms body idle timeout without a byte: still open.
        Thread.sleep(forTimeInterval: 0.9)
        client.sendMore(id, Array("b\n".utf8))
        try client.run { client.response(id).text == "echo:a\necho:b\n" }
        XCTAssertNil(client.response(id).closeCode)
        let start = Date()
        try client.run(timeout: 3) { client.response(id).closeCode != nil }
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertEqual(client.response(id).headers["x-end"], "idle")
        XCTAssertEqual(client.response(id).headers["x-lines"], "2")
        XCTAssertGreaterThan(elapsed, 0.8, "ended at the 1 s stream idle timeout, not a body timeout")
        XCTAssertEqual(client.response(id).closeCode, 0, "trailers, then RST_STREAM(NO_ERROR) for the open upload")
    }

    func testAHandlerThatConsumesNothingStopsTheUploadAtTheStreamWindow() throws {
        let client = try HTTP2TestClient(port: try start())
        let big = [UInt8](repeating: 0x41, count: 300_000)
        let held = client.submit("POST", "/hold", body: big, openBody: true)
        let flowing = client.submit("POST", "/stream", body: big + [0x0A], openBody: true)
        try client.run { client.response(flowing).body.count == 5 + big.count + 1 }  // the consuming stream took 300 KB
        try? client.run(timeout: 0.3) { false }
        // The stream window is the 64 KiB body limit + 16 KiB: no more of /hold's body gets through, on either side.
        let handlers = responder.handlers.withLock { $0 }
        let received = try XCTUnwrap(handlers.first { !$0.consumes }).state.withLock { $0.received }
        XCTAssertLessThanOrEqual(received, 65_536 + 16_384, "the held stream got no more than its window")
        XCTAssertGreaterThan(received, 60_000)
        XCTAssertLessThanOrEqual(client.uploaded(held), 65_536 + 16_384)
        XCTAssertNil(client.response(held).closeCode, "held, not reset")
        // The bytes the handler holds unconsumed are in the server's body budget until the stream ends.
        XCTAssertTrue(eventually { self.server?.bodyBudget.inUse == received }, "\(String(describing: server?.bodyBudget.inUse)) in the budget")
        client.resetStream(held)
        try client.run { client.response(held).closeCode != nil }
        XCTAssertTrue(eventually { self.server?.bodyBudget.inUse == 0 })
    }

    func testUnconsumedBytesPastTheBodyBudgetResetTheStream() throws {
        let client = try HTTP2TestClient(port: try start(budget: 20_000))
        let held = client.submit("POST", "/hold", body: [UInt8](repeating: 0x41, count: 50_000), openBody: true)
        try client.run { client.response(held).closeCode != nil }
        XCTAssertEqual(client.response(held).closeCode, 0xB, "RST_STREAM(ENHANCE_YOUR_CALM)")
        let handler = try XCTUnwrap(responder.handlers.withLock { $0.first })
        XCTAssertLessThanOrEqual(handler.state.withLock { $0.received }, 20_000)
        XCTAssertTrue(eventually { handler.state.withLock { $0.events } == ["cancelled"] })
        XCTAssertTrue(eventually { self.server?.bodyBudget.inUse == 0 }, "given back when the stream closed")
        // The connection goes on.
        let plain = client.submit("POST", "/plain", body: Array("abc".utf8))
        try client.run { client.response(plain).closeCode != nil }
        XCTAssertEqual(client.response(plain).text, "whole body of 3 bytes")
    }

    func testDrainEndsAnOpenStreamThroughItsHandlerThenGoAway() throws {
        let client = try HTTP2TestClient(port: try start())
        let id = client.submit("POST", "/stream", body: Array("x\n".utf8), openBody: true)
        try client.run { client.response(id).text == "echo:x\n" }
        let drained = Mutex(false)
        server?.drain(timeout: .seconds(5)) { drained.withLock { $0 = true } }
        try client.run { client.response(id).closeCode != nil }
        XCTAssertEqual(client.response(id).headers["x-end"], "drain")
        XCTAssertTrue(client.runUntilClosed(), "the connection closes once the stream ended")
        XCTAssertEqual(client.goAways.last?.code, 0)
        XCTAssertTrue(eventually { drained.withLock { $0 } })
    }

    func testAnswersTheClientsWindowHoldsBackPastTheWriteTimeoutResetTheStream() throws {
        let port = try start()
        let client = try HTTP2TestClient(port: port, initialWindow: 0)  // no DATA may reach it
        let id = client.submit("POST", "/stream", body: Array("held\n".utf8), openBody: true)
        let start = Date()
        try client.run { client.response(id).closeCode != nil }
        XCTAssertEqual(client.response(id).closeCode, 0x8, "RST_STREAM(CANCEL) after the 300 ms write timeout")
        XCTAssertGreaterThan(Date().timeIntervalSince(start), 0.25)
        XCTAssertTrue(client.response(id).body.isEmpty)
        let handler = try XCTUnwrap(responder.handlers.withLock { $0.first })
        XCTAssertTrue(eventually { handler.state.withLock { $0.events } == ["cancelled"] })
    }

    func testAResetStreamCancelsItsHandler() throws {
        let client = try HTTP2TestClient(port: try start())
        let id = client.submit("POST", "/stream", body: Array("y\n".utf8), openBody: true)
        try client.run { client.response(id).text == "echo:y\n" }
        client.resetStream(id)
        try client.run { client.response(id).closeCode != nil }
        let handler = try XCTUnwrap(responder.handlers.withLock { $0.first })
        XCTAssertTrue(eventually { handler.state.withLock { $0.events } == ["cancelled"] })
    }
}
