/// The line-level grammar of RFC 9112: request line, field lines, chunk sizes, and the rules
/// that turn a header section into a request head (framing, Host, keep-alive).
extension HTTPRequestDecoder {
    /// RFC 9112 §3: request-line = method SP request-target SP HTTP-version.
    static func parseRequestLine(_ line: ArraySlice<UInt8>) throws(HTTPDecodingError) -> RequestLine {
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .badRequest("malformed request line") }
        // RFC 9110 §9.1: method = token.
        guard !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte) else { throw .badRequest("invalid method") }
        // RFC 9112 §3.2: the request-target holds no whitespace or control characters.
        guard !parts[1].isEmpty, parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .badRequest("invalid request target")
        }
        let version = try parseVersion(parts[2])
        return RequestLine(
            method: String(decoding: parts[0], as: UTF8.self),
            target: String(decoding: parts[1], as: UTF8.self),
            version: version
        )
    }

    /// RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT. A later 1.x minor version is
    /// answered as 1.1; any other major version gets 505.
    static func parseVersion(_ bytes: ArraySlice<UInt8>) throws(HTTPDecodingError) -> HTTPVersion {
        let text = Array(bytes)
        guard text.count == 8, text[0..<5].elementsEqual("HTTP/".utf8), text[6] == UInt8(ascii: "."),
              let major = digit(text[5]), let minor = digit(text[7]) else {
            throw .badRequest("malformed HTTP version")
        }
        guard major == 1 else {
            throw HTTPDecodingError(status: 505, message: "HTTP version not supported")
        }
        return minor == 0 ? .http1_0 : .http1_1
    }

    /// RFC 9112 §5: field-line = field-name ":" OWS field-value OWS.
    static func parseField(_ line: ArraySlice<UInt8>) throws(HTTPDecodingError) -> (String, String) {
        // RFC 9112 §5.2: obsolete line folding is rejected rather than unfolded.
        if let first = line.first, first == 0x20 || first == 0x09 {
            throw .badRequest("obsolete line folding in header field")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw .badRequest("header field without colon")
        }
        let name = line[..<colon]
        // RFC 9112 §5.1: no whitespace between field name and colon; the name is a token.
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
            throw .badRequest("invalid header field name")
        }
        var value = line[line.index(after: colon)...]
        while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
        while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
        // RFC 9110 §5.5: field values are VCHAR, obs-text, SP and HTAB; CR, LF, NUL and the
        // other controls are rejected (a bare CR is also forbidden by RFC 9112 §2.2).
        guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw .badRequest("invalid character in header field value")
        }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// RFC 9112 §7.1: chunk-size = 1*HEXDIG, then optional extensions (§7.1.1, checked against the grammar
    /// and ignored). A size over what the body may still take is a 413 before any of its data is read.
    static func parseChunkSize(_ line: ArraySlice<UInt8>, budget: Int, limit: Int) throws(HTTPDecodingError) -> Int {
        var size = 0
        var index = line.startIndex
        while index < line.endIndex, let value = RequestTarget.hexValue(line[index]) {
            size = size * 16 + Int(value)
            if size > budget { throw .bodyTooLarge(limit: limit) }
            index += 1
        }
        guard index > line.startIndex else { throw .badRequest("invalid chunk size") }
        guard chunkExtensionsAreValid(line[index...]) else { throw .badRequest("invalid chunk size") }
        return size
    }

    /// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), where a name is a token and
    /// a value a token or a quoted-string: no control characters anywhere (HTAB only as whitespace).
    static func chunkExtensionsAreValid(_ text: ArraySlice<UInt8>) -> Bool {
        var index = text.startIndex
        func skipWhitespace() { while index < text.endIndex, text[index] == 0x20 || text[index] == 0x09 { index += 1 } }
        func token() -> Bool {
            let start = index
            while index < text.endIndex, isTokenByte(text[index]) { index += 1 }
            return index > start
        }
        func quotedString() -> Bool {
            index += 1  // the opening DQUOTE
            while index < text.endIndex {
                let byte = text[index]
                if byte == UInt8(ascii: "\"") { index += 1; return true }
                if byte == UInt8(ascii: "\\") {
                    index += 1
                    guard index < text.endIndex, text[index] == 0x09 || (text[index] >= 0x20 && text[index] != 0x7F) else { return false }
                } else if byte != 0x09 && (byte < 0x20 || byte == 0x7F) {
                    return false
                }
                index += 1
            }
            return false
        }
        while true {
            skipWhitespace()
            if index == text.endIndex { return true }
            guard text[index] == UInt8(ascii: ";") else { return false }
            index += 1
            skipWhitespace()
            guard token() else { return false }
            skipWhitespace()
            guard index < text.endIndex, text[index] == UInt8(ascii: "=") else { continue }
            index += 1
            skipWhitespace()
            guard index < text.endIndex else { return false }
            if text[index] == UInt8(ascii: "\"") { guard quotedString() else { return false } } else { guard token() else { return false } }
        }
    }

    /// The head with `framing` still `.none`: `framing(_:version:limits:)` decides it.
    static func makeHead(_ line: RequestLine, fields: HTTPHeaders) throws(HTTPDecodingError) -> HTTPRequestHead {
        // RFC 9112 §3.2: an HTTP/1.1 request needs exactly one Host; more than one is a 400.
        let hosts = fields.values("Host")
        if hosts.count > 1 { throw .badRequest("more than one Host header field") }
        if line.version == .http1_1, hosts.isEmpty { throw .badRequest("missing Host header field") }

        // The one parse of the target: everything after the decoder reads the head's.
        guard let target = RequestTarget(parsing: line.target) else { throw .badRequest("invalid request target") }
        let connection = fields.tokens("Connection")
        let keepAlive = line.version == .http1_1
            ? !connection.contains("close")
            : connection.contains("keep-alive") && !connection.contains("close")
        // RFC 9110 §10.1.1: a server ignores 100-continue from an HTTP/1.0 client.
        let expectsContinue = line.version == .http1_1 && fields.tokens("Expect").contains("100-continue")
        return HTTPRequestHead(
            method: line.method, target: target, version: line.version, headers: fields, framing: .none,
            keepAlive: keepAlive, expectsContinue: expectsContinue
        )
    }

    /// RFC 9112 §6.3: how the length of a request body is determined.
    static func framing(_ fields: HTTPHeaders, version: HTTPVersion, limits: Limits) throws(HTTPDecodingError) -> HTTPRequestHead.BodyFraming {
        let hasLength = fields.contains("Content-Length")
        if fields.contains("Transfer-Encoding") {
            // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing.
            if version == .http1_0 { throw .badRequest("Transfer-Encoding in an HTTP/1.0 request") }
            // RFC 9112 §6.1 / §6.3 item 3: both framings at once is a smuggling attempt.
            if hasLength { throw .badRequest("both Content-Length and Transfer-Encoding") }
            let codings = fields.tokens("Transfer-Encoding")
            // RFC 9112 §6.3 item 4: chunked must be the final coding, else length is unknown.
            guard codings.last == "chunked" else { throw .badRequest("chunked is not the final transfer coding") }
            // RFC 9112 §7: chunked is applied once; RFC 9112 §6.1: unknown codings are 501.
            if codings.dropLast().contains("chunked") { throw .badRequest("chunked applied more than once") }
            guard codings.count == 1 else {
                throw HTTPDecodingError(status: 501, message: "transfer coding not implemented")
            }
            return .chunked
        }
        guard hasLength else { return .none }
        // RFC 9112 §6.3 item 5 / RFC 9110 §8.6: Content-Length = 1*DIGIT; a list of identical
        // values is one length, differing or invalid values are a 400.
        var length: Int?
        for element in fields.values("Content-Length").flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
            let digits = Array(element.utf8.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed())
            guard !digits.isEmpty, digits.allSatisfy({ digit($0) != nil }) else {
                throw .badRequest("invalid Content-Length")
            }
            var value = 0
            for byte in digits {
                value = value * 10 + Int(byte - 0x30)
                // Checked as it grows: a long digit string must not overflow.
                if value > limits.maxBodyBytes { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
            }
            if let length, length != value { throw .badRequest("differing Content-Length values") }
            length = value
        }
        return .length(length ?? 0)
    }

    /// RFC 9110 §5.6.2: tchar, as a table so the per-byte check is a load.
    static let tokenTable: [Bool] = (0..<256).map { value in
        let byte = UInt8(value)
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        tokenTable[Int(byte)]
    }

    static func digit(_ byte: UInt8) -> Int? {
        (0x30...0x39).contains(byte) ? Int(byte - 0x30) : nil
    }
}
