/// RFC 6455 §5.2 opcodes the server knows; any other is a protocol error.
public enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA

    /// Close, ping and pong (§5.5): at most 125 bytes, never fragmented, allowed between fragments.
    public var isControl: Bool { rawValue & 0x8 != 0 }
}

/// One frame, its payload already unmasked.
public struct WebSocketFrame: Sendable, Equatable {
    public var fin: Bool
    public var opcode: WebSocketOpcode
    public var payload: [UInt8]

    public init(fin: Bool = true, opcode: WebSocketOpcode, payload: [UInt8]) {
        self.fin = fin
        self.opcode = opcode
        self.payload = payload
    }

    /// The frame's bytes: a server's frames are unmasked (§5.1); `mask` makes a client's (tests, fuzzing).
    public func encoded(mask: [UInt8]? = nil) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | opcode.rawValue]
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        let count = payload.count
        if count < 126 {
            out.append(maskBit | UInt8(count))
        } else if count <= 0xFFFF {
            out += [maskBit | 126, UInt8(count >> 8), UInt8(count & 0xFF)]
        } else {
            out.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: UInt64(count) >> UInt64(shift))) }
        }
        guard let mask, mask.count == 4 else { return out + payload }
        out += mask
        out.reserveCapacity(out.count + count)
        for (i, byte) in payload.enumerated() { out.append(byte ^ mask[i & 3]) }
        return out
    }

    /// A close frame's payload (§5.5.1): the code big-endian, then a UTF-8 reason cut to fit 125 bytes.
    public static func closePayload(code: UInt16, reason: String) -> [UInt8] {
        var reasonBytes = Array(reason.utf8.prefix(123))
        // Never cut inside a character: drop continuation bytes left at the end, and their lead byte.
        while let last = reasonBytes.last, last & 0x80 != 0 {
            let isLead = last & 0xC0 == 0xC0
            reasonBytes.removeLast()
            if isLead { break }
        }
        if String(validating: reasonBytes, as: UTF8.self) == nil { reasonBytes = [] }
        return [UInt8(code >> 8), UInt8(code & 0xFF)] + reasonBytes
    }
}

/// Close codes of RFC 6455 §7.4.1 the server sends, and the check of those a peer may send.
public enum WebSocketCloseCode {
    public static let normal: UInt16 = 1000
    public static let goingAway: UInt16 = 1001
    public static let protocolError: UInt16 = 1002
    public static let unsupportedData: UInt16 = 1003
    public static let invalidData: UInt16 = 1007
    public static let policyViolation: UInt16 = 1008
    public static let messageTooBig: UInt16 = 1009
    public static let internalError: UInt16 = 1011
    public static let tryAgainLater: UInt16 = 1013

    /// Whether a peer may put `code` in a close frame: the registered codes (1004-1006 and 1015 are reserved for
    /// reporting, never sent) and the 3000-4999 range of libraries and applications.
    public static func isSendable(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }
}

/// Why the connection must close, with the close code that says so (RFC 6455 §7.4.1).
public struct WebSocketProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: UInt16
    public var reason: String

    public init(_ code: UInt16, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code): \(reason)" }
}
