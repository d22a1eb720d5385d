import Glibc
import HTTPServer
import XCTest

/// Graceful drain and immediate shutdown.
final class HTTPServerDrainTests: XCTestCase {
    var server: TestServer!

    override func setUpWithError() throws {
        var configuration = TestServer.shortTimeouts
        // Long enough that no connection here closes by itself during a test.
        configuration.headerReadTimeout = .seconds(10)
        configuration.bodyIdleTimeout = .seconds(10)
        configuration.keepAliveIdleTimeout = .seconds(10)
        server = try TestServer(configuration)
    }

    override func tearDown() {
        server.server.shutdown()
        server = nil
    }

    func connectionRefused() -> Bool {
        do {
            _ = try server.client()
            return false
        } catch {
            return (error as? TestClient.Failure)?.code == ECONNREFUSED
        }
    }

    func testDrainAnswersEveryAcceptedRequest() throws {
        let idle = try server.client()
        try idle.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try idle.readResponse().status, 200)

        let inFlight = try server.client()
        try inFlight.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(eventually { self.server.held.value.count == 1 })

        let partial = try server.client()
        try partial.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nab")
        let fresh = try server.client()
        XCTAssertTrue(eventually { self.server.server.openConnections == 4 })

        let drained = Locked(false)
        server.server.drain(timeout: .seconds(5)) { drained.mutex.withLock { $0 = true } }

        // The idle kept-alive connection is closed at once; the listener is gone.
        XCTAssertTrue(idle.isClosedByPeer())
        XCTAssertTrue(eventually { self.connectionRefused() })

        // A connection accepted before the drain still gets its first request answered.
        try fresh.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
        let freshResponse = try fresh.readResponse()
        XCTAssertEqual(freshResponse.text, "hello")
        XCTAssertEqual(freshResponse.headers["Connection"], "close")
        XCTAssertTrue(fresh.isClosedByPeer())

        // A half-received request may get the rest.
        try partial.send("cd")
        let partialResponse = try partial.readResponse()
        XCTAssertEqual(partialResponse.text, "abcd")
        XCTAssertEqual(partialResponse.headers["Connection"], "close")

        XCTAssertFalse(drained.value, "a request is still in flight")
        server.releaseHeld()
        let response = try inFlight.readResponse()
        XCTAssertEqual(response.text, "released")
        XCTAssertEqual(response.headers["Connection"], "close")
        XCTAssertTrue(inFlight.isClosedByPeer())
        XCTAssertTrue(eventually { drained.value })
        XCTAssertEqual(server.server.openConnections, 0, "a clean drain ends with nothing open")
    }

    func testDrainTimeoutClosesWhatIsLeft() throws {
        let stuck = try server.client()
        try stuck.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertTrue(eventually { self.server.held.value.count == 1 })
        let drained = Locked(false)
        let start = ContinuousClock.now
        let openAtCompletion = Locked(-1)
        let http = server.server
        http.drain(timeout: .milliseconds(300)) {
            openAtCompletion.mutex.withLock { $0 = http.openConnections }
            drained.mutex.withLock { $0 = true }
        }
        XCTAssertTrue(eventually { drained.value })
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(250))
        XCTAssertEqual(openAtCompletion.value, 1, "a forced drain is visible to the completion")
        XCTAssertTrue(stuck.isClosedByPeer())
        // A late completion for the closed connection is dropped quietly.
        server.releaseHeld()
        XCTAssertTrue(eventually { self.server.server.openConnections == 0 })
    }

    func testDrainWithNoConnectionsCompletesAtOnce() {
        let done = expectation(description: "drained")
        server.server.drain(timeout: .seconds(5)) { done.fulfill() }
        wait(for: [done], timeout: 2)
        XCTAssertTrue(connectionRefused())
    }

    func testShutdownClosesEverythingNow() throws {
        let busy = try server.client()
        try busy.send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n")
        let idle = try server.client()
        XCTAssertTrue(eventually { self.server.held.value.count == 1 && self.server.server.openConnections == 2 })
        server.server.shutdown()
        XCTAssertTrue(busy.isClosedByPeer())
        XCTAssertTrue(idle.isClosedByPeer())
        XCTAssertTrue(eventually { self.connectionRefused() })
        XCTAssertTrue(eventually { self.server.server.openConnections == 0 })
        server.releaseHeld()
    }
}
