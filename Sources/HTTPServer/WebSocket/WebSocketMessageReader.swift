/// What a client's frames amount to: whole messages (fragments joined), and control frames as they come.
public enum WebSocketEvent: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    /// The peer's close frame: its code (nil when it gave none, RFC 6455 §7.1.5's 1005) and reason.
    case close(code: UInt16?, reason: String)
}

/// Frames to messages (RFC 6455 §5.4): continuation frames only inside a fragmented message, no new message before
/// the last one ends, the whole message within `maxMessageBytes` (1009), text valid UTF-8 (1007), close frames
/// with a valid code and a UTF-8 reason. Every violation is a `WebSocketProtocolError` naming its close code.
public struct WebSocketMessageReader: Sendable {
    public let maxMessageBytes: Int
    private var parser: WebSocketFrameParser
    private var fragments: [UInt8] = []
    private var fragmentedOpcode: WebSocketOpcode?

    public init(maxFrameBytes: Int, maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
        parser = WebSocketFrameParser(maxFrameBytes: min(maxFrameBytes, maxMessageBytes))
    }

    public var bufferedByteCount: Int { parser.bufferedByteCount + fragments.count }

    public mutating func append(_ bytes: some Sequence<UInt8>) { parser.append(bytes) }

    /// The next message or control frame, or nil when more bytes are needed.
    public mutating func next() throws(WebSocketProtocolError) -> WebSocketEvent? {
        while let frame = try parser.next() {
            switch frame.opcode {
            case .ping: return .ping(frame.payload)
            case .pong: return .pong(frame.payload)
            case .close: return try Self.close(frame.payload)
            case .text, .binary:
                guard fragmentedOpcode == nil else {
                    throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "a new message began before the fragmented one ended")
                }
                if frame.fin { return try Self.message(frame.opcode, frame.payload) }
                fragmentedOpcode = frame.opcode
                fragments = frame.payload
            case .continuation:
                guard let opcode = fragmentedOpcode else {
                    throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "a continuation frame outside a fragmented message")
                }
                guard fragments.count + frame.payload.count <= maxMessageBytes else {
                    throw WebSocketProtocolError(WebSocketCloseCode.messageTooBig,
                                                 "a message of more than \(maxMessageBytes) bytes")
                }
                fragments += frame.payload
                if frame.fin {
                    let payload = fragments
                    fragments = []
                    fragmentedOpcode = nil
                    return try Self.message(opcode, payload)
                }
            }
        }
        return nil
    }

    private static func message(_ opcode: WebSocketOpcode, _ payload: [UInt8]) throws(WebSocketProtocolError) -> WebSocketEvent {
        guard opcode == .text else { return .binary(payload) }
        guard let text = String(validating: payload, as: UTF8.self) else {
            throw WebSocketProtocolError(WebSocketCloseCode.invalidData, "a text message that is not valid UTF-8")
        }
        return .text(text)
    }

    /// §5.5.1: no payload, or a two-byte code and a UTF-8 reason.
    private static func close(_ payload: [UInt8]) throws(WebSocketProtocolError) -> WebSocketEvent {
        if payload.isEmpty { return .close(code: nil, reason: "") }
        guard payload.count >= 2 else {
            throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "a close frame with a one-byte payload")
        }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard WebSocketCloseCode.isSendable(code) else {
            throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "close code \(code) may not be sent")
        }
        guard let reason = String(validating: payload.dropFirst(2), as: UTF8.self) else {
            throw WebSocketProtocolError(WebSocketCloseCode.invalidData, "a close reason that is not valid UTF-8")
        }
        return .close(code: code, reason: reason)
    }
}
