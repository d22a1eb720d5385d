import Foundation
import XCTest

/// The built `signbert` executable, run as a real child process.
///
/// `swift build --build-tests` puts it beside the test bundle (the test target depends on the
/// executable target), so it is found as `<folder of the running .xctest>/signbert`;
/// `SIGNBERT_BINARY` overrides that.
enum SignBERTProcess {
    struct Result {
        /// The exit status, or the signal number when `signaled`.
        var status: Int32
        var signaled: Bool
        var stdout: Data
        var stderr: Data

        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        var stderrText: String { String(decoding: stderr, as: UTF8.self) }
        /// stderr split into lines, without the empty one after the last newline.
        var stderrLines: [String] {
            stderrText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                .reversed().drop(while: { $0.isEmpty }).reversed()
        }
        var summary: String {
            "\(signaled ? "signal" : "status") \(status); stdout: \(stdoutText.prefix(2000)); stderr: \(stderrText.prefix(2000))"
        }
    }

    enum Failure: Error, CustomStringConvertible {
        case binaryNotFound([String])
        case timedOut([String], seconds: Double)

        var description: String {
            switch self {
            case .binaryNotFound(let places):
                "no signbert executable; looked at \(places.joined(separator: ", ")) (build with `swift build --build-tests`, or set SIGNBERT_BINARY)"
            case .timedOut(let arguments, let seconds):
                "signbert \(arguments.joined(separator: " ")) did not finish within \(seconds) s (killed)"
            }
        }
    }

    /// Where the binary is: `SIGNBERT_BINARY`, else beside the running test bundle.
    static func binaryURL() throws -> URL {
        var candidates: [URL] = []
        if let override = ProcessInfo.processInfo.environment["SIGNBERT_BINARY"], !override.isEmpty {
            candidates.append(URL(fileURLWithPath: override))
        }
        // On Linux the .xctest is itself the executable running the tests: arguments[0] and
        // Bundle.main both name it (or, on some runners, the folder holding it).
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(runner.deletingLastPathComponent().appendingPathComponent("signbert"))
        let bundle = Bundle.main.bundleURL.resolvingSymlinksInPath()
        candidates.append(bundle.appendingPathComponent("signbert"))
        candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("signbert"))
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
        }
        throw Failure.binaryNotFound(candidates.map(\.path))
    }

    /// Runs `signbert <arguments>` (or `executable`, e.g. a client against `serve`) to completion; kills it
    /// (SIGKILL) and throws after `timeout` seconds.
    static func run(_ arguments: [String], environment: [String: String]? = nil, currentDirectory: URL? = nil,
                    timeout: Double = 60, executable: URL? = nil) throws -> Result {
        let process = Process()
        process.executableURL = try executable ?? binaryURL()
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        // Files, not pipes: nothing to pump while waiting, and no deadlock on large output.
        let scratch = try TemporaryDirectory()
        let outURL = scratch.url.appendingPathComponent("stdout")
        let errURL = scratch.url.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        defer {
            try? out.close()
            try? err.close()
        }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            _ = exited.wait(timeout: .now() + 10)
            throw Failure.timedOut(arguments, seconds: timeout)
        }
        return Result(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
                      stdout: try Data(contentsOf: outURL), stderr: try Data(contentsOf: errURL))
    }
}

/// A `signbert serve` child process; its stderr (the JSON log) goes to a file that can be read any time.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let logURL: URL
    private let scratch: TemporaryDirectory
    private let logHandle: FileHandle
    /// Shared with the termination handler, which must not hold `self` (the process keeps its handler).
    private let exitState = ExitState()

    /// Starts `signbert serve <arguments>` (add `--port 0` to get a port the kernel picks).
    init(_ arguments: [String], environment: [String: String]? = nil) throws {
        scratch = try TemporaryDirectory()
        logURL = scratch.url.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        logHandle = try FileHandle(forWritingTo: logURL)
        process.executableURL = try SignBERTProcess.binaryURL()
        process.arguments = ["serve"] + arguments
        if let environment { process.environment = environment }
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { [exitState] _ in exitState.markExited() }
        try process.run()
    }

    private final class ExitState: @unchecked Sendable {
        let semaphore = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private var exited = false

        var hasExited: Bool { lock.withLock { exited } }

        func markExited() {
            lock.withLock { exited = true }
            semaphore.signal()
        }
    }

    deinit { stop() }

    var pid: pid_t { process.processIdentifier }

    var isRunning: Bool { !exitState.hasExited }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// The log's JSON lines, parsed (lines that are not JSON objects are skipped).
    var logLines: [[String: Any]] {
        log.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func hasLogMessage(_ message: String) -> Bool {
        logLines.contains { $0["message"] as? String == message }
    }

    /// The port from the "started" line (`"listen": "host:port"`), polling until it appears.
    func waitForPort(timeout: Double = 20) throws -> Int {
        let deadline = Date() + timeout
        while Date() < deadline {
            for line in logLines where line["message"] as? String == "started" {
                if let listen = line["listen"] as? String, let port = listen.split(separator: ":").last.flatMap({ Int($0) }) {
                    return port
                }
            }
            if !isRunning { throw ServerFailure("the server exited before it started: \(log)") }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw ServerFailure("no \"started\" line within \(timeout) s: \(log)")
    }

    /// Polls GET /ready until it answers 200.
    func waitUntilReady(port: Int, timeout: Double = 20) throws {
        let deadline = Date() + timeout
        let client = RawHTTPClient(port: port, timeout: 2)
        while Date() < deadline {
            if let response = try? client.request("GET", "/ready"), response.status == 200 { return }
            if !isRunning { throw ServerFailure("the server exited before it was ready: \(log)") }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw ServerFailure("/ready did not answer 200 within \(timeout) s: \(log)")
    }

    /// Sends a signal (SIGTERM by default).
    func signal(_ number: Int32 = SIGTERM) {
        if isRunning { kill(process.processIdentifier, number) }
    }

    /// Waits for the exit; nil on timeout.
    func waitForExit(timeout: Double) -> (status: Int32, signaled: Bool)? {
        guard exitState.semaphore.wait(timeout: .now() + timeout) == .success else { return nil }
        exitState.semaphore.signal()  // let later waiters through too
        return (process.terminationStatus, process.terminationReason == .uncaughtSignal)
    }

    /// Ends the process if it still runs: SIGKILL (tests that want a graceful end send SIGTERM themselves).
    func stop() {
        if isRunning {
            kill(process.processIdentifier, SIGKILL)
            _ = exitState.semaphore.wait(timeout: .now() + 10)
            exitState.semaphore.signal()
        }
        try? logHandle.close()
    }
}

struct ServerFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A fresh directory under the system temporary folder, removed on deinit.
final class TemporaryDirectory: @unchecked Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("signbert-command-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    @discardableResult
    func write(_ name: String, _ data: Data) throws -> URL {
        let target = file(name)
        try data.write(to: target)
        return target
    }
}

/// A port nothing listens on right now (bound to 0, read back, closed).
func unusedPort() throws -> Int {
    let listener = try ListeningSocket()
    return listener.port
}

/// A socket listening on 127.0.0.1 on a port the kernel picks; closed on deinit.
final class ListeningSocket {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerFailure("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw ServerFailure("bind/listen: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            close(fd)
            throw ServerFailure("getsockname: errno \(errno)")
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}
