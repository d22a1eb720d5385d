import Foundation
import HTTPServer
import XCTest

/// HTTP/2 over real sockets with prior knowledge: streams multiplexed on one connection, the
/// per-stream limits, protocol errors, an abrupt client, idle close and a graceful drain.
final class HTTP2ServerTests: LiveServerTestCase {
    func testManyConcurrentStreamsEachGetTheirOwnBody() throws {
        let client = try HTTP2TestClient(port: server.port)
        var sent: [Int32: [UInt8]] = [:]
        for index in 0..<64 {
            let body = Array("stream \(index):".utf8) + [UInt8](repeating: UInt8(index), count: index * 300)
            sent[client.submit("POST", "/echo?n=\(index)", headers: [("content-type", "application/octet-stream")], body: body)] = body
        }
        try client.runUntilAllClosed()
        XCTAssertEqual(sent.count, 64)
        for (id, body) in sent {
            let response = client.response(id)
            XCTAssertEqual(response.status, 200, "stream \(id)")
            XCTAssertEqual(response.body, body, "stream \(id) got another stream's body")
            XCTAssertEqual(response.headers["content-length"], String(body.count))
            XCTAssertEqual(response.headers["x-method"], "POST")
            XCTAssertEqual(response.closeCode, 0)
        }
        let exchanges = server.exchanges(atLeast: 64)
        XCTAssertEqual(exchanges.count, 64)
        XCTAssertTrue(exchanges.allSatisfy { $0.protocolVersion == .http2 && $0.version == .http2 && $0.completed })
        XCTAssertEqual(Set(exchanges.map(\.remoteAddress)).count, 1, "all on one connection")
        XCTAssertEqual(server.server.openConnections, 1)
    }

    func testSlowStreamsDoNotBlockEachOther() throws {
        let client = try HTTP2TestClient(port: server.port)
        let start = Date()
        let slow = (0..<20).map { client.submit("GET", "/slow?ms=250&tag=\($0)") }
        let quick = client.submit("GET", "/hello")
        try client.run { client.response(quick).closeCode != nil }
        XCTAssertLessThan(Date().timeIntervalSince(start), 0.2, "a quick stream waited for slow ones")
        try client.runUntilAllClosed()
        XCTAssertLessThan(Date().timeIntervalSince(start), 2.0, "20 × 250 ms ran one after another")
        for (tag, id) in slow.enumerated() { XCTAssertEqual(client.response(id).text, "slow \(tag)") }
        XCTAssertEqual(client.response(quick).text, "hello")
    }

    func testMaxConcurrentStreamsBoundsTheRequestsInFlight() throws {
        server.server.shutdown()
        var configuration = TestServer.shortTimeouts
        configuration.http2MaxConcurrentStreams = 4
        server = try TestServer(configuration)
        // Sent before the server's SETTINGS reached the client: streams past the limit are
        // refused (RST_STREAM REFUSED_STREAM, safe to retry), the first four are served.
        let eager = try HTTP2TestClient(port: server.port)
        let early = (0..<10).map { _ in eager.submit("GET", "/hold") }
        try eager.run { eager.responses.values.filter { $0.closeCode == 0x7 }.count == 6 && self.server.held.value.count == 4 }
        server.releaseHeld()
        try eager.runUntilAllClosed()
        XCTAssertEqual(early.map { eager.response($0).text }, Array(repeating: "released", count: 4) + Array(repeating: "", count: 6))

        // A client that has the SETTINGS keeps the other six waiting on its side.
        let client = try HTTP2TestClient(port: server.port)
        try? client.run(timeout: 0.1) { false }
        let ids = (0..<10).map { _ in client.submit("GET", "/hold") }
        try client.run { self.server.held.value.count == 4 }
        try? client.run(timeout: 0.2) { false }
        XCTAssertEqual(server.held.value.count, 4)
        var rounds = 0
        while client.responses.values.filter({ $0.closeCode != nil }).count < 10, rounds < 10 {
            rounds += 1
            server.releaseHeld()
            try client.run { self.server.held.value.count > 0 || client.responses.values.filter { $0.closeCode != nil }.count == 10 }
        }
        for id in ids { XCTAssertEqual(client.response(id).text, "released") }
    }

