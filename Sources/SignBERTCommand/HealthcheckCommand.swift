import ArgumentParser
import Foundation

/// A container HEALTHCHECK that needs no curl: GET a path on the local server over a plain socket.
struct HealthcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck",
        abstract: "Exit 0 if the local server answers 200 on a path (default /ready), else 1.")

    @Option(name: .long, help: "Host to ask.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "Port (default: PORT / SIGNBERT_PORT, else 8080).")
    var port: Int?

    @Option(name: .long, help: "Path to GET.")
    var path: String = "/ready"

    @Option(name: .long, help: "Seconds to wait for the answer.")
    var timeout: Double = 2

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        let port = self.port ?? (env["SIGNBERT_PORT"] ?? env["PORT"]).flatMap(Int.init) ?? 8080
        switch HealthProbe.get(host: host, port: port, path: path, timeout: timeout) {
        case .success(let status) where status == 200:
            print("healthy: GET \(path) answered 200")
        case .success(let status):
            FileHandle.standardError.write(Data("unhealthy: GET \(path) answered \(status)\n".utf8))
            throw ExitCode.failure
        case .failure(let message):
            FileHandle.standardError.write(Data("unhealthy: \(message)\n".utf8))
            throw ExitCode.failure
        }
    }
}

enum HealthProbe {
    enum Outcome { case success(Int), failure(String) }

    /// One HTTP/1.0 GET; returns the status code.
    static func get(host: String, port: Int, path: String, timeout: Double) -> Outcome {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            return .failure("cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { return .failure("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            return .failure("cannot connect to \(host):\(port): \(String(cString: strerror(errno)))")
        }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else {
            return .failure("cannot send the request")
        }
        var buffer = [UInt8](repeating: 0, count: 64)
        let received = recv(fd, &buffer, buffer.count, 0)
        guard received >= 12 else { return .failure("no answer from \(host):\(port)") }
        // "HTTP/1.1 200 ..." : the status is bytes 9..<12.
        guard let status = Int(String(decoding: buffer[9..<12], as: UTF8.self)) else {
            return .failure("not an HTTP answer from \(host):\(port)")
        }
        return .success(status)
    }
}
