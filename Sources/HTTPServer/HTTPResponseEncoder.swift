/// Turns an `HTTPResponse` into bytes: status line, the responder's fields, then the fields the
/// server owns. Pure, like the decoder.
public struct HTTPResponseEncoder: Sendable {
    /// What the `Connection` field says about the connection after this response.
    public enum ConnectionField: Sendable {
        /// No field: HTTP/1.1's default, keep-alive.
        case none
        /// `Connection: keep-alive`, needed to keep an HTTP/1.0 connection open (RFC 9112 §9.3).
        case keepAlive
        case close
    }

    public var serverName: String

    public init(serverName: String) {
        self.serverName = serverName
    }

    /// The interim response sent before reading a body the client holds back (RFC 9110 §15.2.1).
    public static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// The head and the body to send. The body is empty for HEAD, 204 and 304 (RFC 9110 §6.4.1),
    /// while a HEAD's `Content-Length` is still that of the GET's body (RFC 9110 §9.3.2).
    public func encode(
        _ response: HTTPResponse,
        requestMethod: String?,
        connection: ConnectionField,
        date: String
    ) -> (head: [UInt8], body: [UInt8]) {
        let status = response.status
        let isHead = requestMethod == "HEAD"
        let bodyForbidden = isHead || status == 204 || status == 304 || (100..<200).contains(status)

        // Always HTTP/1.1: a server sends its highest conformant version (RFC 9110 §2.5).
        var text = "HTTP/1.1 \(status) \(HTTPResponse.reason(for: status))\r\n"
        var hasDate = false, hasServer = false
        var declaredLength: String?
        for (name, value) in response.headers {
            // Header values with CR, LF or NUL would let a responder split the response.
            guard Self.isSafe(name), Self.isSafe(value), !name.isEmpty else { continue }
            if HTTPHeaders.equal(name, "Content-Length") { declaredLength = value; continue }
            // Framing and connection management belong to the server.
            if HTTPHeaders.equal(name, "Transfer-Encoding") || HTTPHeaders.equal(name, "Connection") { continue }
            if HTTPHeaders.equal(name, "Date") { hasDate = true }
            if HTTPHeaders.equal(name, "Server") { hasServer = true }
            text += "\(name): \(value)\r\n"
        }
        if !hasDate { text += "Date: \(date)\r\n" }
        if !hasServer, !serverName.isEmpty { text += "Server: \(serverName)\r\n" }

        // RFC 9110 §8.6: no Content-Length on 1xx and 204; otherwise it is the body's length,
        // except where the body is withheld and the responder stated the real one.
        if status == 204 || (100..<200).contains(status) {
            // none
        } else if bodyForbidden, response.body.isEmpty, let declaredLength {
            text += "Content-Length: \(declaredLength)\r\n"
        } else if status != 304 || !response.body.isEmpty {
            text += "Content-Length: \(response.body.count)\r\n"
        }
        switch connection {
        case .none: break
        case .keepAlive: text += "Connection: keep-alive\r\n"
        case .close: text += "Connection: close\r\n"
        }
        text += "\r\n"
        return (Array(text.utf8), bodyForbidden ? [] : response.body)
    }

    private static func isSafe(_ text: String) -> Bool {
        !text.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }
    }
}
