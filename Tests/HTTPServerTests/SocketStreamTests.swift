import Dispatch
import Glibc
import Synchronization
import XCTest
@testable import HTTPServer

/// What a SocketStream reports when the peer's bytes and its close arrive while the stream's queue
/// is busy, as on a loaded server (tools/reliability/disconnects.py found closes that were missed).
final class SocketStreamTests: XCTestCase {
    /// What the stream reported, in order; set on the stream's queue, read by the test.
    private final class Events: Sendable {
        let log = Mutex<[String]>([])
        func add(_ event: String) { log.withLock { $0.append(event) } }
        var all: [String] { log.withLock { $0 } }
    }

    private func accepted(on listener: Socket) -> Socket? {
        var socket: Socket?
        _ = eventually { socket = (try? listener.accept())?.map { $0.socket }; return socket != nil }
        return socket
    }

    /// Data, then the peer's close (FIN or RST), both while the stream's queue is blocked: once the
    /// queue runs, the stream must deliver the data and then report the close.
    private func assertCloseSeenAfterData(reset: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let listener = try Socket.listen(host: "127.0.0.1", port: 0, backlog: 4)
        defer { listener.close() }
        let client = try TestClient(port: listener.localPort())
        guard let server = accepted(on: listener) else { return XCTFail("no connection accepted", file: file, line: line) }
        let queue = DispatchQueue(label: "SocketStreamTests")
        let stream = SocketStream(socket: server, queue: queue, yieldQueue: .global())
        let events = Events()
        let gate = DispatchSemaphore(value: 0)
        queue.sync {
            stream.onData = { bytes in events.add("data \(bytes.count)") }
            stream.onEndOfFile = { events.add("eof") }
            stream.onError = { _ in events.add("error") }
            stream.resumeReading()
        }
        queue.async { gate.wait() }  // the connection's queue is busy elsewhere
        try client.send(Array(repeating: UInt8(ascii: "x"), count: 100))
        Thread.sleep(forTimeInterval: 0.1)  // the read event fires and waits for the queue
        if reset { client.reset() } else { client.close() }
        Thread.sleep(forTimeInterval: 0.1)
        gate.signal()
        let closed = eventually(timeout: 3) { events.all.contains("eof") || events.all.contains("error") }
        XCTAssertTrue(closed, "the close was not reported; events: \(events.all)", file: file, line: line)
        if !reset {
            XCTAssertEqual(events.all, ["data 100", "eof"], file: file, line: line)
        }
        let done = DispatchSemaphore(value: 0)
        queue.async { stream.close { done.signal() } }
        XCTAssertEqual(done.wait(timeout: .now() + 3), .success, file: file, line: line)
    }

    func testEndOfFileBehindDataOnABusyQueueIsSeen() throws {
        try assertCloseSeenAfterData(reset: false)
    }

    func testResetBehindDataOnABusyQueueIsSeen() throws {
        try assertCloseSeenAfterData(reset: true)
    }
}
