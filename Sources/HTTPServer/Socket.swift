// Linux only: the calls below are Glibc's (accept4, MSG_NOSIGNAL, SOCK_NONBLOCK).
import Glibc

/// An error from a socket system call: the call that failed, its errno and the system's message.
public struct SocketError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    /// The errno value (or getaddrinfo's code when `operation` is "getaddrinfo").
    public let code: Int32
    public let message: String

    init(_ operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
        self.message = String(cString: strerror(code))
    }

    init(_ operation: String, code: Int32, message: String) {
        self.operation = operation
        self.code = code
        self.message = message
    }

    public var description: String { "\(operation): \(message) (errno \(code))" }
}

/// A thin wrapper around a socket descriptor. It is a plain value: the owner (a `Listener` or a
/// `SocketStream`) decides when `close()` is called, exactly once.
struct Socket: Sendable {
    let fd: Int32

    enum ReadResult { case bytes(Int), endOfFile, wouldBlock, failed(SocketError) }
    enum WriteResult { case sent(Int), wouldBlock, failed(SocketError) }

    /// A non-blocking listening socket bound to `host:port` (IPv4 or IPv6, names resolved).
    static func listen(host: String, port: Int, backlog: Int32) throws(SocketError) -> Socket {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw SocketError("getaddrinfo", code: rc, message: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(list) }
        let info = first.pointee

        let fd = socket(info.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        let socket = Socket(fd: fd)
        do throws(SocketError) {
            // SO_REUSEADDR: a restarted server can bind while old connections sit in TIME_WAIT.
            try socket.setOption(SOL_SOCKET, SO_REUSEADDR, 1, name: "SO_REUSEADDR")
            guard bind(fd, info.ai_addr, info.ai_addrlen) == 0 else { throw SocketError("bind") }
            guard Glibc.listen(fd, backlog) == 0 else { throw SocketError("listen") }
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    /// Accepts one pending connection; nil when none is waiting. The new socket is non-blocking.
    func accept() throws(SocketError) -> (socket: Socket, peer: String)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let client = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(fd, $0, &length) }
        }
        guard client >= 0 else {
            let code = errno
            if code == EAGAIN || code == EWOULDBLOCK || code == EINTR || code == ECONNABORTED { return nil }
            throw SocketError("accept", code: code)
        }
        let socket = Socket(fd: client)
        // accept4 is not exported to Swift by Glibc's module map: set the flags by hand.
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
        // Responses are written whole; Nagle would only delay the last segment of each.
        try? socket.setOption(Int32(IPPROTO_TCP), TCP_NODELAY, 1, name: "TCP_NODELAY")
        return (socket, Socket.format(storage))
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> ReadResult {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n > 0 { return .bytes(n) }
            if n == 0 { return .endOfFile }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            return .failed(SocketError("read", code: code))
        }
    }

    /// One `send` call; MSG_NOSIGNAL so a vanished peer gives EPIPE instead of killing the process.
    func send(_ bytes: UnsafeRawBufferPointer) -> WriteResult {
        while true {
            let n = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return .sent(n) }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            return .failed(SocketError("send", code: code))
        }
    }

    /// Half-close: the peer sees end-of-file after our last byte while we can still read.
    func shutdownWrite() {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    func close() {
        _ = Glibc.close(fd)
    }

    func setOption(_ level: Int32, _ option: Int32, _ value: Int32, name: String) throws(SocketError) {
        var value = value
        guard setsockopt(fd, level, option, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SocketError("setsockopt(\(name))")
        }
    }

    /// The port the socket is bound to (the kernel's choice when 0 was asked for).
    func localPort() -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { return 0 }
        return Socket.port(of: storage)
    }

    static func port(of storage: sockaddr_storage) -> Int {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
        default:
            return 0
        }
    }

    /// "1.2.3.4:5678" or "[::1]:5678", for logs and `HTTPRequest.remoteAddress`.
    static func format(_ storage: sockaddr_storage) -> String {
        var storage = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let port = Socket.port(of: storage)
        switch Int32(storage.ss_family) {
        case AF_INET:
            withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    var address = $0.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
                }
            }
            return "\(Socket.string(text)):\(port)"
        case AF_INET6:
            withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    var address = $0.pointee.sin6_addr
                    _ = inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
                }
            }
            return "[\(Socket.string(text))]:\(port)"
        default:
            return "unknown"
        }
    }

    private static func string(_ text: [CChar]) -> String {
        String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
