import Dispatch
import Foundation
@testable import HTTPServer
import XCTest

/// The attack classes of issue 15 over real sockets: bodies charged as they arrive, the budget of an h2c
/// upgrade, strict chunked framing, and fairness under HTTP/2 floods of cheap frames and HPACK references.
final class HTTPServerHardeningTests: XCTestCase {
    // MARK: Body budget

    /// 32 clients declare 1 MB bodies against a 4 MB budget and send one byte each: they hold 32 bytes, and
    /// honest uploads keep getting 200 (before: the first four reserved everything and the rest got 503).
    func testSlowDeclaredBodiesHoldOnlyWhatTheySent() throws {
        var configuration = TestServer.shortTimeouts
        configuration.maxBodyBytes = 1024 * 1024
        configuration.maxBufferedBodyBytes = 4 * 1024 * 1024
        configuration.bodyIdleTimeout = .seconds(10)
        let server = try TestServer(configuration)
        defer { server.server.shutdown() }
        var slow: [TestClient] = []
        for _ in 0..<32 {
            let client = try server.client()
            try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\nx")
            slow.append(client)
        }
        XCTAssertTrue(eventually { server.server.bodyBudget.inUse == 32 }, "in use: \(server.server.bodyBudget.inUse)")
        let body = String(repeating: "h", count: 10_000)
        for attempt in 0..<5 {
            let honest = try server.client()
            try honest.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let response = try honest.readResponse()
            XCTAssertEqual(response.status, 200, "honest upload \(attempt): \(response.text)")
            XCTAssertEqual(response.body.count, body.utf8.count)
        }
        for client in slow { XCTAssertFalse(client.waitReadable(timeout: 0), "a slow client was answered") }
        XCTAssertEqual(server.server.bodyBudget.inUse, 32)
        slow.forEach { $0.close() }
        XCTAssertTrue(eventually { server.server.bodyBudget.inUse == 0 })
    }

