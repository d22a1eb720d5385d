import HTTPServer
import Synchronization
import XCTest

final class HTTPRouterTests: XCTestCase {
    let router = HTTPRouter()

    override func setUp() {
        router.add("GET", "/health") { _, _, done in done(.text("ok")) }
        router.add("POST", "/health") { _, _, done in done(.text("posted")) }
        router.add("POST", "/v2/models/{name}/infer") { _, parameters, done in done(.text("infer \(parameters["name"] ?? "")")) }
        router.add("POST", "/v2/models/special/infer") { _, _, done in done(.text("exact")) }
        router.add("DELETE", "/v2/models/{name}") { _, parameters, done in done(.text("delete \(parameters["name"] ?? "")")) }
    }

    func respond(_ method: String, _ target: String) -> HTTPResponse {
        let result = Mutex<HTTPResponse?>(nil)
        router.respond(to: HTTPRequest(method: method, target: target)) { response in result.withLock { $0 = response } }
        return result.withLock { $0 } ?? HTTPResponse(status: -1)
    }

    func text(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    func testExactRoute() {
        XCTAssertEqual(text(respond("GET", "/health")), "ok")
        XCTAssertEqual(text(respond("POST", "/health?x=1")), "posted")
    }

    func testHeadUsesGetHandler() {
        let response = respond("HEAD", "/health")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(text(response), "ok")  // the server, not the router, drops the body
    }

    func testPatternParameterIsDecodedPerSegment() {
        XCTAssertEqual(text(respond("POST", "/v2/models/sign%20bert/infer")), "infer sign bert")
        XCTAssertEqual(text(respond("POST", "/v2/models/a%2Fb/infer")), "infer a/b")
        XCTAssertEqual(text(respond("DELETE", "/v2/models/m1")), "delete m1")
    }

    func testExactSegmentsWinOverParameters() {
        XCTAssertEqual(text(respond("POST", "/v2/models/special/infer")), "exact")
    }

    /// `{name}:predict` (KServe V1): a parameter, then a literal suffix the segment must end with.
    func testParameterWithALiteralSuffix() {
        let router = HTTPRouter()
        // The plain parameter first, as the service's table has them: the suffix route still reports its pattern.
        router.add("GET", "/v1/models/{name}") { _, parameters, done in done(.text("status \(parameters["name"] ?? "")")) }
        router.add("POST", "/v1/models/{name}:predict") { _, parameters, done in done(.text("predict \(parameters["name"] ?? "")")) }
        func call(_ method: String, _ target: String) -> HTTPResponse {
            let result = Mutex<HTTPResponse?>(nil)
            router.respond(to: HTTPRequest(method: method, target: target)) { response in result.withLock { $0 = response } }
            return result.withLock { $0 } ?? HTTPResponse(status: -1)
        }
        XCTAssertEqual(text(call("POST", "/v1/models/a.b-c:predict")), "predict a.b-c")
        XCTAssertEqual(text(call("POST", "/v1/models/x%3Apredict:predict")), "predict x:predict")
        XCTAssertEqual(call("POST", "/v1/models/:predict").status, 405, "an empty name matches no POST route")
        XCTAssertEqual(call("POST", "/v1/models/m:explain").status, 405)
        XCTAssertEqual(text(call("GET", "/v1/models/m")), "status m")
        XCTAssertEqual(router.pattern(forPath: "/v1/models/m:predict"), "/v1/models/{name}:predict")
    }

    func testUnknownPathIs404() {
        let response = respond("GET", "/nope")
        XCTAssertEqual(response.status, 404)
        XCTAssertEqual(text(response), "{\"error\":\"no route for /nope\"}")
        XCTAssertEqual(respond("POST", "/v2/models//infer").status, 404, "an empty segment is no parameter")
        XCTAssertEqual(respond("GET", "/health/").status, 404)
    }

    func testWrongMethodIs405WithSortedAllow() {
        let response = respond("PUT", "/health")
        XCTAssertEqual(response.status, 405)
        XCTAssertEqual(response.headers["Allow"], "GET, HEAD, POST")
        XCTAssertEqual(response.headers["Content-Type"], "application/json")
        XCTAssertEqual(text(response), "{\"error\":\"method PUT not allowed for /health\"}")
        XCTAssertEqual(respond("GET", "/v2/models/x/infer").headers["Allow"], "POST")
    }

    /// The router says which pattern a request matched: the most specific route's, HEAD as GET, nothing for a
    /// 404 or 405; and for a path alone (a metric label), whatever the method.
    func testReportsTheMatchedPattern() {
        XCTAssertEqual(router.match(HTTPRequest(method: "POST", target: "/v2/models/m1/infer?x=1")),
                       HTTPRouteMatch(method: "POST", pattern: "/v2/models/{name}/infer"))
        XCTAssertEqual(router.match(HTTPRequest(method: "POST", target: "/v2/models/special/infer"))?.pattern,
                       "/v2/models/special/infer")
        XCTAssertEqual(router.match(HTTPRequest(method: "HEAD", target: "/health")), HTTPRouteMatch(method: "GET", pattern: "/health"))
        XCTAssertNil(router.match(HTTPRequest(method: "GET", target: "/v2/models/m1/infer")), "a 405 matched no route")
        XCTAssertNil(router.match(HTTPRequest(method: "GET", target: "/nope")))
        XCTAssertEqual(router.pattern(forPath: "/v2/models/any name/infer"), "/v2/models/{name}/infer")
        XCTAssertEqual(router.pattern(forPath: "/v2/models/m1"), "/v2/models/{name}")
        XCTAssertEqual(router.pattern(forPath: "/health"), "/health")
        XCTAssertNil(router.pattern(forPath: "/v2/models/m1/other"))
    }

    /// A route added at a concrete path reports the pattern it was given, and matches only its path.
    func testARouteAtAConcretePathReportsItsPattern() {
        router.add("GET", "/v1/models/demo", pattern: "/v1/models/{name}") { _, _, done in done(.text("demo")) }
        XCTAssertEqual(text(respond("GET", "/v1/models/demo")), "demo")
        XCTAssertEqual(respond("GET", "/v1/models/other").status, 404)
        XCTAssertEqual(router.match(HTTPRequest(method: "GET", target: "/v1/models/demo"))?.pattern, "/v1/models/{name}")
        XCTAssertEqual(router.pattern(forPath: "/v1/models/demo"), "/v1/models/{name}")
        XCTAssertNil(router.pattern(forPath: "/v1/models/other"))
    }
}
