import HTTPServer
import XCTest

/// Responses with trailer fields (what gRPC's `grpc-status` needs) over real HTTP/2 streams: body, then a trailing
/// HEADERS frame that ends the stream, no content-length; HTTP/1.1 sends the body and drops the trailers.
final class HTTP2TrailerTests: LiveServerTestCase {
    func testTrailersFollowTheBodyInATrailingHeadersFrame() throws {
        let client = try HTTP2TestClient(port: server.port)
        let big = [UInt8](repeating: 7, count: 60_000)  // several DATA frames (16 KiB each) before the trailers
        let ids = [client.submit("POST", "/trailers", body: Array("abc".utf8)),
                   client.submit("POST", "/trailers", body: []),
                   client.submit("POST", "/trailers", body: big)]
        try client.runUntilAllClosed()
        for (id, count) in zip(ids, [3, 0, big.count]) {
            let response = client.response(id)
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.body.count, count)
            XCTAssertEqual(response.headers["x-body-bytes"], String(count), "trailer field (lowercased) of stream \(id)")
            XCTAssertEqual(response.headers["grpc-status"], "0")
            XCTAssertNil(response.headers["content-length"], "a response with trailers declares no length")
            XCTAssertEqual(response.closeCode, 0)
        }
        XCTAssertTrue(client.response(ids[2]).body == big, "the large body arrives whole")
        let exchanges = server.exchanges(atLeast: 3)
        XCTAssertTrue(exchanges.allSatisfy { $0.completed && $0.responseHeaders["grpc-status"] == "0" },
                      "the access log sees the trailers as response fields")
    }

    func testHTTP1SendsTheBodyWithoutTrailers() throws {
        let client = try TestClient(port: server.port)
        try client.send("POST /trailers HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nxyz")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "xyz")
        XCTAssertEqual(response.headers["Content-Length"], "3")
        XCTAssertNil(response.headers["X-Body-Bytes"])
    }
}