    /// The responder refuses from the head: its answer comes before any body is read, without 100 Continue,
    /// and the refused body takes nothing from the budget.
    func testRefusalFromTheHeadComesBeforeTheBodyAndBefore100Continue() throws {
        let server = try TestServer()
        defer { server.server.shutdown() }
        let client = try server.client()
        try client.send("PUT /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 50000\r\nExpect: 100-continue\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 405, "\(response.status) \(response.text)")
        XCTAssertEqual(response.headers["Connection"], "close")
        XCTAssertEqual(server.server.bodyBudget.inUse, 0)
        let unknown = try server.client()
        try unknown.send("POST /nowhere HTTP/1.1\r\nHost: t\r\nContent-Length: 50000\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertEqual(try unknown.readResponse().status, 404)
        server.assertHealthy()
    }

    /// The same on HTTP/2: a stream whose head is refused is answered at once, its body never awaited.
    func testHTTP2StreamRefusedFromItsHeadIsAnsweredWithoutItsBody() throws {
        let server = try TestServer()
        defer { server.server.shutdown() }
        let client = try HTTP2TestClient(port: server.port)
        let wrongMethod = client.submit("PUT", "/hello", stallBody: true)
        let unknown = client.submit("POST", "/nowhere", stallBody: true)
        try client.run(timeout: 2) { client.response(wrongMethod).status != 0 && client.response(unknown).status != 0 }
        XCTAssertEqual(client.response(wrongMethod).status, 405)
        XCTAssertEqual(client.response(unknown).status, 404)
        XCTAssertEqual(server.server.bodyBudget.inUse, 0)
    }

    // MARK: h2c upgrade

    /// The body of an `Upgrade: h2c` request gives its share back once the responder has it, while the
    /// connection stays open (a client could keep it open forever with PINGs).
    func testH2cUpgradeReleasesItsBodyShare() throws {
        let server = try TestServer()
        defer { server.server.shutdown() }
        let client = try server.client()
        let body = String(repeating: "u", count: 30_000)
        try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                        + "HTTP2-Settings: AAMAAABkAAQAAP__\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        XCTAssertEqual(try client.readLine(), "HTTP/1.1 101 Switching Protocols")
        try client.send(HTTP2Frames.preface + HTTP2Frames.frame(HTTP2Frames.Kind.settings.rawValue))
        for _ in 0..<5 {
            try client.send(HTTP2Frames.frame(HTTP2Frames.Kind.ping.rawValue, [UInt8](repeating: 1, count: 8)))
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertTrue(eventually(timeout: 2) { server.server.bodyBudget.inUse == 0 },
                      "still held with the connection open: \(server.server.bodyBudget.inUse)")
        XCTAssertEqual(server.server.openConnections, 1)
    }

    // MARK: Chunked framing

    /// RFC 9112 §7.1: chunk lines and chunk data end in CRLF; chunk extensions follow their grammar.
    func testChunkedFramingIsStrict() throws {
        let server = try TestServer()
        defer { server.server.shutdown() }
        let head = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        let refused = [
            "bare LF after the size": "5\nhello\r\n0\r\n\r\n",
            "bare LF after the data": "5\r\nhello\n0\r\n\r\n",
            "bare LF after the last chunk": "0\n\r\n",
            "control character in an extension": "5;a=\u{01}\r\nhello\r\n0\r\n\r\n",
            "DEL in an extension": "5;a\u{7F}\r\nhello\r\n0\r\n\r\n",
            "control character in a quoted extension": "5;a=\"x\u{02}\"\r\nhello\r\n0\r\n\r\n",
            "bare CR in an extension": "5;a=b\rc\r\nhello\r\n0\r\n\r\n",
            "extension without a name": "5;=x\r\nhello\r\n0\r\n\r\n",
            "unterminated quoted extension": "5;a=\"x\r\nhello\r\n0\r\n\r\n",
        ]
        for (name, body) in refused {
            let client = try server.client()
            try client.send(head + body)
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 400, "\(name): \(response.text)")
        }
        let client = try server.client()
        try client.send(head + "5 ; name=value ;q=\"a \\\" b\"; flag\r\nhello\r\n0;last\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "hello")
    }

    // MARK: Fairness

    /// Two HTTP/2 connections stream empty DATA frames as fast as loopback allows; `/hello` on a third
    /// connection keeps answering quickly (before: each flooder held a Dispatch worker thread for as long
    /// as its socket was never empty, and with two of them nothing else ran).
    func testHealthStaysFastWhileTwoConnectionsFloodEmptyDataFrames() throws {
        try assertFastUnderFlood(.emptyData)
    }

    /// The same with header blocks of 1-byte HPACK references to a 4 KB value: each reference is a field
    /// of 4 KB to decode and check, past the limits (before: every one was still decoded and passed on).
    func testHealthStaysFastWhileTwoConnectionsFloodHPACKReferences() throws {
        try assertFastUnderFlood(.hpackReferences)
    }

    enum Flood { case emptyData, hpackReferences }

    private func assertFastUnderFlood(_ kind: Flood, file: StaticString = #filePath, line: UInt = #line) throws {
        var configuration = TestServer.shortTimeouts
        configuration.bodyIdleTimeout = .seconds(30)
        configuration.headerReadTimeout = .seconds(30)
        configuration.keepAliveIdleTimeout = .seconds(30)
        let server = try TestServer(configuration)
        defer { server.server.shutdown() }
        // The machine's own noise first (it is shared with other builds): the same probe without an attack.
        let quiet = try Self.probeLatencies(port: server.port, count: 150)
        let stop = Locked(false)
        let sent = Locked(0)
        let group = DispatchGroup()
        for _ in 0..<2 {
            let thread = Thread { Self.flood(kind, port: server.port, stop: stop, sent: sent); group.leave() }
            group.enter()
            thread.start()
        }
        Thread.sleep(forTimeInterval: 0.3)  // the floods are under way
        let latencies = try Self.probeLatencies(port: server.port, count: 300)
        stop.mutex.withLock { $0 = true }
        group.wait()
        let p50 = latencies[latencies.count / 2], p99 = latencies[latencies.count * 99 / 100]
        let quietP99 = quiet[quiet.count * 99 / 100]
        let megabytes = Double(sent.value) / 1e6
        print("flood \(kind): \(String(format: "%.0f", megabytes)) MB sent; /hello p50 \(String(format: "%.2f", p50)) ms, "
              + "p99 \(String(format: "%.2f", p99)) ms, max \(String(format: "%.1f", latencies.last ?? 0)) ms "
              + "(no attack: p99 \(String(format: "%.2f", quietP99)) ms)")
        XCTAssertGreaterThan(megabytes, 1, "the flood did not run", file: file, line: line)
        // The issue's bar, 50 ms, over what the machine's load alone costs the same probe.
        XCTAssertLessThan(p99, 50 + quietP99, "p99 of /hello under the flood", file: file, line: line)
    }

    /// `count` GET /hello on one kept-alive connection, 2 ms apart: their latencies in ms, sorted.
    static func probeLatencies(port: Int, count: Int) throws -> [Double] {
        let probe = try TestClient(port: port, receiveTimeout: 10)
        var latencies: [Double] = []
        for _ in 0..<count {
            let start = ContinuousClock.now
            try probe.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try probe.readResponse()
            latencies.append(milliseconds(ContinuousClock.now - start))
            XCTAssertEqual(response.status, 200)
            Thread.sleep(forTimeInterval: 0.002)
        }
        return latencies.sorted()
    }

    /// One flooding client: reconnects whenever the server closes on it, until `stop`.
    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    private static func flood(_ kind: Flood, port: Int, stop: Locked<Bool>, sent: Locked<Int>) {
        let settings = HTTP2Frames.frame(HTTP2Frames.Kind.settings.rawValue)
        while !stop.value {
            guard let client = try? TestClient(port: port, receiveTimeout: 1) else { return }
            var stream: UInt32 = 1
            var opening = HTTP2Frames.preface + settings
            let burst: () -> [UInt8]
            switch kind {
            case .emptyData:
                opening += HTTP2Frames.post("/echo", stream: 1)
                let frames = (0..<7000).flatMap { _ in HTTP2Frames.frame(HTTP2Frames.Kind.data.rawValue, stream: 1) }
                burst = { frames }
            case .hpackReferences:
                // A 4,000-byte value into the dynamic table (literal with incremental indexing: entry 62; the
                // table's default 4,096 bytes hold it), on a GET.
                var block: [UInt8] = [0x82, 0x86, 0x84, 0x01, 4] + Array("test".utf8)
                block += [0x40, 5] + Array("x-big".utf8) + [0x7F, 0xA1, 0x1E] + [UInt8](repeating: UInt8(ascii: "v"), count: 4000)
                opening += HTTP2Frames.frame(HTTP2Frames.Kind.headers.rawValue, flags: 0x05, stream: 1, block)
                burst = {
                    var frames: [UInt8] = []
                    for _ in 0..<4 {
                        stream += 2
                        let references = [0x82, 0x86, 0x84, 0x01, 4] + Array("test".utf8) + [UInt8](repeating: 0xBE, count: 16_000)
                        frames += HTTP2Frames.frame(HTTP2Frames.Kind.headers.rawValue, flags: 0x05, stream: stream, references)
                    }
                    return frames
                }
            }
            guard (try? client.send(opening)) != nil else { continue }
            while !stop.value {
                let bytes = burst()
                guard (try? client.send(bytes)) != nil else { break }
                sent.mutex.withLock { $0 += bytes.count }
            }
            client.reset()
        }
    }

    /// The amplification itself, without a socket: one 4 KB value in the dynamic table, then header blocks
    /// of 1-byte references to it. Each stream is reset once its list is far past the limits, the
    /// connection ends with GOAWAY(ENHANCE_YOUR_CALM) after a few such streams, and the whole costs little.
    func testHPACKReferencesStopCostingWorkPastTheLimits() throws {
        let driver = try HTTP2FrameDriver(configuration: TestServer.shortTimeouts) { _ in .text("ok") }
        var input = HTTP2Frames.preface + HTTP2Frames.frame(HTTP2Frames.Kind.settings.rawValue)
        var block: [UInt8] = [0x82, 0x86, 0x84, 0x01, 4] + Array("test".utf8)
        block += [0x40, 5] + Array("x-big".utf8) + [0x7F, 0xA1, 0x1E] + [UInt8](repeating: UInt8(ascii: "v"), count: 4000)
        input += HTTP2Frames.frame(HTTP2Frames.Kind.headers.rawValue, flags: 0x05, stream: 1, block)
        func references(_ streams: Range<Int>) -> [UInt8] {
            streams.flatMap { index in
                let block = [0x82, 0x86, 0x84, 0x01, 4] + Array("test".utf8) + [UInt8](repeating: 0xBE, count: 16_000)
                return HTTP2Frames.frame(HTTP2Frames.Kind.headers.rawValue, flags: 0x05, stream: UInt32(3 + 2 * index), block)
            }
        }
        input += references(0..<3)
        let start = ContinuousClock.now
        let (first, stillOpen) = driver.feed(input)
        // Each reset stream: RST_STREAM; the connection goes on.
        let resets = HTTP2Frames.parse(first).filter { $0.type == HTTP2Frames.Kind.rstStream.rawValue }.map(\.streamID)
        XCTAssertEqual(resets, [3, 5, 7])
        XCTAssertTrue(stillOpen)
        // A client that keeps at it: GOAWAY(ENHANCE_YOUR_CALM) after a few more.
        let rest = references(3..<10)
        input += rest
        let (output, isOpen) = driver.feed(rest)
        let elapsed = ContinuousClock.now - start
        XCTAssertFalse(isOpen)
        XCTAssertEqual(HTTP2Frames.parse(output).compactMap(\.goAway).last?.code, 0xB, "GOAWAY(ENHANCE_YOUR_CALM)")
        // 160 K references of 4 KB: 640 MB of field values if each were decoded and checked.
        XCTAssertLessThan(elapsed, .milliseconds(100), "\(input.count) bytes took \(elapsed)")
    }
}
