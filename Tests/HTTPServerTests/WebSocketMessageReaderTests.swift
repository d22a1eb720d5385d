import HTTPServer
import XCTest

/// Messages from frames: fragments joined around control frames, and the message-level rules (order of
/// fragments, UTF-8, size, close frames) with their close codes.
final class WebSocketMessageReaderTests: XCTestCase {
    private let mask: [UInt8] = [1, 2, 3, 4]

    private func events(_ frames: [WebSocketFrame], maxMessageBytes: Int = 1000) throws -> [WebSocketEvent] {
        var reader = WebSocketMessageReader(maxFrameBytes: 1000, maxMessageBytes: maxMessageBytes)
        reader.append(frames.flatMap { $0.encoded(mask: mask) })
        var events: [WebSocketEvent] = []
        while let event = try reader.next() { events.append(event) }
        return events
    }

    private func code(_ frames: [WebSocketFrame], maxMessageBytes: Int = 1000) -> UInt16? {
        do { _ = try events(frames, maxMessageBytes: maxMessageBytes); return nil } catch {
            return (error as? WebSocketProtocolError)?.code
        }
    }

    func testFragmentedTextWithAPingBetween() throws {
        // "é" (C3 A9) split across two fragments: UTF-8 is checked on the whole message.
        let frames = [WebSocketFrame(fin: false, opcode: .text, payload: [0x61, 0xC3]),
                      WebSocketFrame(opcode: .ping, payload: Array("p".utf8)),
                      WebSocketFrame(fin: false, opcode: .continuation, payload: [0xA9]),
                      WebSocketFrame(opcode: .continuation, payload: Array("b".utf8)),
                      WebSocketFrame(opcode: .binary, payload: [0, 255])]
        XCTAssertEqual(try events(frames), [.ping(Array("p".utf8)), .text("aéb"), .binary([0, 255])])
    }

    func testCloseFrames() throws {
        XCTAssertEqual(try events([WebSocketFrame(opcode: .close, payload: [])]), [.close(code: nil, reason: "")])
        XCTAssertEqual(try events([WebSocketFrame(opcode: .close, payload: WebSocketFrame.closePayload(code: 1000, reason: "bye"))]),
                       [.close(code: 1000, reason: "bye")])
        XCTAssertEqual(code([WebSocketFrame(opcode: .close, payload: [3])]), WebSocketCloseCode.protocolError)
        for bad: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 2999, 5000] {
            XCTAssertEqual(code([WebSocketFrame(opcode: .close, payload: WebSocketFrame.closePayload(code: bad, reason: ""))]),
                           WebSocketCloseCode.protocolError, "code \(bad)")
        }
        XCTAssertEqual(code([WebSocketFrame(opcode: .close, payload: [0x03, 0xE8, 0xFF])]), WebSocketCloseCode.invalidData)
    }

    func testMessageRules() {
        XCTAssertEqual(code([WebSocketFrame(opcode: .text, payload: [0xC3, 0x28])]), WebSocketCloseCode.invalidData, "bad UTF-8")
        XCTAssertEqual(code([WebSocketFrame(opcode: .text, payload: [0xED, 0xA0, 0x80])]), WebSocketCloseCode.invalidData, "a surrogate")
        XCTAssertEqual(code([WebSocketFrame(opcode: .continuation, payload: [1])]), WebSocketCloseCode.protocolError,
                       "a continuation with nothing to continue")
        XCTAssertEqual(code([WebSocketFrame(fin: false, opcode: .text, payload: [0x61]), WebSocketFrame(opcode: .text, payload: [0x62])]),
                       WebSocketCloseCode.protocolError, "a new message inside a fragmented one")
        XCTAssertEqual(code([WebSocketFrame(fin: false, opcode: .binary, payload: [UInt8](repeating: 0, count: 60)),
                             WebSocketFrame(opcode: .continuation, payload: [UInt8](repeating: 0, count: 60))], maxMessageBytes: 100),
                       WebSocketCloseCode.messageTooBig)
        XCTAssertEqual(code([WebSocketFrame(opcode: .binary, payload: [UInt8](repeating: 0, count: 101))], maxMessageBytes: 100),
                       WebSocketCloseCode.messageTooBig, "one frame over the message limit")
    }
}
