@testable import HTTPServer
import XCTest

final class HTTPResponseEncoderTests: XCTestCase {
    let encoder = HTTPResponseEncoder(serverName: "signbert")
    let date = "Sun, 06 Nov 1994 08:49:37 GMT"

    func encode(_ response: HTTPResponse, method: String = "GET", connection: HTTPResponseEncoder.ConnectionField = .none) -> (String, String) {
        let (head, body) = encoder.encode(response, requestMethod: method, connection: connection, date: date)
        return (String(decoding: head, as: UTF8.self), String(decoding: body, as: UTF8.self))
    }

    func testServerOwnedFields() {
        let (head, body) = encode(.text("hi"))
        XCTAssertEqual(head, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nDate: \(date)\r\nServer: signbert\r\nContent-Length: 2\r\n\r\n")
        XCTAssertEqual(body, "hi")
    }

    func testContentLengthAlwaysMatchesBodyAndFramingFieldsAreDropped() {
        let response = HTTPResponse(status: 200, headers: ["Content-Length": "99", "Transfer-Encoding": "chunked", "Connection": "keep-alive"], body: Array("abc".utf8))
        let (head, _) = encode(response)
        XCTAssertTrue(head.contains("Content-Length: 3\r\n"))
        XCTAssertFalse(head.contains("Content-Length: 99"))
        XCTAssertFalse(head.contains("Transfer-Encoding"))
        XCTAssertFalse(head.contains("Connection"))
    }

    func testHeadKeepsLengthAndDropsBody() {
        let (head, body) = encode(.text("hello"), method: "HEAD")
        XCTAssertTrue(head.contains("Content-Length: 5\r\n"))
        XCTAssertEqual(body, "")
        // A HEAD handler that states the length without producing the body.
        let (declared, _) = encode(HTTPResponse(headers: ["Content-Length": "1234"]), method: "HEAD")
        XCTAssertTrue(declared.contains("Content-Length: 1234\r\n"))
    }

    func testNoContentHasNoLengthOrBody() {
        let (head, body) = encode(HTTPResponse(status: 204, body: Array("x".utf8)))
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 204 No Content\r\n"))
        XCTAssertFalse(head.contains("Content-Length"))
        XCTAssertEqual(body, "")
    }

    func testConnectionField() {
        XCTAssertTrue(encode(.text("x"), connection: .close).0.contains("Connection: close\r\n"))
        XCTAssertTrue(encode(.text("x"), connection: .keepAlive).0.contains("Connection: keep-alive\r\n"))
    }

    func testResponderFieldsCannotSplitTheResponse() {
        let (head, _) = encode(HTTPResponse(headers: ["X-Evil": "a\r\nSet-Cookie: x", "X-Fine": "ok"]))
        XCTAssertFalse(head.contains("Set-Cookie"))
        XCTAssertTrue(head.contains("X-Fine: ok\r\n"))
    }

    func testResponderDateAndServerWin() {
        let (head, _) = encode(HTTPResponse(headers: ["Server": "other", "Date": "then"]))
        XCTAssertTrue(head.contains("Server: other\r\n"))
        XCTAssertFalse(head.contains("signbert"))
        XCTAssertFalse(head.contains(date))
    }

    func testErrorAndJSONBodies() throws {
        let error = HTTPResponse.error(status: 400, message: "bad \"quote\"\n")
        XCTAssertEqual(error.headers["Content-Type"], "application/json")
        let decoded = try JSONSerialization.jsonObject(with: Data(error.body)) as? [String: String]
        XCTAssertEqual(decoded, ["error": "bad \"quote\"\n"])
        struct Payload: Encodable { var b = 2; var a = "x/y" }
        XCTAssertEqual(String(decoding: HTTPResponse.json(Payload()).body, as: UTF8.self), "{\"a\":\"x/y\",\"b\":2}")
    }

    func testDateFormat() {
        XCTAssertEqual(HTTPDate.format(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(HTTPDate.now().count, 29)
    }
}
