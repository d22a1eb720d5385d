import Foundation
import HTTPServer
import Synchronization
import XCTest

/// The WebSocket over real sockets: the hand-over after a 101, messages both ways, the closing handshake, the idle
/// timeout and the drain, with an echo handler (the live-stream service has its own tests in tools/stream_test.py).
final class WebSocketServerTests: XCTestCase {
    /// Echoes every message; closes with 1001 when the server drains; records the close code it hears.
    final class EchoHandler: WebSocketHandler {
        let channel = Mutex<WebSocketChannel?>(nil)
        let closedCode = Mutex<UInt16??>(nil)

        func opened(_ channel: WebSocketChannel) { self.channel.withLock { $0 = channel } }
        func received(_ message: WebSocketMessage) {
            let channel = channel.withLock { $0 }
            switch message {
            case .text(let text): channel?.send(text: "echo: " + text)
            case .binary(let bytes): channel?.send(binary: bytes.reversed())
            }
        }
        func drain() { channel.withLock { $0 }?.close(code: 1001, reason: "draining") }
        func closed(code: UInt16?) { closedCode.withLock { $0 = .some(code) } }
    }

    private var server: TestServer!
    private let handlers = Locked<[EchoHandler]>([])

    private func start(_ configuration: HTTPServerConfiguration = TestServer.shortTimeouts) throws {
        server = try TestServer(configuration)
        server.router.add("GET", "/ws") { [handlers] request, _, respond in
            if let refusal = WebSocketHandshake.refusal(request) { return respond(refusal) }
            let handler = EchoHandler()
            handlers.mutex.withLock { $0.append(handler) }
            respond(.webSocket(WebSocketUpgrade(subprotocol: "echo", handler: handler)))
        }
    }

    override func tearDown() {
        server?.server.shutdown()
        server = nil
    }

