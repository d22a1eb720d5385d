public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The socket work every test HTTP client shares: connect to a loopback port (IPv4 or IPv6), send every byte,
/// read to the end, and split a response's head from its body. Blocking, with timeouts, so that a broken
/// server fails a test rather than hanging it.
public enum LoopbackSocket {
    /// A connected descriptor, or the errno of what failed. `prepare` sets options that must precede connect()
    /// (a receive buffer size is negotiated in the handshake).
    public static func connect(host: String = "127.0.0.1", port: Int,
                               prepare: (Int32) -> Void = { _ in }) -> Result<Int32, ConnectError> {
        let family = host.contains(":") ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .failure(ConnectError(code: errno)) }
        prepare(fd)
        let rc: Int32
        if family == AF_INET {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &address.sin_addr)
            rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        } else {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET6, host, &address.sin6_addr)
            rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            return .failure(ConnectError(code: code))
        }
        return .success(fd)
    }

    public struct ConnectError: Error, Sendable {
        public let code: Int32
    }

    /// SO_RCVTIMEO (and SO_SNDTIMEO when `send` is given), in seconds.
    public static func setTimeouts(_ fd: Int32, receive: Double, send: Double? = nil) {
        func set(_ option: Int32, _ seconds: Double) {
            var value = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
            setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
        }
        set(SO_RCVTIMEO, receive)
        if let send { set(SO_SNDTIMEO, send) }
    }

    /// Sends every byte (retrying after EINTR); the errno and how much was sent when it could not.
    public static func sendAll(_ fd: Int32, _ bytes: some ContiguousBytes) -> (code: Int32, sent: Int)? {
        bytes.withUnsafeBytes { raw -> (code: Int32, sent: Int)? in
            var sent = 0
            while sent < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return (errno, sent) }
                sent += n
            }
            return nil
        }
    }

    /// Reads until the peer closes (or the receive timeout passes): the bytes, and the errno of a failed read.
    public static func readToEnd(_ fd: Int32) -> (data: Data, code: Int32) {
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0, errno == EINTR { continue }
            if n < 0 { return (received, errno) }
            if n == 0 { return (received, 0) }
            received.append(contentsOf: buffer[0..<n])
        }
    }

    /// An HTTP/1.1 request with `Connection: close` (and a Content-Length for a body or a POST).
    public static func request(_ method: String, _ path: String, host: String, headers: [String: String], body: Data) -> Data {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        return Data(head.utf8) + body
    }

    /// The status, the header fields (lower-cased names) and the bytes after the head; nil without a whole head.
    public static func splitResponse(_ data: Data) -> (status: Int, headers: [String: String], body: Data)? {
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
        return (status, headers, Data(data[end.upperBound...]))
    }
}
