import Foundation
import HTTPServer
import XCTest

/// HTTP/2 against real external clients: curl with prior knowledge and with `Upgrade: h2c`,
/// and nghttp (Debian nghttp2-client) multiplexing several requests on one connection.
final class HTTP2CurlTests: XCTestCase {
    var server: TestServer!

    override func setUpWithError() throws {
        server = try TestServer()
    }

    override func tearDown() {
        server?.server.shutdown()
        server = nil
    }

    private func run(_ tool: String, _ arguments: [String], input: Data? = nil) throws -> (status: Int32, output: String, log: String) {
        let path = "/usr/bin/\(tool)"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            XCTFail("\(path) is missing: tools/setup.sh installs it")
            return (-1, "", "")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe(), log = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = log
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(input) }
        try stdin.fileHandleForWriting.close()
        // Both pipes drained at once, so a chatty tool cannot fill one and block.
        let errors = Locked(Data())
        let reader = Thread { errors.mutex.withLock { $0 = log.fileHandleForReading.readDataToEndOfFile() } }
        reader.start()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        _ = eventually { reader.isFinished }
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: errors.value, as: UTF8.self))
    }

    private func curl(_ arguments: [String], input: Data? = nil) throws -> (status: Int32, output: String, log: String) {
        try run("curl", ["--silent", "--show-error", "--max-time", "10"] + arguments, input: input)
    }

    /// One URL per curl: curl 7.88 (Debian 12) fails to reuse a prior-knowledge connection for
    /// a second URL (curl/curl#10634, fixed in 8.0); nghttp below covers many on one connection.
    func testCurlWithPriorKnowledge() throws {
        let base = "http://127.0.0.1:\(server.port)"
        let get = try curl(["--http2-prior-knowledge", "--write-out", " %{http_version}", "\(base)/items/7"])
        XCTAssertEqual(get.status, 0, get.log)
        XCTAssertEqual(get.output, "item 7 2")
        let body = Data((0..<100).map { UInt8($0) })
        let post = try curl(["--http2-prior-knowledge", "--data-binary", "@-", "--include", "\(base)/echo"], input: body)
        XCTAssertEqual(post.status, 0, post.log)
        XCTAssertTrue(post.output.hasPrefix("HTTP/2 200"), post.output)
        XCTAssertTrue(post.output.contains("x-method: POST\r\n"), post.output)
        XCTAssertTrue(post.output.hasSuffix(String(decoding: body, as: UTF8.self)), post.output)
        let exchanges = server.exchanges(atLeast: 2)
        XCTAssertEqual(exchanges.map(\.protocolVersion), [.http2, .http2])
        XCTAssertEqual(exchanges.map(\.version), [.http2, .http2])
    }

    func testCurlUpgradesAGetToH2c() throws {
        let result = try curl(["--http2", "--verbose", "--write-out", " %{http_version}", "http://127.0.0.1:\(server.port)/items/9"])
        XCTAssertEqual(result.status, 0, result.log)
        XCTAssertEqual(result.output, "item 9 2")
        XCTAssertTrue(result.log.contains("HTTP/1.1 101 Switching Protocols"), result.log)
        XCTAssertEqual(server.exchanges(atLeast: 1).first?.protocolVersion, .http2)
    }

    /// curl sends `Upgrade: h2c` on a POST too; the server has the whole body by then (read under
    /// the HTTP/1.1 limits), so it upgrades and answers it on stream 1.
    func testCurlUpgradesAPostWithABody() throws {
        let body = Data((0..<40_000).map { UInt8(ascii: "a") + UInt8($0 % 26) })
        let result = try curl(["--http2", "--verbose", "--data-binary", "@-", "--write-out", "|%{http_version}",
                               "http://127.0.0.1:\(server.port)/echo"], input: body)
        XCTAssertEqual(result.status, 0, result.log)
        XCTAssertTrue(result.log.contains("Upgrade: h2c"), result.log)
        XCTAssertEqual(result.output, String(decoding: body, as: UTF8.self) + "|2")
    }

    func testUpgradeWithABadHTTP2SettingsIsServedOverHTTP1() throws {
        let client = try server.client()
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: !!!\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "hello")
        // A payload that decodes but is not whole SETTINGS entries (6 bytes each) is refused too.
        try client.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMA\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "hello")
        XCTAssertEqual(server.exchanges(atLeast: 2).map(\.protocolVersion), [.http1_1, .http1_1])
    }

    func testNghttpMultiplexesWithPriorKnowledgeAndUpgrade() throws {
        let base = "http://127.0.0.1:\(server.port)"
        let urls = (0..<10).map { "\(base)/slow?ms=200&tag=\($0)" }
        for upgrade in [false, true] {
            let start = Date()
            let result = try run("nghttp", ["--stat", "--verbose"] + (upgrade ? ["--upgrade"] : []) + urls)
            XCTAssertEqual(result.status, 0, result.log + result.output)
            XCTAssertLessThan(Date().timeIntervalSince(start), 1.5, "10 × 200 ms should overlap on one connection")
            for tag in 0..<10 { XCTAssertTrue(result.output.contains("slow \(tag)"), result.output) }
            XCTAssertEqual(result.output.components(separatedBy: ":status: 200").count - 1, 10, result.output)
            if upgrade { XCTAssertTrue(result.output.contains("HTTP Upgrade response"), result.output) }
        }
        XCTAssertEqual(Set(server.exchanges(atLeast: 20).map(\.protocolVersion)), [.http2])
    }
}
