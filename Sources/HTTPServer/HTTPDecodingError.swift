/// Why a request could not be decoded, with the status the server answers it with.
/// Every decoding error leaves the byte stream in an unknown state: the connection closes
/// after sending the error response.
public struct HTTPDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 400, 413, 431, 501 or 505.
    public let status: Int
    /// The text of the `{"error": ...}` body.
    public let message: String

    public init(status: Int, message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status) \(message)" }

    static func badRequest(_ message: String) -> HTTPDecodingError {
        HTTPDecodingError(status: 400, message: message)
    }

    static func headersTooLarge(_ message: String) -> HTTPDecodingError {
        HTTPDecodingError(status: 431, message: message)
    }

    static func bodyTooLarge(limit: Int) -> HTTPDecodingError {
        HTTPDecodingError(status: 413, message: "request body exceeds \(limit) bytes")
    }
}
