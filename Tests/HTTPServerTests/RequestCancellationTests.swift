import Foundation
import HTTPServer
import XCTest

/// `HTTPRequest.cancellation` tells a responder that its client is gone: reset, closed, half-closed
/// while waiting, or an HTTP/2 stream reset. A client that waits for its answer never sees it set.
final class RequestCancellationTests: LiveServerTestCase {
    /// The cancellation of every request to `/watch`, whose answers the test sends with `answer`.
    private let watched = Locked<[(RequestCancellation, @Sendable (HTTPResponse) -> Void)]>([])

    override func setUpWithError() throws {
        try super.setUpWithError()
        server.router.add("GET", "/watch") { [watched] request, _, done in
            watched.mutex.withLock { $0.append((request.cancellation, done)) }
        }
    }

    private func arrived(_ count: Int) -> [RequestCancellation] {
        XCTAssertTrue(eventually { watched.value.count >= count }, "the requests reached the responder")
        return watched.value.map(\.0)
    }

    private func answerAll() {
        for (_, done) in watched.value { done(.text("answered")) }
    }

    func testResetOrClosedClientCancelsItsRequest() throws {
        let reset = try server.client(), closed = try server.client()
        try reset.send("GET /watch HTTP/1.1\r\nHost: t\r\n\r\n")
        try closed.send("GET /watch HTTP/1.1\r\nHost: t\r\n\r\n")
        let requests = arrived(2)
        XCTAssertFalse(requests.contains { $0.isCancelled }, "not before the clients leave")
        reset.reset()
        closed.close()
        XCTAssertTrue(eventually { requests.allSatisfy(\.isCancelled) })
        answerAll()  // the answers go nowhere, but are reported; the server carries on
        let exchanges = server.exchanges(atLeast: 2)
        XCTAssertEqual(exchanges.count, 2)
        // The reset connection is closed: its answer is reported unsent. The closed one looks half-closed, so
        // its answer is written (the kernel takes it; the peer's reset comes later).
        XCTAssertEqual(exchanges.filter { $0.status == 200 && !$0.completed && $0.bytesWritten == 0 }.count, 1, "\(exchanges)")
        server.assertHealthy()
    }

    func testHalfClosedClientCancelsButStillGetsTheAnswer() throws {
        let client = try server.client()
        try client.send("GET /watch HTTP/1.1\r\nHost: t\r\n\r\n")
        let request = try XCTUnwrap(arrived(1).first)
        client.shutdownWrite()
        XCTAssertTrue(eventually { request.isCancelled })
        answerAll()
        XCTAssertEqual(try client.readResponse().text, "answered")
    }

    func testWaitingClientIsNeverCancelledEvenWhenItLeavesAfterTheAnswer() throws {
        let client = try server.client()
        try client.send("GET /watch HTTP/1.1\r\nHost: t\r\n\r\n")
        let request = try XCTUnwrap(arrived(1).first)
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertFalse(request.isCancelled)
        answerAll()
        XCTAssertEqual(try client.readResponse().text, "answered")
        client.reset()
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertFalse(request.isCancelled, "answered before the client left")
    }

    func testHTTP2StreamResetCancelsOnlyThatStream() throws {
        let client = try HTTP2TestClient(port: server.port)
        let gone = client.submit("GET", "/watch")
        let kept = client.submit("GET", "/watch")
        try client.run { watched.value.count >= 2 }
        let requests = arrived(2)
        client.resetStream(gone)
        try client.run { true }  // sends the RST_STREAM
        XCTAssertTrue(eventually { requests.contains(where: \.isCancelled) })
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertEqual(requests.filter(\.isCancelled).count, 1, "only the reset stream")
        answerAll()
        try client.run { client.response(kept).closeCode != nil }
        XCTAssertEqual(client.response(kept).text, "answered")
        XCTAssertFalse(requests.allSatisfy(\.isCancelled))
    }

    func testHTTP2ConnectionLossCancelsEveryOpenStream() throws {
        let client = try HTTP2TestClient(port: server.port)
        for _ in 0..<3 { client.submit("GET", "/watch") }
        try client.run { watched.value.count >= 3 }
        let requests = arrived(3)
        XCTAssertFalse(requests.contains { $0.isCancelled })
        client.socket.reset()
        XCTAssertTrue(eventually { requests.allSatisfy(\.isCancelled) })
        answerAll()
        server.assertHealthy()
    }
}
