import JSONText
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A complete response. The server adds `Date`, `Server`, `Content-Length` and, when needed,
/// `Connection`; a responder sets `Connection: close` to end the connection after it.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Set by `HTTPResponse.webSocket(_:)`: the connection becomes a WebSocket after this 101.
    public var webSocket: WebSocketUpgrade?
    /// Trailer fields sent after the body (HTTP/2 only; gRPC's `grpc-status` lives here). A response with
    /// trailers has no `content-length` and always ends with a trailer HEADERS frame, even when it is empty.
    public var trailers: HTTPHeaders?

    public init(status: Int = 200, headers: HTTPHeaders = [:], body: [UInt8] = [], trailers: HTTPHeaders? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.trailers = trailers
    }

    /// A `text/plain; charset=utf-8` response.
    public static func text(status: Int = 200, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array(text.utf8))
    }

    /// `value` encoded as JSON (keys sorted, so output is stable). A value that cannot be
    /// encoded gives a 500 error response rather than a trap.
    public static func json(status: Int = 200, _ value: some Encodable) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return json(status: status, bytes: Array(try encoder.encode(value)))
        } catch {
            return .error(status: 500, message: "cannot encode response: \(error)")
        }
    }

    /// Bytes that already are JSON, with the JSON content type.
    public static func json(status: Int = 200, bytes: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: bytes)
    }

    /// `{"error": message}`, the body of every error the server or router produces.
    public static func error(status: Int, message: String) -> HTTPResponse {
        json(status: status, bytes: Array("{\"error\":\(JSONText.quoted(message))}".utf8))
    }

    /// The reason phrase for the status line (RFC 9110 §15); informational only.
    static func reason(for status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 417: "Expectation Failed"
        case 422: "Unprocessable Content"
        case 426: "Upgrade Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 499: "Client Closed Request"  // nginx's, not IANA's: a client that left before its answer
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: "Unknown"
        }
    }
}
