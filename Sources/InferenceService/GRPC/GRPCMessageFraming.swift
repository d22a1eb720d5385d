import HTTPServer

/// gRPC's length-prefixed messages (gRPC over HTTP/2, "Length-Prefixed-Message"): a compressed flag byte, a
/// 4-byte big-endian length, then the message. A request body is a sequence of them; a unary call has exactly one.
enum GRPCMessageFraming {
    static let prefixBytes = 5

    /// The messages of `body`, each decompressed when its flag says so. `encoding` is the request's
    /// `grpc-encoding` (nil or "identity": no compression may be flagged). Each message, before and after
    /// decompression, is held to `maxMessageBytes` (RESOURCE_EXHAUSTED); a cut-off prefix or message, a flag other
    /// than 0 or 1, or a flagged message without an encoding is INTERNAL (the status gRPC gives a framing error).
    static func messages(in body: [UInt8], encoding: String?, maxMessageBytes: Int) throws(GRPCStatus) -> [[UInt8]] {
        let coding = try compression(encoding)
        var messages: [[UInt8]] = []
        var offset = 0
        while offset < body.count {
            guard let (message, end) = try nextMessage(in: body, from: offset, coding: coding, maxMessageBytes: maxMessageBytes) else {
                let left = body.count - offset
                guard left >= prefixBytes else {
                    throw GRPCStatus(.internal, "the request ends inside a message prefix (\(left) of 5 bytes)")
                }
                throw GRPCStatus(.internal, "the request ends inside a message: \(left - prefixBytes) of its \(declaredLength(body, at: offset)) bytes arrived")
            }
            messages.append(message)
            offset = end
        }
        return messages
    }

    /// The message that starts at `offset` and where it ends, or nil when `buffer` does not hold all of it yet (a
    /// stream reads its messages as their bytes arrive). Throws as soon as the prefix shows a bad flag or a length
    /// over `maxMessageBytes`, before the message itself has arrived.
    static func nextMessage(in buffer: [UInt8], from offset: Int, coding: BodyDecompression.Coding?,
                            maxMessageBytes: Int) throws(GRPCStatus) -> (message: [UInt8], end: Int)? {
        guard buffer.count - offset >= prefixBytes else { return nil }
        let flag = buffer[offset]
        let length = declaredLength(buffer, at: offset)
        guard flag <= 1 else { throw GRPCStatus(.internal, "message compressed flag is \(flag); it must be 0 or 1") }
        guard length <= maxMessageBytes else {
            throw GRPCStatus(.resourceExhausted, "a request message of \(length) bytes exceeds the limit of \(maxMessageBytes) bytes")
        }
        let start = offset + prefixBytes
        guard buffer.count - start >= length else { return nil }
        let payload = Array(buffer[start..<(start + length)])
        guard flag == 1 else { return (payload, start + length) }
        guard let coding else {
            throw GRPCStatus(.internal, "a message is flagged compressed but the request has no grpc-encoding")
        }
        do {
            return (try BodyDecompression.inflate(payload, coding, limit: maxMessageBytes), start + length)
        } catch {
            switch error {
            case .tooLarge(let limit):
                throw GRPCStatus(.resourceExhausted, "a request message decompresses to more than \(limit) bytes")
            case .malformed(let detail), .unsupported(let detail):
                throw GRPCStatus(.internal, "a compressed message is not valid \(coding.rawValue): \(detail)")
            }
        }
    }

    private static func declaredLength(_ buffer: [UInt8], at offset: Int) -> Int {
        Int(buffer[offset + 1]) << 24 | Int(buffer[offset + 2]) << 16 | Int(buffer[offset + 3]) << 8 | Int(buffer[offset + 4])
    }

    /// The decompressor for a `grpc-encoding` value: nil for none or identity; UNIMPLEMENTED for one this server
    /// does not decode (the answer carries `grpc-accept-encoding`).
    static func compression(_ encoding: String?) throws(GRPCStatus) -> BodyDecompression.Coding? {
        switch encoding?.trimmingOWSAndLowercased() {
        case nil, "", "identity": return nil
        case "gzip": return .gzip
        case "deflate": return .deflate
        case let other?: throw GRPCStatus(.unimplemented, "grpc-encoding \"\(other)\" is not supported; use identity, gzip or deflate")
        }
    }

    static let acceptEncoding = "identity,gzip,deflate"

    /// `message` with its prefix, uncompressed.
    static func frame(_ message: [UInt8], into out: inout [UInt8]) {
        frame(message, compressed: false, into: &out)
    }

    /// `message` with its prefix; `compressed` sets the flag (the bytes are already compressed).
    static func frame(_ message: [UInt8], compressed: Bool, into out: inout [UInt8]) {
        let length = UInt32(truncatingIfNeeded: message.count)
        out.reserveCapacity(out.count + prefixBytes + message.count)
        out.append(compressed ? 1 : 0)
        out.append(UInt8(truncatingIfNeeded: length >> 24))
        out.append(UInt8(truncatingIfNeeded: length >> 16))
        out.append(UInt8(truncatingIfNeeded: length >> 8))
        out.append(UInt8(truncatingIfNeeded: length))
        out.append(contentsOf: message)
    }

    /// Whether answers are gzip-compressed: the request came gzip-compressed and its `grpc-accept-encoding` lists
    /// gzip (grpc-go and grpc-java answer with the request's compressor the same way).
    static func compressesAnswers(_ headers: HTTPHeaders) -> Bool {
        guard headers["grpc-encoding"]?.trimmingOWSAndLowercased() == "gzip",
              let accepted = headers["grpc-accept-encoding"] else { return false }
        return accepted.split(separator: ",").contains { String($0).trimmingOWSAndLowercased() == "gzip" }
    }

    /// An answer message framed, gzip-compressed (flag 1) when `compressed` and that succeeds, else as it is.
    static func frameAnswer(_ message: [UInt8], compressed: Bool, into out: inout [UInt8]) {
        if compressed, let zipped = GzipCompression.compress(message) {
            frame(zipped, compressed: true, into: &out)
        } else {
            frame(message, into: &out)
        }
    }
}

extension String {
    func trimmingOWSAndLowercased() -> String {
        String(decoding: utf8.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed(),
               as: UTF8.self).lowercased()
    }
}
