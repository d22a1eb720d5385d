public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking HTTP/1.1 client over a plain socket, one request per connection, for the tests: any complete
/// head is a response (the body is what follows it, e.g. none for HEAD).
public struct TestHTTPClient: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]  // lower-cased names
        public var body: Data
        public var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
        public var text: String { String(decoding: body, as: UTF8.self) }

        public init(status: Int, headers: [String: String], body: Data) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    public enum Failure: Error { case connect(Int32), closedEarly, malformed }

    public let port: Int

    public init(port: Int) {
        self.port = port
    }

    public func get(_ path: String) throws -> Response { try send("GET", path) }

    public func post(_ path: String, json body: Data, headers: [String: String] = ["Content-Type": "application/json"]) throws -> Response {
        try send("POST", path, headers: headers, body: body)
    }

    public func send(_ method: String, _ path: String, headers: [String: String] = [:], body: Data = Data()) throws -> Response {
        try exchange(LoopbackSocket.request(method, path, host: "127.0.0.1", headers: headers, body: body))
    }

    /// Sends raw bytes and reads until the server closes the connection.
    public func exchange(_ bytes: Data) throws -> Response {
        let fd = try connectSocket()
        defer { close(fd) }
        LoopbackSocket.setTimeouts(fd, receive: 30)
        if LoopbackSocket.sendAll(fd, bytes) != nil { throw Failure.closedEarly }
        return try Self.parse(LoopbackSocket.readToEnd(fd).data)
    }

    public func connectSocket() throws -> Int32 {
        switch LoopbackSocket.connect(port: port) {
        case .success(let fd): return fd
        case .failure(let error): throw Failure.connect(error.code)
        }
    }

    public static func parse(_ data: Data) throws -> Response {
        guard data.range(of: Data("\r\n\r\n".utf8)) != nil else { throw Failure.closedEarly }
        guard let (status, headers, body) = LoopbackSocket.splitResponse(data) else { throw Failure.malformed }
        return Response(status: status, headers: headers, body: body)
    }
}
