import Foundation
import XCTest

/// `GET /demo` over real sockets: the page and its files with their content types, the CSP, ETag revalidation, and
/// no page unless the configuration turns it on.
final class DemoPageTests: LiveInferenceTestCase {
    func testThePageAndItsFilesAreServedWithACSPAndETags() throws {
        let (_, client) = try start { service, _ in service.demoPage = true }
        let page = try client.get("/demo")
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.headers["content-type"], "text/html; charset=utf-8")
        let csp = try XCTUnwrap(page.headers["content-security-policy"])
        XCTAssertTrue(csp.hasPrefix("default-src 'none'; script-src 'self';"), csp)
        XCTAssertFalse(csp.contains("unsafe"), csp)
        XCTAssertEqual(page.headers["cache-control"], "no-cache")
        XCTAssertEqual(page.headers["x-content-type-options"], "nosniff")
        let html = String(decoding: page.body, as: UTF8.self)
        XCTAssertTrue(html.contains("<script src=\"/demo/demo.js\" defer></script>"), html)
        XCTAssertFalse(html.contains("http://") || html.contains("https://"), "the page names no other host")

        for (path, type) in [("/demo/demo.js", "text/javascript; charset=utf-8"), ("/demo/demo.css", "text/css; charset=utf-8"),
                             ("/demo/recording.pose", "application/x-pose"), ("/demo/recording.json", "application/json")] {
            let file = try client.get(path)
            XCTAssertEqual(file.status, 200, path)
            XCTAssertEqual(file.headers["content-type"], type, path)
            XCTAssertFalse(file.body.isEmpty, path)
            let etag = try XCTUnwrap(file.headers["etag"], path)
            let again = try client.send("GET", path, headers: ["If-None-Match": etag])
            XCTAssertEqual(again.status, 304, path)
            XCTAssertTrue(again.body.isEmpty, path)
            XCTAssertEqual(try client.send("GET", path, headers: ["If-None-Match": "\"other\""]).status, 200, path)
        }
        // The bundled recording's truth names gestures the model knows.
        let truth = try XCTUnwrap(try client.get("/demo/recording.json").json)
        let segments = try XCTUnwrap(truth["segments"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(segments.count, 5)
        XCTAssertEqual(try client.get("/demo/other.js").status, 404)
    }

    func testNoPageUnlessTurnedOn() throws {
        let (_, client) = try start()
        XCTAssertEqual(try client.get("/demo").status, 404)
        XCTAssertEqual(try client.get("/demo/demo.js").status, 404)
    }
}
