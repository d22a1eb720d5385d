import Foundation
import XCTest

/// `serve --demo` / `--no-demo`: the demo page is off for a model other than the bundled one unless asked for.
/// (On by default with the bundled model: tools/demo_browser_test.py serves it without flags.)
final class DemoServeProcessTests: XCTestCase {
    private func status(of path: String, _ extra: [String]) throws -> Int {
        let server = try ServerProcess(["--checkpoint", CommandFixtures.trainingRun.path, "--host", "127.0.0.1",
                                        "--port", "0"] + extra)
        defer { server.stop() }
        let port = try server.waitForPort()
        try server.waitUntilReady(port: port)
        return try RawHTTPClient(port: port).request("GET", path).status
    }

    func testTheDemoFlag() throws {
        XCTAssertEqual(try status(of: "/demo", []), 404)
        XCTAssertEqual(try status(of: "/demo", ["--demo"]), 200)
        XCTAssertEqual(try status(of: "/demo/demo.js", ["--demo"]), 200)
        XCTAssertEqual(try status(of: "/demo", ["--no-demo"]), 404)
    }
}
