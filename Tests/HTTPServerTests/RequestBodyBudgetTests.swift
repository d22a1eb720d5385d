import Foundation
import Glibc
import HTTPServer
import XCTest

/// The server-wide budget for request bodies held at once: a body that does not fit is a 503 with
/// Retry-After (HTTP/1.1 and HTTP/2 alike), and every byte is given back afterwards.
final class RequestBodyBudgetTests: XCTestCase {
    private var server: TestServer!

    override func setUpWithError() throws {
        var configuration = TestServer.shortTimeouts
        configuration.maxBufferedBodyBytes = 10_000  // bodies up to 64 KiB each, 10 000 bytes together
        configuration.bodyIdleTimeout = .seconds(5)
        server = try TestServer(configuration)
    }

    override func tearDown() {
        server.server.shutdown()
        server = nil
    }

    private func waitForBudget(_ bytes: Int, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date() + 5
        while server.server.bodyBudget.inUse != bytes, Date() < deadline { usleep(5_000) }
        XCTAssertEqual(server.server.bodyBudget.inUse, bytes, file: file, line: line)
    }

    func testABodyBeyondTheBudgetIs503AndTheBudgetComesBack() throws {
        // One upload that declared 6 000 bytes holds only the 1 000 it has sent (issue 15: a declared length
        // is a bound, not a reservation, or slow clients declaring large bodies hold the whole budget)...
        let slow = try server.client()
        try slow.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 6000\r\n\r\n" + String(repeating: "a", count: 1000))
        waitForBudget(1000)
        // ...so a 9 500-byte body does not fit beside it: refused once its bytes pass the budget.
        let refused = try server.client()
        try refused.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 9500\r\n\r\n" + String(repeating: "r", count: 9500))
        let response = try refused.readResponse()
        XCTAssertEqual(response.status, 503, response.text)
        XCTAssertEqual(response.headers["Retry-After"], "1")
        XCTAssertNotNil(response.errorMessage)
        waitForBudget(1000)
        // A smaller one still fits beside it.
        let small = try server.client()
        try small.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3000\r\n\r\n" + String(repeating: "b", count: 3000))
        XCTAssertEqual(try small.readResponse().status, 200)
        // The slow upload completes and is answered; then nothing is held.
        try slow.send(String(repeating: "a", count: 5000))
        let echoed = try slow.readResponse()
        XCTAssertEqual(echoed.status, 200)
        XCTAssertEqual(echoed.body.count, 6000)
        waitForBudget(0)
    }

    func testAChunkedBodyIsCountedAsItArrivesAndAClosedConnectionGivesItsShareBack() throws {
        let chunk = String(repeating: "c", count: 0x1000)
        let chunked = try server.client()
        try chunked.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        try chunked.send("1000\r\n\(chunk)\r\n")
        usleep(50_000)
        try chunked.send("1000\r\n\(chunk)\r\n")
        usleep(50_000)
        try chunked.send("1000\r\n\(chunk)\r\n")  // past 10 000 bytes together
        let response = try chunked.readResponse()
        XCTAssertEqual(response.status, 503, response.text)
        waitForBudget(0)

        let abandoned = try server.client()
        try abandoned.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 8000\r\n\r\n" + String(repeating: "a", count: 100))
        waitForBudget(100)
        abandoned.close()
        waitForBudget(0)
        server.assertHealthy()
    }

    func testHTTP2StreamsShareTheSameBudget() throws {
        let client = try HTTP2TestClient(port: server.port)
        // Eight 2 000-byte bodies on one connection: 16 000 bytes would be held at once if all arrived
        // before any was handed over; the budget refuses the ones that do not fit with 503, the others succeed.
        let ids = (0..<8).map { index in client.submit("POST", "/echo", body: [UInt8](repeating: UInt8(index), count: 2000)) }
        try client.runUntilAllClosed()
        let statuses = ids.map { client.response($0).status }
        XCTAssertTrue(statuses.allSatisfy { $0 == 200 || $0 == 503 }, "\(statuses)")
        XCTAssertTrue(statuses.contains(200))
        for id in ids where client.response(id).status == 503 {
            XCTAssertEqual(client.response(id).headers["retry-after"], "1")
        }
        for (index, id) in ids.enumerated() where client.response(id).status == 200 {
            XCTAssertEqual(client.response(id).body, [UInt8](repeating: UInt8(index), count: 2000))
        }
        waitForBudget(0)
    }
}

/// A body that trickles in, each byte within the idle timeout, still has to arrive whole within
/// `maxBodyDuration` (a slow-body client cannot hold a connection forever).
final class BodyDurationTests: XCTestCase {
    func testATricklingBodyGets408AfterTheWholeBodyDeadline() throws {
        var configuration = TestServer.shortTimeouts
        configuration.bodyIdleTimeout = .milliseconds(300)
        configuration.maxBodyDuration = .milliseconds(800)
        let server = try TestServer(configuration)
        defer { server.server.shutdown() }
        let client = try server.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n")
        let started = Date()
        var sent = 0
        while sent < 100, !client.waitReadable(timeout: 0.1) {
            try client.send("a")  // one byte every 100 ms: never idle for 300 ms
            sent += 1
        }
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 408, response.text)
        XCTAssertTrue(response.text.contains("took longer than"), response.text)
        XCTAssertLessThan(sent, 100, "refused before the body was complete")
        XCTAssertGreaterThan(Date().timeIntervalSince(started), 0.7)
        server.assertHealthy()
    }

    /// The same on an HTTP/2 stream: one DATA byte every 100 ms, never idle, until the 408.
    func testATricklingHTTP2BodyGets408AfterTheWholeBodyDeadline() throws {
        var configuration = TestServer.shortTimeouts
        configuration.bodyIdleTimeout = .milliseconds(300)
        configuration.maxBodyDuration = .milliseconds(800)
        let server = try TestServer(configuration)
        defer { server.server.shutdown() }
        let client = try server.client()
        try client.send(HTTP2Frames.preface + HTTP2Frames.frame(HTTP2Frames.Kind.settings.rawValue) + HTTP2Frames.post("/echo", stream: 1))
        let started = Date()
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var sent = 0
        func answered() -> Bool { HTTP2Frames.parse(received).contains { $0.streamID == 1 && $0.type == HTTP2Frames.Kind.data.rawValue } }
        while sent < 100, !answered() {
            try client.send(HTTP2Frames.frame(HTTP2Frames.Kind.data.rawValue, stream: 1, [UInt8(ascii: "a")]))
            sent += 1
            if client.waitReadable(timeout: 0.1) {
                let count = chunk.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                received += chunk[0..<count]
            }
        }
        received += client.readUntilClosed()
        let frames = HTTP2Frames.parse(received)
        let body = frames.filter { $0.streamID == 1 && $0.type == HTTP2Frames.Kind.data.rawValue }.flatMap(\.payload)
        XCTAssertTrue(String(decoding: body, as: UTF8.self).contains("took longer than"), String(decoding: body, as: UTF8.self))
        XCTAssertTrue(frames.contains { $0.streamID == 1 && $0.type == HTTP2Frames.Kind.rstStream.rawValue }, "the rest of the upload is cancelled")
        XCTAssertLessThan(sent, 100, "refused before the body was complete")
        XCTAssertGreaterThan(Date().timeIntervalSince(started), 0.7)
        server.assertHealthy()
    }
}
