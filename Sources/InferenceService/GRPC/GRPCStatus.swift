/// A gRPC status: the code and message an RPC ends with, sent as the `grpc-status` and `grpc-message` trailers.
struct GRPCStatus: Error, Sendable, Equatable {
    /// The codes of gRPC's status model (grpc/doc/statuscodes.md) that this server answers with.
    enum Code: Int, Sendable {
        case ok = 0
        case cancelled = 1
        case unknown = 2
        case invalidArgument = 3
        case deadlineExceeded = 4
        case notFound = 5
        case permissionDenied = 7
        case resourceExhausted = 8
        case unimplemented = 12
        case `internal` = 13
        case unavailable = 14
        case unauthenticated = 16
    }

    var code: Code
    var message: String

    init(_ code: Code, _ message: String = "") {
        self.code = code
        self.message = message
    }

    static let ok = GRPCStatus(.ok)

    /// `grpc-message` is percent-encoded UTF-8: bytes outside printable ASCII, and '%', become %XX
    /// (gRPC over HTTP/2, "Responses").
    static func percentEncoded(_ message: String) -> String {
        var out = ""
        for byte in message.utf8 {
            if byte >= 0x20, byte <= 0x7E, byte != UInt8(ascii: "%") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    /// The trailer fields of this status.
    var trailers: [(String, String)] {
        var fields = [("grpc-status", String(code.rawValue))]
        if !message.isEmpty { fields.append(("grpc-message", Self.percentEncoded(message))) }
        return fields
    }
}
