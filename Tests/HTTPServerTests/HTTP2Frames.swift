import Glibc

/// Raw HTTP/2 frames for tests that must send what no well-behaved client would, and read
/// back what the server answered (RFC 9113 §4.1: 24-bit length, type, flags, stream id).
enum HTTP2Frames {
    static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    enum Kind: UInt8 { case data = 0, headers = 1, rstStream = 3, settings = 4, ping = 6, goAway = 7, windowUpdate = 8 }

    struct Frame {
        var type: UInt8
        var flags: UInt8
        var streamID: UInt32
        var payload: [UInt8]

        /// For a GOAWAY: (last stream id, error code).
        var goAway: (lastStreamID: UInt32, code: UInt32)? {
            guard type == Kind.goAway.rawValue, payload.count >= 8 else { return nil }
            return (word(payload, 0) & 0x7FFF_FFFF, word(payload, 4))
        }
    }

    static func frame(_ type: UInt8, flags: UInt8 = 0, stream: UInt32 = 0, _ payload: [UInt8] = [], length: Int? = nil) -> [UInt8] {
        let length = length ?? payload.count
        return [UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), type, flags,
                UInt8(stream >> 24 & 0x7F), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)] + payload
    }

    /// A GET for `path` in one HEADERS frame (END_STREAM | END_HEADERS), HPACK without
    /// Huffman: :method GET, :scheme http (static table), :path and :authority as literals.
    static func get(_ path: String, stream: UInt32) -> [UInt8] {
        var block: [UInt8] = [0x82, 0x86]
        block += [0x04, UInt8(path.utf8.count)] + Array(path.utf8)  // literal, indexed name :path, not indexed
        block += [0x01, 4] + Array("test".utf8)  // :authority
        return frame(Kind.headers.rawValue, flags: 0x05, stream: stream, block)
    }

    /// The HEADERS of a POST to `path` (END_HEADERS only: its body follows in DATA frames).
    static func post(_ path: String, stream: UInt32) -> [UInt8] {
        var block: [UInt8] = [0x83, 0x86]  // :method POST, :scheme http
        block += [0x04, UInt8(path.utf8.count)] + Array(path.utf8)
        block += [0x01, 4] + Array("test".utf8)
        return frame(Kind.headers.rawValue, flags: 0x04, stream: stream, block)
    }

    /// Splits `bytes` into frames; a trailing partial frame is dropped.
    static func parse(_ bytes: [UInt8]) -> [Frame] {
        var frames: [Frame] = []
        var index = 0
        while bytes.count - index >= 9 {
            let length = Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
            guard bytes.count - index - 9 >= length else { break }
            frames.append(Frame(type: bytes[index + 3], flags: bytes[index + 4], streamID: word(bytes, index + 5) & 0x7FFF_FFFF,
                                payload: Array(bytes[(index + 9)..<(index + 9 + length)])))
            index += 9 + length
        }
        return frames
    }

    static func word(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
}

extension TestClient {
    /// Everything the server sends until it closes the connection (or the receive timeout).
    func readUntilClosed() -> [UInt8] {
        var all: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return all }
            all += chunk[0..<count]
        }
    }
}
