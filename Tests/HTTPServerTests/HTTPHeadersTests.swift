import HTTPServer
import XCTest

final class HTTPHeadersTests: XCTestCase {
    func testCaseInsensitiveLookupKeepsOrderAndSpelling() {
        var headers: HTTPHeaders = ["Content-Type": "a", "X-Id": "1"]
        headers.add(name: "x-id", value: "2")
        XCTAssertEqual(headers["CONTENT-type"], "a")
        XCTAssertEqual(headers.values("X-ID"), ["1", "2"])
        XCTAssertEqual(headers.map(\.name), ["Content-Type", "X-Id", "x-id"])
        XCTAssertNil(headers["missing"])
    }

    func testReplaceAndRemove() {
        var headers: HTTPHeaders = ["A": "1", "B": "2", "a": "3"]
        headers.replace(name: "a", value: "new")
        XCTAssertEqual(headers.map(\.value), ["new", "2"])
        headers["b"] = nil
        XCTAssertEqual(headers.count, 1)
        headers["C"] = "4"
        XCTAssertEqual(headers["c"], "4")
        headers.remove(name: "A")
        XCTAssertFalse(headers.contains("a"))
    }

    func testTokensSplitListsAcrossFieldLines() {
        let headers: HTTPHeaders = HTTPHeaders([("Connection", "Keep-Alive, Upgrade"), ("connection", " close ,")])
        XCTAssertEqual(headers.tokens("Connection"), ["keep-alive", "upgrade", "close"])
    }
}
