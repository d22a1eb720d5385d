import Glibc
import HTTPServer
import XCTest

/// Every limit and timeout over real sockets, and that the server keeps serving after each.
/// Timeouts are 300 ms here (see `TestServer.shortTimeouts`).
final class HTTPServerLimitTests: LiveServerTestCase {

    /// Sends `text`, expects one error response with a JSON body, then the server's close.
    func expectError(_ status: Int, after text: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let client = try server.client()
            try client.send(text)
            let response = try client.readResponse()
            XCTAssertEqual(response.status, status, response.text, file: file, line: line)
            XCTAssertNotNil(response.errorMessage, "JSON error body: \(response.text)", file: file, line: line)
            XCTAssertEqual(response.headers["Connection"], "close", file: file, line: line)
            XCTAssertNotNil(response.headers["Date"], file: file, line: line)
            XCTAssertTrue(client.isClosedByPeer(), "closed after the error", file: file, line: line)
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
        server.assertHealthy(file: file, line: line)
    }

    func testMalformedRequestsGet400() {
        expectError(400, after: "GARBAGE\r\n\r\n")
        expectError(400, after: "GET /hello HTTP/1.1 extra\r\nHost: t\r\n\r\n")
        expectError(400, after: "GET /hello HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n")
        expectError(400, after: "GET /hello HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n")
        expectError(400, after: "GET /hello HTTP/1.1\r\n\r\n")  // no Host
        expectError(400, after: "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n")
        expectError(505, after: "GET /hello HTTP/2.0\r\nHost: t\r\n\r\n")
        expectError(501, after: "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
    }

    func testFramingAttacksGet400() {
        expectError(400, after: "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        expectError(400, after: "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: -5\r\n\r\n")
        expectError(400, after: "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 12abc\r\n\r\n")
        expectError(400, after: "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")
    }

    func testOversizeHeadersGet431() {
        expectError(431, after: "GET /hello HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "a", count: 5000))\r\n\r\n")
        let fields = (0..<25).map { "X-\($0): v\r\n" }.joined()
        expectError(431, after: "GET /hello HTTP/1.1\r\nHost: t\r\n\(fields)\r\n")
        XCTAssertTrue(server.exchanges(atLeast: 4).contains { $0.status == 431 && $0.method == "GET" && $0.requestHeaders == nil })
    }

    func testOversizeBodyGets413WithoutReadingIt() {
        // Only the head is sent: the answer cannot have waited for the 100 000 body bytes.
        expectError(413, after: "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n")
        let chunk = String(repeating: "a", count: 0x8000)
        expectError(413, after: "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n8000\r\n\(chunk)\r\n8000\r\n\(chunk)\r\n8000\r\n")
        let exchange = server.exchanges(atLeast: 4).first { $0.status == 413 }
        XCTAssertEqual(exchange?.path, "/echo")
        XCTAssertNotNil(exchange?.requestHeaders)
    }

    func testSilentConnectionGets408() throws {
        let client = try server.client()
        let start = ContinuousClock.now
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 408)
        XCTAssertNotNil(response.errorMessage)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(250))
        XCTAssertTrue(client.isClosedByPeer())
        XCTAssertTrue(eventually { self.server.exchanges.contains { $0.status == 408 && $0.method == nil } })
        server.assertHealthy()
    }

    func testSlowHeadersGet408EvenWhileBytesKeepComing() throws {
        let client = try server.client()
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n")
        let start = ContinuousClock.now
        // One byte every 50 ms: never idle, but the head is not complete within 300 ms.
        var answered = false
        for _ in 0..<40 {
            if client.waitReadable(timeout: 0.05) { answered = true; break }
            try? client.send("X")
        }
        XCTAssertTrue(answered)
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(1.5))
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 408)
        XCTAssertEqual(response.headers["Connection"], "close")
        server.assertHealthy()
    }

    func testStalledBodyGets408() throws {
        let client = try server.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n12345")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 408)
        XCTAssertNotNil(response.errorMessage)
        XCTAssertTrue(client.isClosedByPeer())
        server.assertHealthy()
    }

    func testBodyTimeoutIsAnIdleTimeout() throws {
        let client = try server.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 8\r\n\r\n")
        // Eight bytes over 800 ms: longer than the timeout in total, never idle for 300 ms.
        for byte in "abcdefgh" {
            usleep(100_000)
            try client.send(String(byte))
        }
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "abcdefgh")
    }

    func testIdleKeepAliveConnectionIsClosedSilently() throws {
        let client = try server.client()
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = try client.readResponse()
        let start = ContinuousClock.now
        XCTAssertTrue(client.isClosedByPeer(), "closed with nothing sent")
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(250))
        XCTAssertEqual(server.exchanges.count, 1, "no 408 for an idle keep-alive connection")
    }

    func testClientThatDoesNotReadIsClosedAfterWriteTimeout() throws {
        // A small receive buffer and a 16 MiB answer: the server's writes stall.
        let client = try server.client(receiveBuffer: 4096)
        try client.send("GET /big?bytes=16777216 HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(eventually { self.server.exchanges.contains { $0.status == 200 && !$0.completed } })
        XCTAssertTrue(eventually { self.server.server.openConnections == 0 })
        server.assertHealthy()
    }

    func testTooManyConnectionsGet503() throws {
        var configuration = TestServer.shortTimeouts
        configuration.maxConnections = 2
        configuration.headerReadTimeout = .seconds(10)
        configuration.keepAliveIdleTimeout = .seconds(10)
        let limited = try TestServer(configuration)
        defer { limited.server.shutdown() }
        let first = try limited.client()
        let second = try limited.client()
        XCTAssertTrue(eventually { limited.server.openConnections == 2 })

        let third = try limited.client()
        try third.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = try third.readResponse()
        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(response.headers["Connection"], "close")
        XCTAssertEqual(response.errorMessage, "too many open connections")
        // Found by tools/reliability/slowloris.py: this 503 had no Retry-After, unlike the queue's.
        XCTAssertEqual(response.headers["Retry-After"], "1")
        XCTAssertTrue(third.isClosedByPeer())
        XCTAssertEqual(limited.server.openConnections, 2)

        // The two served connections still work; once one leaves, a newcomer is served.
        try second.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try second.readResponse().status, 200)
        first.close()
        XCTAssertTrue(eventually { limited.server.openConnections == 1 })
        limited.assertHealthy()
    }
}
