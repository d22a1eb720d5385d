import Foundation

/// A blocking HTTP/1.1 client over a plain socket, one request per connection (`Connection: close`),
/// that tells apart where an exchange stopped: at connect, while sending, or before a full answer.
struct RawHTTPClient: Sendable {
    struct Response: Sendable {
        var status: Int
        var headers: [String: String]  // lower-cased names
        var body: Data
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    enum Outcome: Sendable {
        /// connect() failed (e.g. ECONNREFUSED once the listener is closed): the request never reached the server.
        case notConnected(errno: Int32)
        /// Connected, but the request could not be sent completely.
        case sendFailed(errno: Int32, sent: Int)
        /// Connected and sent, but no complete response came back.
        case noResponse(errno: Int32, received: Int)
        case response(Response)
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let port: Int
    var timeout: Double = 30

    func request(_ method: String, _ path: String, headers: [String: String] = [:], body: Data = Data()) throws -> Response {
        switch exchange(method, path, headers: headers, body: body) {
        case .response(let response): return response
        case .notConnected(let code): throw Failure(description: "connect to 127.0.0.1:\(port): errno \(code)")
        case .sendFailed(let code, let sent): throw Failure(description: "send failed after \(sent) bytes: errno \(code)")
        case .noResponse(let code, let received):
            throw Failure(description: "no complete response (\(received) bytes, errno \(code))")
        }
    }

    func postJSON(_ path: String, _ body: Data) throws -> Response {
        try request("POST", path, headers: ["Content-Type": "application/json"], body: body)
    }

    func exchange(_ method: String, _ path: String, headers: [String: String] = [:], body: Data = Data()) -> Outcome {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        return exchange(raw: Data(head.utf8) + body)
    }

    /// Sends raw bytes, then reads until the server closes the connection.
    func exchange(raw bytes: Data) -> Outcome {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .notConnected(errno: errno) }
        defer { close(fd) }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return .notConnected(errno: errno) }
        var sent = 0
        let sendError: Int32? = bytes.withUnsafeBytes { raw -> Int32? in
            while sent < raw.count {
                let n = send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return errno }
                sent += n
            }
            return nil
        }
        if let sendError { return .sendFailed(errno: sendError, sent: sent) }
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var readError: Int32 = 0
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0, errno == EINTR { continue }
            if n < 0 { readError = errno }
            if n <= 0 { break }
            received.append(contentsOf: buffer[0..<n])
        }
        guard readError == 0, let response = Self.parse(received) else {
            return .noResponse(errno: readError, received: received.count)
        }
        return .response(response)
    }

    /// A complete response: the head, and a body of exactly Content-Length bytes.
    static func parse(_ data: Data) -> Response? {
        guard let end = data.range(of: Data("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: data[data.startIndex..<end.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body = Data(data[end.upperBound...])
        if let length = headers["content-length"].flatMap(Int.init), body.count != length { return nil }
        return Response(status: status, headers: headers, body: body)
    }
}
