import HTTPServer
import XCTest

/// Frames written by `WebSocketFrame.encoded` (masked, as a client sends them) parsed back, byte by byte and in
/// one piece, and each frame-level violation refused with RFC 6455's close code.
final class WebSocketFrameParserTests: XCTestCase {
    private let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]

    private func parse(_ bytes: [UInt8], maxFrameBytes: Int = 1 << 20) throws -> [WebSocketFrame] {
        var parser = WebSocketFrameParser(maxFrameBytes: maxFrameBytes)
        parser.append(bytes)
        var frames: [WebSocketFrame] = []
        while let frame = try parser.next() { frames.append(frame) }
        return frames
    }

    private func code(_ bytes: [UInt8], maxFrameBytes: Int = 1 << 20) -> UInt16? {
        do { _ = try parse(bytes, maxFrameBytes: maxFrameBytes); return nil } catch { return (error as? WebSocketProtocolError)?.code }
    }

    func testRFC6455MaskedHelloExample() throws {
        // §5.7: a single-frame masked text message "Hello".
        let bytes: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        XCTAssertEqual(try parse(bytes), [WebSocketFrame(opcode: .text, payload: Array("Hello".utf8))])
        XCTAssertEqual(WebSocketFrame(opcode: .text, payload: Array("Hello".utf8)).encoded(mask: mask), bytes)
        // The server's unmasked form of the same frame.
        XCTAssertEqual(WebSocketFrame(opcode: .text, payload: Array("Hello".utf8)).encoded(), [0x81, 0x05] + Array("Hello".utf8))
    }

    func testLengthFormsRoundTripByteByByte() throws {
        for count in [0, 125, 126, 65_535, 65_536, 70_000] {
            let payload = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let frame = WebSocketFrame(fin: count % 2 == 0, opcode: .binary, payload: payload)
            let bytes = frame.encoded(mask: mask)
            XCTAssertEqual(bytes.count, payload.count + 4 + (count < 126 ? 2 : count <= 65_535 ? 4 : 10))
            XCTAssertEqual(try parse(bytes), [frame], "length \(count)")
            if count <= 126 {
                var parser = WebSocketFrameParser(maxFrameBytes: 1 << 20)
                var parsed: [WebSocketFrame] = []
                for byte in bytes {
                    parser.append([byte])
                    if let frame = try parser.next() { parsed.append(frame) }
                }
                XCTAssertEqual(parsed, [frame])
            }
        }
    }

    func testSeveralFramesInOneBuffer() throws {
        let frames = [WebSocketFrame(fin: false, opcode: .text, payload: Array("ab".utf8)),
                      WebSocketFrame(opcode: .ping, payload: [1, 2]),
                      WebSocketFrame(opcode: .continuation, payload: Array("c".utf8))]
        XCTAssertEqual(try parse(frames.flatMap { $0.encoded(mask: mask) }), frames)
    }

    func testViolationsGetTheirCloseCodes() {
        let text = WebSocketFrame(opcode: .text, payload: Array("x".utf8))
        XCTAssertEqual(code(text.encoded()), WebSocketCloseCode.protocolError, "an unmasked client frame")
        var reserved = text.encoded(mask: mask)
        reserved[0] |= 0x40
        XCTAssertEqual(code(reserved), WebSocketCloseCode.protocolError, "RSV1 without an extension")
        var unknown = text.encoded(mask: mask)
        unknown[0] = 0x83
        XCTAssertEqual(code(unknown), WebSocketCloseCode.protocolError, "opcode 3")
        var unknownControl = text.encoded(mask: mask)
        unknownControl[0] = 0x8B
        XCTAssertEqual(code(unknownControl), WebSocketCloseCode.protocolError, "opcode 11")
        XCTAssertEqual(code(WebSocketFrame(fin: false, opcode: .ping, payload: []).encoded(mask: mask)),
                       WebSocketCloseCode.protocolError, "a fragmented ping")
        XCTAssertEqual(code(WebSocketFrame(opcode: .ping, payload: [UInt8](repeating: 0, count: 126)).encoded(mask: mask)),
                       WebSocketCloseCode.protocolError, "a 126-byte ping")
        XCTAssertEqual(code(WebSocketFrame(opcode: .binary, payload: [UInt8](repeating: 0, count: 101)).encoded(mask: mask),
                            maxFrameBytes: 100), WebSocketCloseCode.messageTooBig)
        // Refused from the header alone: the 2^40-byte payload never has to arrive.
        let huge: [UInt8] = [0x82, 0xFF, 0, 0, 1, 0, 0, 0, 0, 0] + mask
        XCTAssertEqual(code(huge), WebSocketCloseCode.messageTooBig)
        let topBit: [UInt8] = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0] + mask
        XCTAssertEqual(code(topBit), WebSocketCloseCode.protocolError)
    }

    func testIncompleteFrameWaits() throws {
        let bytes = WebSocketFrame(opcode: .binary, payload: [UInt8](repeating: 7, count: 300)).encoded(mask: mask)
        XCTAssertEqual(try parse(Array(bytes.dropLast())), [])
        XCTAssertEqual(try parse(Array(bytes.prefix(3))), [])
    }

    func testClosePayloadCutsTheReasonOnACharacterBoundary() {
        let payload = WebSocketFrame.closePayload(code: 1001, reason: String(repeating: "é", count: 100))
        XCTAssertLessThanOrEqual(payload.count, 125)
        XCTAssertEqual(Array(payload.prefix(2)), [0x03, 0xE9])
        XCTAssertNotNil(String(validating: payload.dropFirst(2), as: UTF8.self))
        XCTAssertEqual(payload.count, 2 + 122)
    }
}
