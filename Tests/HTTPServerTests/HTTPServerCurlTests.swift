import Foundation
import HTTPServer
import XCTest

/// The server against a real external client.
final class HTTPServerCurlTests: XCTestCase {
    var server: TestServer!

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") else { throw XCTSkip("curl is not installed") }
        server = try TestServer()
    }

    override func tearDown() {
        server?.server.shutdown()
        server = nil
    }

    func curl(_ arguments: [String], input: Data? = nil) throws -> (status: Int32, output: String, log: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["--silent", "--show-error", "--http1.1", "--max-time", "10"] + arguments
        let output = Pipe(), log = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = log
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(input) }
        try stdin.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = log.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    func testKeepAliveAcrossTwoURLs() throws {
        let base = "http://127.0.0.1:\(server.port)"
        let result = try curl(["--verbose", "\(base)/hello", "\(base)/items/7"])
        XCTAssertEqual(result.status, 0, result.log)
        XCTAssertEqual(result.output, "helloitem 7")
        XCTAssertTrue(result.log.contains("Re-using existing connection") || result.log.contains("Reusing existing connection"), result.log)
        let exchanges = server.exchanges(atLeast: 2)
        XCTAssertEqual(exchanges.count, 2)
        XCTAssertEqual(Set(exchanges.map(\.remoteAddress)).count, 1, "one connection for both")
    }

    func testChunkedUpload() throws {
        let body = Data((0..<50_000).map { UInt8(ascii: "a") + UInt8($0 % 26) })
        let result = try curl(["-H", "Transfer-Encoding: chunked", "--data-binary", "@-", "http://127.0.0.1:\(server.port)/echo"], input: body)
        XCTAssertEqual(result.status, 0, result.log)
        XCTAssertEqual(result.output.utf8.count, body.count)
        XCTAssertEqual(Data(result.output.utf8), body)
        XCTAssertEqual(server.exchanges(atLeast: 1).first?.requestHeaders?["Transfer-Encoding"], "chunked")
    }
}
