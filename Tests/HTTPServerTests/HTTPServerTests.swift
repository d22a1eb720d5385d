import Glibc
@testable import HTTPServer
import XCTest

/// The protocol over real sockets: keep-alive, pipelining, bodies, HEAD, versions, routing.
final class HTTPServerTests: LiveServerTestCase {

    func testKeepAliveReusesTheConnection() throws {
        let client = try server.client()
        for index in 0..<3 {
            try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\n\(index)")
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.text, "\(index)")
            XCTAssertNil(response.headers["Connection"])
            XCTAssertEqual(response.headers["Server"], "test")
            XCTAssertNotNil(response.headers["Date"])
        }
        let peers = Set(server.exchanges(atLeast: 3).map(\.remoteAddress))
        XCTAssertEqual(peers.count, 1, "all three on one connection")
    }

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let client = try server.client()
        // The first answers last (from another queue, 200 ms later): order must still hold.
        try client.send(
            "GET /slow?ms=200&tag=1 HTTP/1.1\r\nHost: t\r\n\r\n"
                + "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\ntwo"
                + "GET /slow?ms=0&tag=3 HTTP/1.1\r\nHost: t\r\n\r\n"
        )
        XCTAssertEqual(try client.readResponse().text, "slow 1")
        XCTAssertEqual(try client.readResponse().text, "two")
        XCTAssertEqual(try client.readResponse().text, "slow 3")
    }

    func testChunkedRequestBody() throws {
        let client = try server.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        try client.send("4;name=value\r\nWiki\r\n")
        try client.send("5\r\npedia\r\n0\r\nX-Trailer: dropped\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.text, "Wikipedia")
        assertStillServes(client)
    }

    func testExpectContinue() throws {
        let client = try server.client()
        try client.send("PUT /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        let interim = try client.readResponse()
        XCTAssertEqual(interim.status, 100)
        try client.send("12345")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "12345")
    }

    func testExpectContinueWithTooLargeBodyIs413AtOnce() throws {
        let client = try server.client()
        try client.send("PUT /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 413)
        XCTAssertEqual(response.headers["Connection"], "close")
        XCTAssertNotNil(response.errorMessage)
        XCTAssertTrue(client.isClosedByPeer())
        server.assertHealthy()
    }

    func testHeadSendsGetLengthWithoutBody() throws {
        let client = try server.client()
        try client.send("HEAD /big?bytes=777 HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = try client.readResponse(bodyless: true)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["Content-Length"], "777")
        // Had a body been sent, the next response would not parse.
        assertStillServes(client)
        XCTAssertEqual(server.exchanges(atLeast: 2).first?.bytesWritten, 0)
    }

    func testNotFoundAndMethodNotAllowed() throws {
        let client = try server.client()
        try client.send("GET /missing HTTP/1.1\r\nHost: t\r\n\r\n")
        let missing = try client.readResponse()
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.errorMessage, "no route for /missing")
        try client.send("DELETE /echo HTTP/1.1\r\nHost: t\r\n\r\n")
        let wrong = try client.readResponse()
        XCTAssertEqual(wrong.status, 405)
        XCTAssertEqual(wrong.headers["Allow"], "POST, PUT")
        XCTAssertNotNil(wrong.errorMessage)
        try client.send("GET /items/a%20b HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "item a b")
    }

    func testHTTP10ClosesUnlessKeepAliveAsked() throws {
        let plain = try server.client()
        try plain.send("GET /hello HTTP/1.0\r\n\r\n")
        let response = try plain.readResponse()
        XCTAssertEqual(response.text, "hello")
        XCTAssertEqual(response.headers["Connection"], "close")
        XCTAssertTrue(plain.isClosedByPeer())

        let kept = try server.client()
        try kept.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(try kept.readResponse().headers["Connection"], "keep-alive")
        try kept.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(try kept.readResponse().text, "hello")
        XCTAssertEqual(server.exchanges(atLeast: 3).last?.version, .http1_0)
    }

    func testConnectionCloseFromClientAndFromResponder() throws {
        let client = try server.client()
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(try client.readResponse().headers["Connection"], "close")
        XCTAssertTrue(client.isClosedByPeer())

        let other = try server.client()
        try other.send("GET /close HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = try other.readResponse()
        XCTAssertEqual(response.text, "bye")
        XCTAssertEqual(response.headers["Connection"], "close")
        XCTAssertTrue(other.isClosedByPeer())
    }

    func testHalfClosedClientStillGetsItsResponse() throws {
        let client = try server.client()
        try client.send("GET /slow?ms=100 HTTP/1.1\r\nHost: t\r\n\r\n")
        client.shutdownWrite()
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["Connection"], "close")
        XCTAssertTrue(client.isClosedByPeer())
    }

    func testRequestFieldsReachTheResponder() throws {
        let seen = Locked<HTTPRequest?>(nil)
        server.router.add("GET", "/inspect") { request, _, done in
            seen.mutex.withLock { $0 = request }
            done(.text("ok"))
        }
        let before = ContinuousClock.now
        let client = try server.client()
        try client.send("GET /inspect?a=1&b=x%20y HTTP/1.1\r\nHost: t\r\nX-Request-Id: abc\r\n\r\n")
        _ = try client.readResponse()
        let request = try XCTUnwrap(seen.value)
        XCTAssertEqual(request.target, "/inspect?a=1&b=x%20y")
        XCTAssertEqual(request.queryValue("b"), "x y")
        XCTAssertEqual(request.headers["x-request-id"], "abc")
        XCTAssertTrue(request.remoteAddress.hasPrefix("127.0.0.1:"))
        XCTAssertGreaterThanOrEqual(request.receivedAt, before)
        let exchange = try XCTUnwrap(server.exchanges(atLeast: 1).last)
        XCTAssertEqual(exchange.method, "GET")
        XCTAssertEqual(exchange.path, "/inspect")
        XCTAssertEqual(exchange.status, 200)
        XCTAssertEqual(exchange.bytesWritten, 2)
        XCTAssertEqual(exchange.requestHeaders?["X-Request-Id"], "abc")
        XCTAssertEqual(exchange.responseHeaders["Content-Type"], "text/plain; charset=utf-8")
        XCTAssertTrue(exchange.completed)
    }

    /// The target is parsed once, by the decoder, into the head that the router, the handler and the access log's
    /// exchange all read: an odd target (an encoded "/" inside a segment, an escaped "%") is one path everywhere.
    func testAnOddTargetIsTheSamePathForTheRouterTheHandlerAndTheAccessLog() throws {
        let seen = Locked<(HTTPRequest, RouteParameters)?>(nil)
        server.router.add("GET", "/things/{id}") { request, parameters, done in
            seen.mutex.withLock { $0 = (request, parameters) }
            done(.text("ok"))
        }
        let client = try server.client()
        try client.send("GET /things/a%2Fb%2541?q=1%2B2 HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 200)
        let (request, parameters) = try XCTUnwrap(seen.value)
        XCTAssertEqual(parameters["id"], "a/b%41")
        XCTAssertEqual(request.path, "/things/a/b%41")
        XCTAssertEqual(request.queryValue("q"), "1+2")
        XCTAssertEqual(request.head.requestTarget.rawPath, "/things/a%2Fb%2541")
        let exchange = try XCTUnwrap(server.exchanges(atLeast: 1).last)
        let logged = try XCTUnwrap(exchange.request)
        XCTAssertEqual(exchange.path, request.path)
        XCTAssertEqual(logged.requestTarget.rawPath, request.head.requestTarget.rawPath)
        XCTAssertEqual(logged.query.map(\.value), ["1+2"])
        // The pattern a metric label is made from, asked with the logged target, is the route that answered;
        // the decoded path matched again (as the access log once did) has a segment too many.
        XCTAssertEqual(server.router.pattern(for: logged.requestTarget), "/things/{id}")
        XCTAssertNil(server.router.pattern(forPath: request.path))
    }

    func testLargeResponseToASlowReaderIsWrittenWhole() throws {
        // A 4 KiB receive buffer: the server meets EAGAIN many times and must resume each time.
        // The keep-alive clock starts once the kernel has the response, while this client may
        // still be reading it: give it time.
        var configuration = TestServer.shortTimeouts
        configuration.keepAliveIdleTimeout = .seconds(10)
        server.server.shutdown()
        server = try TestServer(configuration)
        let client = try server.client(receiveBuffer: 4096)
        let size = 4 * 1024 * 1024
        try client.send("GET /big?bytes=\(size) HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.body.count, size)
        XCTAssertTrue(response.body.allSatisfy { $0 == UInt8(ascii: "x") })
        assertStillServes(client)
        XCTAssertEqual(server.exchanges(atLeast: 1).first?.bytesWritten, size)
    }

    func testSecondCompletionIsIgnored() throws {
        server.router.add("GET", "/twice") { _, _, done in
            done(.text("first"))
            done(.text("second"))
        }
        let client = try server.client()
        try client.send("GET /twice HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "first")
        assertStillServes(client)
    }

    func testIPv6Listener() throws {
        var configuration = TestServer.shortTimeouts
        configuration.host = "::1"
        let v6 = try TestServer(configuration)
        defer { v6.server.shutdown() }
        let client = try TestClient(host: "::1", port: v6.port)
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "hello")
        XCTAssertTrue(v6.exchanges(atLeast: 1).first?.remoteAddress.hasPrefix("[::1]:") ?? false)
    }

    func testPortInUseIsAClearError() throws {
        var configuration = TestServer.shortTimeouts
        configuration.port = server.port
        let second = HTTPServer(configuration: configuration, responder: HTTPRouter(), logger: .init(label: "t"))
        XCTAssertThrowsError(try second.start()) { error in
            let description = "\(error)"
            XCTAssertTrue(description.hasPrefix("cannot listen on 127.0.0.1:\(server.port): Address already in use"), description)
            XCTAssertEqual((error as? HTTPServerError)?.underlying?.code, EADDRINUSE)
        }
    }

    func assertStillServes(_ client: TestClient, file: StaticString = #filePath, line: UInt = #line) {
        do {
            try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            XCTAssertEqual(try client.readResponse().text, "hello", file: file, line: line)
        } catch {
            XCTFail("connection unusable: \(error)", file: file, line: line)
        }
    }
}
