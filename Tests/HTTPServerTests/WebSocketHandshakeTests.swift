import HTTPServer
import XCTest

/// Which requests are a valid opening handshake (RFC 6455 §4.2.1), and the refusal of the others.
final class WebSocketHandshakeTests: XCTestCase {
    private func request(_ headers: HTTPHeaders, method: String = "GET", version: HTTPVersion = .http1_1) -> HTTPRequest {
        HTTPRequest(method: method, target: "/stream", version: version, headers: headers)
    }

    private let valid: HTTPHeaders = ["Upgrade": "websocket", "Connection": "keep-alive, Upgrade",
                                      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"]

    func testAValidHandshakeIsAccepted() {
        XCTAssertNil(WebSocketHandshake.refusal(request(valid)))
        var mixedCase = valid
        mixedCase.replace(name: "Upgrade", value: "WebSocket")
        XCTAssertNil(WebSocketHandshake.refusal(request(mixedCase)), "the Upgrade token is case-insensitive")
    }

    func testRefusals() {
        XCTAssertEqual(WebSocketHandshake.refusal(request([:]))?.status, 426)
        XCTAssertEqual(WebSocketHandshake.refusal(request([:]))?.headers["Upgrade"], "websocket")
        var version = valid
        version.replace(name: "Sec-WebSocket-Version", value: "8")
        XCTAssertEqual(WebSocketHandshake.refusal(request(version))?.status, 426)
        XCTAssertEqual(WebSocketHandshake.refusal(request(version))?.headers["Sec-WebSocket-Version"], "13")
        var key = valid
        key.replace(name: "Sec-WebSocket-Key", value: "c2hvcnQ=")
        XCTAssertEqual(WebSocketHandshake.refusal(request(key))?.status, 400, "a key of 5 bytes, not 16")
        var connection = valid
        connection.replace(name: "Connection", value: "keep-alive")
        XCTAssertEqual(WebSocketHandshake.refusal(request(connection))?.status, 400)
        XCTAssertEqual(WebSocketHandshake.refusal(request(valid, method: "POST"))?.status, 400)
        XCTAssertEqual(WebSocketHandshake.refusal(request(valid, version: .http1_0))?.status, 400)
    }

    func testOfferedProtocolsAcrossFields() {
        var headers = valid
        headers.add(name: "Sec-WebSocket-Protocol", value: "signbert.stream.v1, signbert.key.abc")
        headers.add(name: "Sec-WebSocket-Protocol", value: " other ")
        XCTAssertEqual(WebSocketHandshake.offeredProtocols(request(headers)), ["signbert.stream.v1", "signbert.key.abc", "other"])
    }
}