    private func open(_ client: TestClient, path: String = "/ws") throws -> TestClient.Response {
        try client.send("GET \(path) HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        return try client.readResponse(bodyless: true)
    }

    private func readFrame(_ client: TestClient) throws -> WebSocketFrame {
        let head = try client.readBytes(2)
        XCTAssertEqual(head[1] & 0x80, 0, "server frames are unmasked")
        var length = Int(head[1] & 0x7F)
        if length == 126 { length = try client.readBytes(2).reduce(0) { $0 << 8 | Int($1) } }
        if length == 127 { length = try client.readBytes(8).reduce(0) { $0 << 8 | Int($1) } }
        let payload = try client.readBytes(length)
        return WebSocketFrame(fin: head[0] & 0x80 != 0, opcode: WebSocketOpcode(rawValue: head[0] & 0x0F) ?? .continuation,
                              payload: payload)
    }

    private let mask: [UInt8] = [9, 8, 7, 6]

    func testEchoAndTheClosingHandshake() throws {
        try start()
        let client = try server.client()
        let response = try open(client)
        XCTAssertEqual(response.status, 101)
        XCTAssertEqual(response.headers["Sec-WebSocket-Accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        XCTAssertEqual(response.headers["Sec-WebSocket-Protocol"], "echo")
        XCTAssertNil(response.headers["Content-Length"])
        // A fragmented text with a ping between its fragments, and a binary message of 70,000 bytes.
        try client.send(WebSocketFrame(fin: false, opcode: .text, payload: Array("hel".utf8)).encoded(mask: mask)
                        + WebSocketFrame(opcode: .ping, payload: [1]).encoded(mask: mask)
                        + WebSocketFrame(opcode: .continuation, payload: Array("lo".utf8)).encoded(mask: mask))
        XCTAssertEqual(try readFrame(client), WebSocketFrame(opcode: .pong, payload: [1]))
        XCTAssertEqual(try readFrame(client), WebSocketFrame(opcode: .text, payload: Array("echo: hello".utf8)))
        let big = (0..<70_000).map { UInt8(truncatingIfNeeded: $0) }
        try client.send(WebSocketFrame(opcode: .binary, payload: big).encoded(mask: mask))
        XCTAssertEqual(try readFrame(client), WebSocketFrame(opcode: .binary, payload: big.reversed()))
        try client.send(WebSocketFrame(opcode: .close, payload: WebSocketFrame.closePayload(code: 1000, reason: "bye")).encoded(mask: mask))
        XCTAssertEqual(try readFrame(client), WebSocketFrame(opcode: .close, payload: [0x03, 0xE8]))
        XCTAssertTrue(client.isClosedByPeer(), "the server closes TCP after the closing handshake")
        XCTAssertTrue(eventually { self.handlers.mutex.withLock { $0.first?.closedCode.withLock { $0 } } == .some(.some(1000)) })
        XCTAssertEqual(server.exchanges(atLeast: 1).first?.status, 101)
        XCTAssertTrue(eventually { self.server.server.openConnections == 0 })
        server.assertHealthy()
    }

    func testAProtocolErrorClosesWith1002AndTheSocket() throws {
        try start()
        let client = try server.client()
        XCTAssertEqual(try open(client).status, 101)
        try client.send(WebSocketFrame(opcode: .text, payload: Array("x".utf8)).encoded())  // unmasked
        let close = try readFrame(client)
        XCTAssertEqual(close.opcode, .close)
        XCTAssertEqual(Array(close.payload.prefix(2)), [0x03, 0xEA])
        XCTAssertTrue(client.isClosedByPeer())
    }

    func testIdleTimeoutCloses1001() throws {
        var configuration = TestServer.shortTimeouts
        configuration.webSocketIdleTimeout = .milliseconds(200)
        try start(configuration)
        let client = try server.client()
        XCTAssertEqual(try open(client).status, 101)
        let close = try readFrame(client)
        XCTAssertEqual(close.opcode, .close)
        XCTAssertEqual(Array(close.payload.prefix(2)), [0x03, 0xE9])
        // No answer from the client: the socket closes after the linger timeout.
        XCTAssertTrue(client.isClosedByPeer())
    }

    func testDrainReachesTheHandlerAndFinishesOnceTheClientAnswers() throws {
        try start()
        let client = try server.client()
        XCTAssertEqual(try open(client).status, 101)
        let drained = Locked(false)
        server.server.drain(timeout: .seconds(5)) { drained.mutex.withLock { $0 = true } }
        let close = try readFrame(client)
        XCTAssertEqual(close.opcode, .close)
        XCTAssertEqual(Array(close.payload.prefix(2)), [0x03, 0xE9])
        XCTAssertEqual(String(decoding: close.payload.dropFirst(2), as: UTF8.self), "draining")
        XCTAssertFalse(drained.value, "the drain waits for the WebSocket")
        try client.send(WebSocketFrame(opcode: .close, payload: [0x03, 0xE9]).encoded(mask: mask))
        XCTAssertTrue(client.isClosedByPeer())
        XCTAssertTrue(eventually { drained.value })
        XCTAssertEqual(server.server.openConnections, 0)
    }

    /// Hears `opened` slowly (as on a preempted thread), then greets the client.
    final class SlowOpenHandler: WebSocketHandler {
        let hasOpened = Atomic<Bool>(false)

        func opened(_ channel: WebSocketChannel) {
            Thread.sleep(forTimeInterval: 0.3)
            hasOpened.store(true, ordering: .sequentiallyConsistent)
            channel.send(text: "welcome")
        }
        func received(_ message: WebSocketMessage) {}
        func drain() {}
        func closed(code: UInt16?) {}
    }

    /// A handler that limits its streams (`--max-streams`) counts one in `opened`: that must happen before the
    /// client can read its 101, or a client that connects after it may be counted first and take its place.
    /// What `opened` sends still follows the 101.
    func testTheHandlerHearsOpenedBeforeTheClientReadsThe101() throws {
        try start()
        let handler = SlowOpenHandler()
        server.router.add("GET", "/slow-open") { _, _, respond in
            respond(.webSocket(WebSocketUpgrade(subprotocol: nil, handler: handler)))
        }
        let client = try server.client()
        XCTAssertEqual(try open(client, path: "/slow-open").status, 101)
        XCTAssertTrue(handler.hasOpened.load(ordering: .sequentiallyConsistent), "the 101 came before opened was heard")
        XCTAssertEqual(try readFrame(client), WebSocketFrame(opcode: .text, payload: Array("welcome".utf8)))
    }

    func testAPlainGetIsRefusedWith426() throws {
        try start()
        let client = try server.client()
        try client.send("GET /ws HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 426)
    }
}
