import Dispatch
import Foundation
import HTTPServer
import Logging
import Synchronization
import XCTest

/// A server on 127.0.0.1, port 0, with short timeouts and a router of test routes; it records
/// every exchange the server reports.
final class TestServer: Sendable {
    let server: HTTPServer
    let router = HTTPRouter()
    let exchangeLog = Locked<[HTTPExchange]>([])
    /// Requests the /hold route has taken and not answered yet.
    let held = Locked<[@Sendable (HTTPResponse) -> Void]>([])

    static let shortTimeouts = HTTPServerConfiguration(
        host: "127.0.0.1", port: 0,
        maxHeaderBytes: 4096, maxHeaderCount: 20, maxBodyBytes: 64 * 1024,
        headerReadTimeout: .milliseconds(300), bodyIdleTimeout: .milliseconds(300),
        keepAliveIdleTimeout: .milliseconds(300), writeTimeout: .milliseconds(300),
        maxConnections: 100, serverName: "test", lingerTimeout: .milliseconds(300)
    )

    init(_ configuration: HTTPServerConfiguration = TestServer.shortTimeouts) throws {
        var logger = Logger(label: "HTTPServerTests")
        logger.logLevel = ProcessInfo.processInfo.environment["HTTP_TEST_LOG"] == nil ? .critical : .trace
        let log = exchangeLog
        server = HTTPServer(configuration: configuration, responder: router, logger: logger) { exchange in
            log.mutex.withLock { $0.append(exchange) }
        }
        addRoutes()
        try server.start()
    }

    var port: Int { server.port }
    var exchanges: [HTTPExchange] { exchangeLog.mutex.withLock { $0 } }

    /// The exchanges once at least `count` are reported: a report follows the last byte handed
    /// to the kernel, so a client may read the response before it is made.
    func exchanges(atLeast count: Int) -> [HTTPExchange] {
        _ = eventually { self.exchanges.count >= count }
        return exchanges
    }

    func client(receiveTimeout: Double = 5, receiveBuffer: Int32? = nil) throws -> TestClient {
        try TestClient(port: port, receiveTimeout: receiveTimeout, receiveBuffer: receiveBuffer)
    }

    /// One plain request on a new connection succeeds: the check after every abuse.
    func assertHealthy(file: StaticString = #filePath, line: UInt = #line) {
        do {
            let client = try client()
            try client.send("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200, file: file, line: line)
            XCTAssertEqual(response.text, "hello", file: file, line: line)
        } catch {
            XCTFail("server not healthy: \(error)", file: file, line: line)
        }
    }

    private func addRoutes() {
        router.add("GET", "/hello") { _, _, done in done(.text("hello")) }
        router.add("POST", "/echo") { request, _, done in
            var response = HTTPResponse(status: 200, body: request.body)
            response.headers["X-Method"] = request.method
            response.headers["X-Path"] = request.path
            done(response)
        }
        router.add("PUT", "/echo") { request, _, done in done(HTTPResponse(body: request.body)) }
        // The body back, then trailer fields (HTTP/2 sends them in a trailing HEADERS frame).
        router.add("POST", "/trailers") { request, _, done in
            done(HTTPResponse(status: 200, headers: ["Content-Type": "application/grpc"], body: request.body,
                              trailers: ["X-Body-Bytes": String(request.body.count), "Grpc-Status": "0"]))
        }
        // Answers from another queue after ?ms= milliseconds, like the batching service.
        router.add("GET", "/slow") { request, _, done in
            let ms = Int(request.queryValue("ms") ?? "100") ?? 100
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(ms)) {
                done(.text("slow \(request.queryValue("tag") ?? "")"))
            }
        }
        router.add("GET", "/big") { request, _, done in
            let size = Int(request.queryValue("bytes") ?? "1024") ?? 1024
            done(HTTPResponse(body: [UInt8](repeating: UInt8(ascii: "x"), count: size)))
        }
        router.add("GET", "/close") { _, _, done in
            done(HTTPResponse(status: 200, headers: ["Connection": "close"], body: Array("bye".utf8)))
        }
        router.add("GET", "/hold") { [held] _, _, done in held.mutex.withLock { $0.append(done) } }
        router.add("GET", "/items/{id}") { _, parameters, done in done(.text("item \(parameters["id"] ?? "?")")) }
    }

    /// Answers every request the /hold route is keeping.
    func releaseHeld(with response: HTTPResponse = .text("released")) {
        let pending = held.mutex.withLock { held in
            defer { held = [] }
            return held
        }
        for done in pending { done(response) }
    }
}

/// A Mutex that closures can share (Mutex itself cannot be copied into them).
final class Locked<Value: Sendable>: Sendable {
    let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value { mutex.withLock { $0 } }
}

/// A test case with a fresh server on a loopback port for every test, shut down after it.
class LiveServerTestCase: XCTestCase {
    var server: TestServer!

    override func setUpWithError() throws {
        server = try TestServer()
    }

    override func tearDown() {
        server.server.shutdown()
        server = nil
    }
}
