import CNGHTTP2

/// An `HTTPResponse` as HTTP/2 header fields: `:status`, the responder's fields in lowercase
/// without HTTP/1.1's connection-specific ones (RFC 9113 §8.2.2), and the server's Date,
/// Server and content-length, with the same body rules as `HTTPResponseEncoder`.
enum HTTP2ResponseFields {
    /// Fields that mean something only to an HTTP/1.1 connection; a response carrying them
    /// is malformed in HTTP/2.
    static let connectionSpecific: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]

    static func make(_ response: HTTPResponse, requestMethod: String?, serverName: String, date: String)
        -> (fields: [(String, String)], body: [UInt8]) {
        let status = response.status
        let bodyForbidden = requestMethod == "HEAD" || status == 204 || status == 304 || (100..<200).contains(status)
        var fields: [(String, String)] = [(":status", String(status))]
        var hasDate = false, hasServer = false
        var declaredLength: String?
        for (name, value) in response.headers {
            let lower = name.lowercasedASCII()
            guard !lower.isEmpty, isSafe(lower), isSafe(value), !connectionSpecific.contains(lower) else { continue }
            if lower == "content-length" { declaredLength = value; continue }
            if lower == "date" { hasDate = true }
            if lower == "server" { hasServer = true }
            fields.append((lower, value))
        }
        if !hasDate { fields.append(("date", date)) }
        if !hasServer, !serverName.isEmpty { fields.append(("server", serverName)) }
        if status == 204 || (100..<200).contains(status) || response.trailers != nil {
            // no content-length (RFC 9110 §8.6; with trailers the body's end is the trailer block's start)
        } else if bodyForbidden, response.body.isEmpty, let declaredLength {
            fields.append(("content-length", declaredLength))
        } else if status != 304 || !response.body.isEmpty {
            fields.append(("content-length", String(response.body.count)))
        }
        return (fields, bodyForbidden ? [] : response.body)
    }

    /// Trailer fields in lowercase, without pseudo-fields or connection-specific ones (RFC 9113 §8.1).
    static func trailerFields(_ trailers: HTTPHeaders) -> [(String, String)] {
        trailers.compactMap { name, value in
            let lower = name.lowercasedASCII()
            guard !lower.isEmpty, !lower.hasPrefix(":"), isSafe(lower), isSafe(value),
                  !connectionSpecific.contains(lower), lower != "content-length" else { return nil }
            return (lower, value)
        }
    }

    /// Calls `body` with the fields as nghttp2 name/value pairs; they point into one buffer
    /// that lives for the call (nghttp2 copies them when the response is submitted).
    static func withNameValuePairs<R>(_ fields: [(String, String)], _ body: (UnsafeMutableBufferPointer<nghttp2_nv>) -> R) -> R {
        var storage: [UInt8] = []
        var offsets: [(name: Int, nameCount: Int, value: Int, valueCount: Int)] = []
        for (name, value) in fields {
            let nameStart = storage.count
            storage.append(contentsOf: name.utf8)
            let valueStart = storage.count
            storage.append(contentsOf: value.utf8)
            offsets.append((nameStart, valueStart - nameStart, valueStart, storage.count - valueStart))
        }
        storage.append(0)  // never empty, so the base address exists
        return storage.withUnsafeMutableBufferPointer { bytes in
            guard let base = bytes.baseAddress else {
                var none: [nghttp2_nv] = []
                return none.withUnsafeMutableBufferPointer { body($0) }
            }
            var pairs = offsets.map { entry in
                nghttp2_nv(name: base + entry.name, value: base + entry.value, namelen: entry.nameCount,
                           valuelen: entry.valueCount, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
            }
            return pairs.withUnsafeMutableBufferPointer { body($0) }
        }
    }

    private static func isSafe(_ text: String) -> Bool {
        !text.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }
    }
}
