/// The two ways an HTTP/1.1 connection becomes HTTP/2: the client preface as its first bytes
/// (prior knowledge), or `Upgrade: h2c` on a request. Everything here runs on `queue`.
extension HTTPConnection {
    /// RFC 9113 §3.4: what a client that knows the server speaks HTTP/2 sends first.
    static let http2Preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// Looks at the first bytes of the connection. True when they were taken: the preface is
    /// complete (the connection is HTTP/2 from now on) or could still be (more bytes needed).
    func sniffedPreface() -> Bool {
        guard sniffingPreface else { return false }
        let buffered = decoder.bufferedBytes
        let count = min(buffered.count, Self.http2Preface.count)
        guard buffered.prefix(count).elementsEqual(Self.http2Preface.prefix(count)) else {
            sniffingPreface = false  // HTTP/1.x
            return false
        }
        guard count == Self.http2Preface.count else { return true }
        sniffingPreface = false
        startHTTP2 { http2 throws(HTTP2SessionError) in try http2.start(with: decoder.takeBufferedBytes()) }
        return true
    }

    /// Answers an h2c upgrade request (RFC 7540 §3.2) with 101 and serves it as stream 1. False,
    /// leaving the request to HTTP/1.1, when it did not ask or asked wrongly (an `Upgrade` a
    /// server may ignore). A request with a body is upgraded too: the decoder has read all of
    /// it under the HTTP/1.1 limits already, as RFC 7540 §3.2 requires of the client.
    func upgradedToHTTP2(_ head: HTTPRequestHead, body: [UInt8]) -> Bool {
        guard configuration.http2Enabled, !draining, head.version == .http1_1,
              head.headers.tokens("Upgrade").contains("h2c"),
              head.headers.tokens("Connection").contains("upgrade"),
              let encoded = head.headers.values("HTTP2-Settings").only,
              let settings = Self.decodeBase64URL(encoded)
        else { return false }
        let request = HTTPRequest(head: head, body: body, remoteAddress: remoteAddress, receivedAt: requestStart)
        let http2: HTTP2Connection, stream1: HTTP2Stream
        do {
            http2 = try HTTP2Connection(connection: self)
            stream1 = try http2.prepareUpgrade(settings: settings, request: request)
        } catch {
            logger.debug("h2c upgrade ignored: \(error)")
            return false
        }
        // The body's share of the budget goes with the request to stream 1, released once the responder has
        // it like any stream's, not when this connection closes (which a client can put off forever).
        stream1.reservedBody = reservedBodyBytes
        reservedBodyBytes = 0
        // The 101 goes out before the server's SETTINGS, which wait in nghttp2 until flushed.
        self.stream.write(Array("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n".utf8))
        phase = .http2
        self.http2 = http2
        deadline = nil
        http2.startUpgraded(stream1, request: request, then: decoder.takeBufferedBytes())
        return true
    }

    private func startHTTP2(_ start: (HTTP2Connection) throws(HTTP2SessionError) -> Void) {
        do {
            let http2 = try HTTP2Connection(connection: self)
            phase = .http2
            self.http2 = http2
            deadline = nil
            try start(http2)
        } catch {
            logger.warning("cannot start HTTP/2: \(error)")
            close()
        }
    }

    /// base64url without padding (RFC 4648 §5), as HTTP2-Settings carries it; nil if malformed.
    static func decodeBase64URL(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        var accumulator: UInt32 = 0, bits = 0
        for byte in text.utf8 where byte != UInt8(ascii: "=") {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"), UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "_"), UInt8(ascii: "/"): value = 63
            default: return nil
            }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return output
    }
}

extension Array {
    /// The single element, or nil when there are none or several.
    var only: Element? { count == 1 ? first : nil }
}
