public import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import HTTPServer

/// A blocking raw-socket HTTP client for the integration tests: it writes exactly the bytes it
/// is given and parses responses itself, so that tests see what is on the wire.
public final class TestClient {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public var code: Int32 = 0

        public init(description: String, code: Int32 = 0) {
            self.description = description
            self.code = code
        }
    }

    public struct Response {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
        /// The `error` member of a JSON error body.
        public var errorMessage: String? {
            guard headers["Content-Type"] == "application/json", text.hasPrefix("{\"error\":\"") else { return nil }
            return String(text.dropFirst(10).dropLast(2))
        }
    }

    public let fd: Int32
    private var buffer: [UInt8] = []
    private var closed = false

    /// Connects (blocking) with a receive timeout so that a broken server fails a test rather
    /// than hanging it.
    public init(host: String = "127.0.0.1", port: Int, receiveTimeout: Double = 5, receiveBuffer: Int32? = nil) throws {
        let connected = LoopbackSocket.connect(host: host, port: port) { fd in
            LoopbackSocket.setTimeouts(fd, receive: receiveTimeout, send: receiveTimeout)
            if var size = receiveBuffer {
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
        }
        switch connected {
        case .success(let descriptor): fd = descriptor
        case .failure(let error): throw Failure(description: "connect failed: errno \(error.code)", code: error.code)
        }
    }

    deinit { close() }

    public func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    /// Closes with SO_LINGER 0: the kernel sends RST, the rudest way to vanish.
    public func reset() {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        close()
    }

    public func shutdownWrite() {
        Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    public func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send failed: errno \(errno)", code: errno) }
            offset += n
        }
    }

    /// True if bytes (or EOF) can be read within `timeout` seconds.
    public func waitReadable(timeout: Double) -> Bool {
        if !buffer.isEmpty { return true }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, Int32(timeout * 1000)) > 0
    }

    /// Reads more bytes into the buffer; false at EOF (or reset).
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 {
            buffer += chunk[0..<n]
            return true
        }
        if n == 0 || errno == ECONNRESET { return false }
        throw Failure(description: "recv failed: errno \(errno) (timeout?)", code: errno)
    }

    public func readLine() throws -> String {
        while true {
            if let lf = buffer.firstIndex(of: 0x0A) {
                let line = buffer[..<lf]
                buffer.removeFirst(lf + 1)
                return String(decoding: line.last == 0x0D ? line.dropLast() : line, as: UTF8.self)
            }
            guard try fill() else { throw Failure(description: "connection closed mid-line") }
        }
    }

    /// Reads one response; `bodyless` for answers to HEAD (Content-Length but no body).
    public func readResponse(bodyless: Bool = false) throws -> Response {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0] == "HTTP/1.1", let status = Int(parts[1]) else {
            throw Failure(description: "bad status line: \(statusLine)")
        }
        var headers = HTTPHeaders()
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw Failure(description: "bad header: \(line)") }
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = bodyless ? 0 : Int(headers["Content-Length"] ?? "0") ?? 0
        while buffer.count < length {
            guard try fill() else { throw Failure(description: "connection closed mid-body") }
        }
        let body = Array(buffer[..<length])
        buffer.removeFirst(length)
        return Response(status: status, headers: headers, body: body)
    }

    /// Exactly `count` bytes (a WebSocket frame's parts).
    public func readBytes(_ count: Int) throws -> [UInt8] {
        while buffer.count < count {
            guard try fill() else { throw Failure(description: "connection closed after \(buffer.count) of \(count) bytes") }
        }
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    /// True if the server closes the connection (EOF or reset) within the receive timeout
    /// without sending anything more.
    public func isClosedByPeer() -> Bool {
        guard buffer.isEmpty else { return false }
        return (try? fill()) == false
    }
}

/// Opens `/proc/self/fd` to count this process's descriptors.
public func openDescriptorCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}

/// Polls `condition` every 10 ms for up to `timeout` seconds.
public func eventually(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}