    func testRouterErrorsAndHeadWorkAsOverHTTP1() throws {
        let client = try HTTP2TestClient(port: server.port)
        let missing = client.submit("GET", "/nope")
        let wrongMethod = client.submit("DELETE", "/hello")
        let head = client.submit("HEAD", "/big?bytes=5000")
        let item = client.submit("GET", "/items/a%20b")
        try client.runUntilAllClosed()
        XCTAssertEqual(client.response(missing).status, 404)
        XCTAssertEqual(client.response(missing).text, "{\"error\":\"no route for /nope\"}")
        XCTAssertEqual(client.response(wrongMethod).status, 405)
        XCTAssertEqual(client.response(wrongMethod).headers["allow"], "GET, HEAD")
        XCTAssertEqual(client.response(head).status, 200)
        XCTAssertEqual(client.response(head).headers["content-length"], "5000")
        XCTAssertEqual(client.response(head).body, [])
        XCTAssertEqual(client.response(item).text, "item a b")
    }

    func testLargeResponsesAreFlowControlledAndComplete() throws {
        let client = try HTTP2TestClient(port: server.port)
        // Above the client's 64 KiB default window: the server must wait for WINDOW_UPDATEs.
        let ids = (0..<4).map { _ in client.submit("GET", "/big?bytes=300000") }
        try client.runUntilAllClosed()
        for id in ids {
            XCTAssertEqual(client.response(id).body.count, 300_000)
            XCTAssertEqual(client.response(id).closeCode, 0)
        }
    }

    func testBodyOverTheLimitIsAnsweredAloneWhileOthersSucceed() throws {
        let client = try HTTP2TestClient(port: server.port)
        let tooBig = [UInt8](repeating: 7, count: 100_000)  // the test server allows 64 KiB
        let before = (0..<3).map { client.submit("POST", "/echo", body: Array("before \($0)".utf8)) }
        let streamed = client.submit("POST", "/echo", body: tooBig)
        let declared = client.submit("POST", "/echo", headers: [("content-length", "100000")], body: tooBig)
        let after = (0..<3).map { client.submit("POST", "/echo", body: Array("after \($0)".utf8)) }
        try client.runUntilAllClosed()
        for id in [streamed, declared] {
            let response = client.response(id)
            XCTAssertEqual(response.status, 413, "stream \(id)")
            XCTAssertEqual(response.text, "{\"error\":\"request body exceeds 65536 bytes\"}")
        }
        for (index, id) in before.enumerated() { XCTAssertEqual(client.response(id).text, "before \(index)") }
        for (index, id) in after.enumerated() { XCTAssertEqual(client.response(id).text, "after \(index)") }
        // The connection is still good for more.
        let again = client.submit("GET", "/hello")
        try client.run { client.response(again).closeCode != nil }
        XCTAssertEqual(client.response(again).text, "hello")
        XCTAssertTrue(client.goAways.isEmpty, "\(client.goAways)")
    }

    func testHeaderListOverTheLimitIs431OnThatStream() throws {
        let client = try HTTP2TestClient(port: server.port)
        let big = client.submit("GET", "/hello", headers: [("x-big", String(repeating: "b", count: 5000))])
        let many = client.submit("GET", "/hello", headers: (0..<30).map { ("x-field-\($0)", "v") })
        let fine = client.submit("GET", "/hello")
        try client.runUntilAllClosed()
        XCTAssertEqual(client.response(big).status, 431)
        XCTAssertEqual(client.response(many).status, 431)
        XCTAssertEqual(client.response(fine).text, "hello")
    }

    func testStalledBodyGets408WhileOtherStreamsGoOn() throws {
        let client = try HTTP2TestClient(port: server.port)
        let stalled = client.submit("POST", "/echo", stallBody: true)
        let slow = client.submit("GET", "/slow?ms=100&tag=x")
        try client.run(timeout: 3) { client.response(stalled).closeCode != nil && client.response(slow).closeCode != nil }
        XCTAssertEqual(client.response(stalled).status, 408)
        XCTAssertEqual(client.response(slow).text, "slow x")
        let again = client.submit("GET", "/hello")
        try client.run { client.response(again).closeCode != nil }
        XCTAssertEqual(client.response(again).text, "hello")
    }

    func testResponseHeldBackByFlowControlIsCancelledAfterTheWriteTimeout() throws {
        let client = try HTTP2TestClient(port: server.port, initialWindow: 0)
        let start = Date()
        let held = client.submit("GET", "/big?bytes=1000")
        try client.run(timeout: 3) { client.response(held).closeCode != nil }
        XCTAssertEqual(client.response(held).status, 200, "the headers are not flow-controlled")
        XCTAssertEqual(client.response(held).body, [])
        XCTAssertEqual(client.response(held).closeCode, 0x8, "CANCEL")
        XCTAssertGreaterThan(Date().timeIntervalSince(start), 0.25, "cancelled before the 300 ms write timeout")
        XCTAssertEqual(server.exchanges(atLeast: 1).first?.completed, false)
    }

