public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking HTTP/1.1 client over a plain socket, one request per connection (`Connection: close`),
/// that tells apart where an exchange stopped: at connect, while sending, or before a full answer (a body of
/// exactly Content-Length bytes).
public struct RawHTTPClient: Sendable {
    public typealias Response = TestHTTPClient.Response

    public enum Outcome: Sendable {
        /// connect() failed (e.g. ECONNREFUSED once the listener is closed): the request never reached the server.
        case notConnected(errno: Int32)
        /// Connected, but the request could not be sent completely.
        case sendFailed(errno: Int32, sent: Int)
        /// Connected and sent, but no complete response came back.
        case noResponse(errno: Int32, received: Int)
        case response(Response)
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let port: Int
    public var timeout: Double = 30

    public init(port: Int, timeout: Double = 30) {
        self.port = port
        self.timeout = timeout
    }

    public func request(_ method: String, _ path: String, headers: [String: String] = [:], body: Data = Data()) throws -> Response {
        switch exchange(method, path, headers: headers, body: body) {
        case .response(let response): return response
        case .notConnected(let code): throw Failure(description: "connect to 127.0.0.1:\(port): errno \(code)")
        case .sendFailed(let code, let sent): throw Failure(description: "send failed after \(sent) bytes: errno \(code)")
        case .noResponse(let code, let received):
            throw Failure(description: "no complete response (\(received) bytes, errno \(code))")
        }
    }

    public func postJSON(_ path: String, _ body: Data) throws -> Response {
        try request("POST", path, headers: ["Content-Type": "application/json"], body: body)
    }

    public func exchange(_ method: String, _ path: String, headers: [String: String] = [:], body: Data = Data()) -> Outcome {
        exchange(raw: LoopbackSocket.request(method, path, host: "127.0.0.1:\(port)", headers: headers, body: body))
    }

    /// Sends raw bytes, then reads until the server closes the connection.
    public func exchange(raw bytes: Data) -> Outcome {
        let fd: Int32
        switch LoopbackSocket.connect(port: port, prepare: { LoopbackSocket.setTimeouts($0, receive: timeout, send: timeout) }) {
        case .success(let connected): fd = connected
        case .failure(let error): return .notConnected(errno: error.code)
        }
        defer { close(fd) }
        if let failure = LoopbackSocket.sendAll(fd, bytes) { return .sendFailed(errno: failure.code, sent: failure.sent) }
        let (received, readError) = LoopbackSocket.readToEnd(fd)
        guard readError == 0, let response = Self.parse(received) else {
            return .noResponse(errno: readError, received: received.count)
        }
        return .response(response)
    }

    /// A complete response: the head, and a body of exactly Content-Length bytes.
    public static func parse(_ data: Data) -> Response? {
        guard let (status, headers, body) = LoopbackSocket.splitResponse(data) else { return nil }
        if let length = headers["content-length"].flatMap(Int.init), body.count != length { return nil }
        return Response(status: status, headers: headers, body: body)
    }
}
