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
            guard body.count - offset >= prefixBytes else {
                throw GRPCStatus(.internal, "the request ends inside a message prefix (\(body.count - offset) of 5 bytes)")
            }
            let flag = body[offset]
            let length = Int(body[offset + 1]) << 24 | Int(body[offset + 2]) << 16 | Int(body[offset + 3]) << 8 | Int(body[offset + 4])
            offset += prefixBytes
            guard flag <= 1 else { throw GRPCStatus(.internal, "message compressed flag is \(flag); it must be 0 or 1") }
            guard length <= maxMessageBytes else {
                throw GRPCStatus(.resourceExhausted, "a request message of \(length) bytes exceeds the limit of \(maxMessageBytes) bytes")
            }
            guard body.count - offset >= length else {
                throw GRPCStatus(.internal, "the request ends inside a message: \(body.count - offset) of its \(length) bytes arrived")
            }
            let payload = Array(body[offset..<(offset + length)])
            offset += length
            if flag == 0 {
                messages.append(payload)
                continue
            }
            guard let coding else {
                throw GRPCStatus(.internal, "a message is flagged compressed but the request has no grpc-encoding")
            }
            do {
                messages.append(try BodyDecompression.inflate(payload, coding, limit: maxMessageBytes))
            } catch {
                switch error {
                case .tooLarge(let limit):
                    throw GRPCStatus(.resourceExhausted, "a request message decompresses to more than \(limit) bytes")
                case .malformed(let detail), .unsupported(let detail):
                    throw GRPCStatus(.internal, "a compressed message is not valid \(coding.rawValue): \(detail)")
                }
            }
        }
        return messages
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
        let length = UInt32(truncatingIfNeeded: message.count)
        out.reserveCapacity(out.count + prefixBytes + message.count)
        out.append(0)
        out.append(UInt8(truncatingIfNeeded: length >> 24))
        out.append(UInt8(truncatingIfNeeded: length >> 16))
        out.append(UInt8(truncatingIfNeeded: length >> 8))
        out.append(UInt8(truncatingIfNeeded: length))
        out.append(contentsOf: message)
    }
}

extension String {
    func trimmingOWSAndLowercased() -> String {
        String(decoding: utf8.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed(),
               as: UTF8.self).lowercased()
    }
}
