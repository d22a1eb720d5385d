import HTTPServer
@testable import InferenceService
import XCTest

/// The HTTP answers of the core's failures, byte for byte as the routes gave them before the core.
final class InferenceFailureHTTPTests: XCTestCase {
    private func check(_ failure: InferenceFailure, _ status: Int, retryAfter: String?, _ body: String,
                       line: UInt = #line) {
        let response = failure.httpResponse
        XCTAssertEqual(response.status, status, line: line)
        XCTAssertEqual(response.headers["Retry-After"], retryAfter, line: line)
        XCTAssertEqual(response.headers["Content-Type"], "application/json", line: line)
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), body, line: line)
    }

    func testEachFailureHasItsStatusRetryAfterAndJSONError() {
        check(.invalidInput("missing field \"inputs\""), 400, retryAfter: nil, #"{"error":"missing field \"inputs\""}"#)
        check(.notReady, 503, retryAfter: "1", #"{"error":"the model is warming up; retry shortly"}"#)
        check(.overloaded(queuedClipLimit: 256), 503, retryAfter: "1",
              #"{"error":"the server is at capacity (256 clips queued); retry shortly"}"#)
        check(.timedOut, 504, retryAfter: nil, #"{"error":"the request waited longer than the request timeout"}"#)
        check(.cancelled, 499, retryAfter: nil, #"{"error":"the client closed the request before it ran; it was not computed"}"#)
        check(.shuttingDown, 503, retryAfter: "1", #"{"error":"the server is shutting down"}"#)
    }

    /// The same 503 as the routes' own `unavailable` answers (`/ping`, ...), headers and all.
    func testUnavailabilityMatchesTheRoutesOwn503() {
        for failure in [InferenceFailure.notReady, .shuttingDown, .overloaded(queuedClipLimit: 3)] {
            let routes = InferenceRoutes.unavailable(failure.message)
            XCTAssertEqual(failure.httpResponse.status, routes.status)
            XCTAssertEqual(failure.httpResponse.body, routes.body)
            XCTAssertEqual(failure.httpResponse.headers.map { "\($0.name): \($0.value)" }, routes.headers.map { "\($0.name): \($0.value)" })
        }
    }
}
