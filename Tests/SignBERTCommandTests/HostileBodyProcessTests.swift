import Foundation
import XCTest

/// Bodies built to make the JSON decoder's memory explode, sent to a real `signbert serve` over a socket: the
/// server's peak RSS (VmHWM, reset before each body) grows by at most the stated bound and the server answers
/// 400. Before the fix, 781 KB of `[[0],[0],...,"x"]` took 767 MB.
final class HostileBodyProcessTests: XCTestCase {
    /// docs/RELIABILITY.md's bound for one request: the decoded structure (at most 8 bytes per byte of
    /// JSON), the body's own buffers (at most 3x while they grow), plus a constant for thread stacks and
    /// per-thread malloc arenas first touched by the request.
    static func bound(bodyBytes: Int) -> Int { 12 * bodyBytes + 8 * 1024 * 1024 }

    func testJSONBombBodiesStayWithinTheMemoryBound() throws {
        let server = try ServerProcess(["--checkpoint", CommandFixtures.trainingRun.path, "--host", "127.0.0.1", "--port", "0"])
        defer { server.stop() }
        let port = try server.waitForPort()
        try server.waitUntilReady(port: port)
        let pid = server.process.processIdentifier
        let client = RawHTTPClient(port: port)

        let smallArrays = Array(repeating: "[0]", count: 195_000).joined(separator: ",")
        let numbers = Array(repeating: "0", count: 390_000).joined(separator: ",")
        let strings = Array(repeating: "\"abcdefghijklmnop\"", count: 40_000).joined(separator: ",")
        let bodies: [(path: String, body: String)] = [
            ("/predict", "{\"inputs\": [\(smallArrays),\"x\"]}"),
            ("/predict", "{\"inputs\": [\(numbers),\"x\"]}"),
            ("/v1/models/signbert:predict", "{\"instances\": [\(smallArrays),\"x\"]}"),
            ("/v2/models/signbert/infer",
             "{\"inputs\": [{\"name\": \"keypoints\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [\(smallArrays),\"x\"]}]}"),
            ("/predict", "{\"inputs\": [\(strings)]}"),
        ]
        // One ordinary request first: what any first request touches (stacks, arenas) is not the body's.
        _ = try client.request("GET", "/health")
        for (path, body) in bodies {
            let bytes = Data(body.utf8)
            try resetPeak(pid)
            let before = try memoryField("VmRSS", pid)
            let response = try client.postJSON(path, bytes)
            let peak = try memoryField("VmHWM", pid)
            let growth = peak - before
            print("\(path), \(bytes.count) bytes: peak RSS +\(growth / 1024) KB (bound \(Self.bound(bodyBytes: bytes.count) / 1024) KB)")
            XCTAssertEqual(response.status, 400, "\(path): \(response.text.prefix(300))")
            XCTAssertLessThan(growth, Self.bound(bodyBytes: bytes.count), "\(path), \(bytes.count) bytes")
        }
        XCTAssertEqual(try client.request("GET", "/health").status, 200)
    }

    struct MissingField: Error, CustomStringConvertible { let description: String }

    /// Linux: writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS.
    private func resetPeak(_ pid: Int32) throws {
        try "5".write(toFile: "/proc/\(pid)/clear_refs", atomically: false, encoding: .utf8)
    }

    /// A `kB` field of /proc/PID/status, in bytes.
    private func memoryField(_ name: String, _ pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            throw MissingField(description: "no \(name) in /proc/\(pid)/status")
        }
        return kilobytes * 1024
    }
}
