import Foundation
import Glibc
import HTTPServer
import XCTest

/// Many clients at once, and clients that vanish at the worst moments.
final class HTTPServerStressTests: LiveServerTestCase {

    func testManyConcurrentClientsEachGetTheirOwnResponses() {
        let threads = 50, requests = 20
        let failures = Locked<[String]>([])
        let group = DispatchGroup()
        let server: TestServer = self.server
        for thread in 0..<threads {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    let client = try server.client()
                    for request in 0..<requests {
                        let body = "thread \(thread) request \(request)"
                        try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
                        let response = try client.readResponse()
                        if response.text != body { failures.mutex.withLock { $0.append("\(body) got \(response.text)") } }
                    }
                } catch {
                    failures.mutex.withLock { $0.append("thread \(thread): \(error)") }
                }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(failures.value, [])
        XCTAssertEqual(server.exchanges(atLeast: threads * requests).count, threads * requests)
    }

    func testGarbageFromManyClientsIsAnsweredOrDropped() throws {
        var random = SplitMix64(state: 11)
        for _ in 0..<30 {
            let client = try server.client()
            let garbage = (0..<Int.random(in: 1...3000, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            try? client.send(garbage + Array("\r\n\r\n".utf8))
            // Whatever the bytes were, the answer is an error and a close, never a hang.
            if let response = try? client.readResponse() {
                XCTAssertTrue((400..<600).contains(response.status), "\(response.status)")
            }
            client.reset()
        }
        XCTAssertTrue(eventually { self.server.server.openConnections == 0 })
        server.assertHealthy()
    }

    func testAbruptDisconnectsLeakNothing() throws {
        server.assertHealthy()
        XCTAssertTrue(eventually { self.server.server.openConnections == 0 })
        let baseline = openDescriptorCount()

        for index in 0..<10 {
            // Mid-body, with a reset or a plain close.
            let midBody = try server.client()
            try midBody.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n0123456789")
            if index.isMultiple(of: 2) { midBody.reset() } else { midBody.close() }
            // Mid-response: a 4 MiB answer abandoned after its first line.
            let midResponse = try server.client(receiveBuffer: 4096)
            try midResponse.send("GET /big?bytes=4194304 HTTP/1.1\r\nHost: t\r\n\r\n")
            _ = try midResponse.readLine()
            midResponse.reset()
            // Mid-head, and gone before the responder answers.
            let midHead = try server.client()
            try midHead.send("GET /hello HTTP/1.1\r\nHo")
            midHead.close()
            let early = try server.client()
            try early.send("GET /slow?ms=100 HTTP/1.1\r\nHost: t\r\n\r\n")
            early.reset()
            // Connect and leave.
            try server.client().close()
        }
        XCTAssertTrue(eventually { self.server.server.openConnections == 0 }, "open: \(server.server.openConnections)")
        XCTAssertTrue(eventually { openDescriptorCount() <= baseline }, "fds: \(openDescriptorCount()) vs \(baseline)")
        XCTAssertTrue(server.exchanges.contains { $0.path == "/big" && !$0.completed })
        server.assertHealthy()
    }
}