    func testIdleConnectionGetsGoAwayAndCloses() throws {
        let client = try HTTP2TestClient(port: server.port)
        let id = client.submit("GET", "/hello")
        try client.run { client.response(id).closeCode != nil }
        XCTAssertTrue(client.runUntilClosed(timeout: 3), "the 300 ms idle timeout did not close the connection")
        XCTAssertEqual(client.goAways.last?.code, 0)
        XCTAssertEqual(client.goAways.last?.lastStreamID, 1)
        XCTAssertTrue(eventually { self.server.server.openConnections == 0 })
    }

    // MARK: Protocol errors and rude clients

    /// Sends the preface, an empty SETTINGS and `bytes`; returns the GOAWAY the server closed with.
    private func goAwayAfter(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> (lastStreamID: UInt32, code: UInt32)? {
        let client = try server.client(receiveTimeout: 3)
        try client.send(HTTP2Frames.preface + HTTP2Frames.frame(HTTP2Frames.Kind.settings.rawValue) + bytes)
        let frames = HTTP2Frames.parse(client.readUntilClosed())
        XCTAssertEqual(frames.first?.type, HTTP2Frames.Kind.settings.rawValue, "the server's SETTINGS first", file: file, line: line)
        return frames.compactMap(\.goAway).last
    }

    func testMalformedFramesCloseWithGoAwayAndTheRightCode() throws {
        // DATA on stream 0: PROTOCOL_ERROR (RFC 9113 §6.1).
        XCTAssertEqual(try goAwayAfter(HTTP2Frames.frame(HTTP2Frames.Kind.data.rawValue, stream: 0, [1, 2, 3]))?.code, 0x1)
        // A frame longer than SETTINGS_MAX_FRAME_SIZE: FRAME_SIZE_ERROR (§4.2).
        XCTAssertEqual(try goAwayAfter(HTTP2Frames.frame(HTTP2Frames.Kind.headers.rawValue, stream: 1, [], length: 1 << 20))?.code, 0x6)
        // A PING that is not 8 bytes: FRAME_SIZE_ERROR (§6.7).
        XCTAssertEqual(try goAwayAfter(HTTP2Frames.frame(HTTP2Frames.Kind.ping.rawValue, stream: 0, [1, 2, 3]))?.code, 0x6)
        // SETTINGS_ENABLE_PUSH = 2: PROTOCOL_ERROR (§6.5.2).
        XCTAssertEqual(try goAwayAfter(HTTP2Frames.frame(HTTP2Frames.Kind.settings.rawValue, [0, 2, 0, 0, 0, 2]))?.code, 0x1)
        // A window increment past 2^31-1: FLOW_CONTROL_ERROR (§6.9.1).
        XCTAssertEqual(try goAwayAfter(HTTP2Frames.frame(HTTP2Frames.Kind.windowUpdate.rawValue, stream: 0, [0x7F, 0xFF, 0xFF, 0xFF]))?.code, 0x3)
        // HPACK that does not decode: COMPRESSION_ERROR (§4.3).
        XCTAssertEqual(try goAwayAfter(HTTP2Frames.frame(HTTP2Frames.Kind.headers.rawValue, flags: 0x05, stream: 1, [0xFF, 0xFF, 0xFF, 0xFF]))?.code, 0x9)
        // A valid request before the error is still answered, and the GOAWAY says it was taken.
        let answered = try goAwayAfter(HTTP2Frames.get("/hello", stream: 1) + HTTP2Frames.frame(HTTP2Frames.Kind.data.rawValue, stream: 0, [1]))
        XCTAssertEqual(answered?.code, 0x1)
        XCTAssertEqual(answered?.lastStreamID, 1)
        server.assertHealthy()
        let client = try HTTP2TestClient(port: server.port)
        let id = client.submit("GET", "/hello")
        try client.run { client.response(id).closeCode != nil }
        XCTAssertEqual(client.response(id).text, "hello")
        XCTAssertTrue(eventually { self.server.server.openConnections == 1 })
    }

    func testGarbageAfterThePrefaceAndTruncatedPrefaces() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let client = try server.client(receiveTimeout: 3)
            try client.send(HTTP2Frames.preface + (0..<200).map { _ in UInt8.random(in: 0...255, using: &generator) })
            _ = client.readUntilClosed()  // whatever it says, it must end the connection
        }
        // A preface cut short, then silence: the header timeout (300 ms) ends it.
        let partial = try server.client(receiveTimeout: 3)
        try partial.send(Array(HTTP2Frames.preface[0..<10]))
        let start = Date()
        _ = partial.readUntilClosed()
        XCTAssertLessThan(Date().timeIntervalSince(start), 2, "a partial preface kept the connection open")
        server.assertHealthy()
        XCTAssertTrue(eventually { self.server.server.openConnections == 0 })
    }

    func testAbruptDisconnectMidStreamLeavesTheServerServing() throws {
        let client = try HTTP2TestClient(port: server.port)
        client.submit("GET", "/hold")
        client.submit("POST", "/echo", stallBody: true)
        try client.run { self.server.held.value.count == 1 }
        client.socket.reset()
        XCTAssertTrue(eventually { self.server.server.openConnections == 0 })
        server.releaseHeld()
        let exchange = server.exchanges(atLeast: 1).first
        XCTAssertEqual(exchange?.path, "/hold")
        XCTAssertEqual(exchange?.completed, false)
        XCTAssertEqual(exchange?.protocolVersion, .http2)
        server.assertHealthy()
        let again = try HTTP2TestClient(port: server.port)
        let id = again.submit("GET", "/hello")
        try again.run { again.response(id).closeCode != nil }
        XCTAssertEqual(again.response(id).text, "hello")
    }

    // MARK: Upgrade

    private static let upgradeRequest = "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, HTTP2-Settings\r\n"
        + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n"

    /// The bytes after the 101's header section, as frames.
    private func framesAfter101(_ bytes: [UInt8]) -> [HTTP2Frames.Frame] {
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"), text)
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: Array("\r\n\r\n".utf8)) }) else { return [] }
        return HTTP2Frames.parse(Array(bytes[(end + 4)...]))
    }

    func testUpgradeAnswersStreamOneOnceTheClientPrefaceArrives() throws {
        let client = try server.client(receiveTimeout: 3)
        try client.send(Self.upgradeRequest + String(decoding: HTTP2Frames.preface, as: UTF8.self))
        try client.send(HTTP2Frames.frame(HTTP2Frames.Kind.settings.rawValue) + HTTP2Frames.frame(HTTP2Frames.Kind.goAway.rawValue, [0, 0, 0, 0, 0, 0, 0, 0]))
        let frames = framesAfter101(client.readUntilClosed())
        XCTAssertEqual(frames.first?.type, HTTP2Frames.Kind.settings.rawValue)
        XCTAssertTrue(frames.contains { $0.type == HTTP2Frames.Kind.headers.rawValue && $0.streamID == 1 })
        XCTAssertEqual(String(decoding: frames.filter { $0.type == HTTP2Frames.Kind.data.rawValue && $0.streamID == 1 }.flatMap(\.payload), as: UTF8.self), "hello")
    }

    func testUpgradeWithoutAPrefaceIsClosedAfterTheHeaderTimeout() throws {
        let client = try server.client(receiveTimeout: 3)
        try client.send(Self.upgradeRequest)
        let start = Date()
        let frames = framesAfter101(client.readUntilClosed())
        XCTAssertLessThan(Date().timeIntervalSince(start), 2, "no preface, yet the connection stayed open")
        XCTAssertEqual(frames.first?.type, HTTP2Frames.Kind.settings.rawValue)
        XCTAssertFalse(frames.contains { $0.streamID == 1 }, "stream 1 answered before the client read the 101")
        XCTAssertTrue(eventually { self.server.server.openConnections == 0 })
    }

    // MARK: Drain

    func testDrainSendsGoAwayAndLosesNoStreamInFlight() throws {
        let client = try HTTP2TestClient(port: server.port)
        let held = (0..<5).map { _ in client.submit("GET", "/hold") }
        try client.run { self.server.held.value.count == 5 }
        let drained = Locked(false)
        server.server.drain(timeout: .seconds(5)) { drained.mutex.withLock { $0 = true } }
        // The shutdown notice (2^31-1), then the final GOAWAY naming the last stream taken.
        try client.run { client.goAways.contains { $0.lastStreamID == held.last } }
        XCTAssertEqual(client.goAways.first?.lastStreamID, Int32.max)
        XCTAssertTrue(client.goAways.allSatisfy { $0.code == 0 })
        XCTAssertFalse(drained.value, "drained with streams in flight")
        server.releaseHeld()
        try client.runUntilAllClosed()
        for id in held {
            XCTAssertEqual(client.response(id).status, 200)
            XCTAssertEqual(client.response(id).text, "released")
        }
        XCTAssertTrue(client.runUntilClosed(timeout: 3), "the connection stayed open after its last stream")
        XCTAssertTrue(eventually { drained.value })
        XCTAssertEqual(server.server.openConnections, 0)
        XCTAssertEqual(server.exchanges(atLeast: 5).filter(\.completed).count, 5)
    }
}
