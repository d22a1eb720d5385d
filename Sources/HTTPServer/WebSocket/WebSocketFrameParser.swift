/// Client frames from a byte stream (RFC 6455 §5.2), one at a time, with the checks a server makes of each frame
/// on its own: no reserved bits (no extension is negotiated), known opcodes, control frames short and whole, a
/// mask on every client frame, and a payload within `maxFrameBytes` (checked from the header, before the payload
/// is buffered). Message-level rules (fragment order, UTF-8, message size) are `WebSocketMessageReader`'s.
public struct WebSocketFrameParser: Sendable {
    public let maxFrameBytes: Int
    /// A server requires masked frames (§5.1); a client parser would require the opposite.
    public let requireMask: Bool
    private var buffer: [UInt8] = []
    private var offset = 0

    public init(maxFrameBytes: Int, requireMask: Bool = true) {
        self.maxFrameBytes = maxFrameBytes
        self.requireMask = requireMask
    }

    public var bufferedByteCount: Int { buffer.count - offset }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        // Consumed bytes are dropped once they are the larger part, so the buffer stays about one frame long.
        if offset > 0, offset >= buffer.count - offset {
            buffer.removeFirst(offset)
            offset = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or nil when more bytes are needed.
    public mutating func next() throws(WebSocketProtocolError) -> WebSocketFrame? {
        let available = buffer.count - offset
        guard available >= 2 else { return nil }
        let first = buffer[offset], second = buffer[offset + 1]
        guard first & 0x70 == 0 else {
            throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "reserved bits set without a negotiated extension")
        }
        guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else {
            throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "unknown opcode \(first & 0x0F)")
        }
        let fin = first & 0x80 != 0
        let masked = second & 0x80 != 0
        if masked != requireMask {
            throw WebSocketProtocolError(WebSocketCloseCode.protocolError,
                                         requireMask ? "a client frame must be masked" : "a server frame must not be masked")
        }
        var headerLength = 2
        var length = UInt64(second & 0x7F)
        if length == 126 {
            guard available >= 4 else { return nil }
            length = UInt64(buffer[offset + 2]) << 8 | UInt64(buffer[offset + 3])
            headerLength = 4
        } else if length == 127 {
            guard available >= 10 else { return nil }
            length = 0
            for i in 0..<8 { length = length << 8 | UInt64(buffer[offset + 2 + i]) }
            guard length >> 63 == 0 else {
                throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "a 64-bit payload length with its top bit set")
            }
            headerLength = 10
        }
        if opcode.isControl {
            guard fin else { throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "a fragmented control frame") }
            guard length <= 125 else {
                throw WebSocketProtocolError(WebSocketCloseCode.protocolError, "a control frame of more than 125 bytes")
            }
        }
        guard length <= UInt64(maxFrameBytes) else {
            throw WebSocketProtocolError(WebSocketCloseCode.messageTooBig,
                                         "a frame of \(length) bytes; at most \(maxFrameBytes) are accepted")
        }
        let maskLength = masked ? 4 : 0
        let total = headerLength + maskLength + Int(length)
        guard available >= total else { return nil }
        let payloadStart = offset + headerLength + maskLength
        var payload = Array(buffer[payloadStart..<payloadStart + Int(length)])
        if masked {
            let maskStart = offset + headerLength
            let mask = (buffer[maskStart], buffer[maskStart + 1], buffer[maskStart + 2], buffer[maskStart + 3])
            payload.withUnsafeMutableBufferPointer { bytes in
                for i in bytes.indices {
                    switch i & 3 {
                    case 0: bytes[i] ^= mask.0
                    case 1: bytes[i] ^= mask.1
                    case 2: bytes[i] ^= mask.2
                    default: bytes[i] ^= mask.3
                    }
                }
            }
        }
        offset += total
        return WebSocketFrame(fin: fin, opcode: opcode, payload: payload)
    }
}
