import CNGHTTP2
import Foundation
import Glibc

/// A blocking HTTP/2 client for the tests, on libnghttp2's client session over a `TestClient`
/// socket: submit requests, then `run` until every stream is answered. It records what the
/// server sent per stream (status, fields, body, RST_STREAM code) and every GOAWAY.
public final class HTTP2TestClient {
    public struct Response {
        public var status = 0
        public var headers: [String: String] = [:]
        public var body: [UInt8] = []
        public var text: String { String(decoding: body, as: UTF8.self) }
        /// The RST_STREAM or GOAWAY code the stream closed with (0 = NO_ERROR).
        public var closeCode: UInt32?
    }

    public struct Failure: Error, CustomStringConvertible { public let description: String }

    public let socket: TestClient
    public private(set) var session: OpaquePointer?
    public private(set) var responses: [Int32: Response] = [:]
    /// Stream id → body still to upload.
    fileprivate var uploads: [Int32: (bytes: [UInt8], offset: Int, stall: Bool, open: Bool)] = [:]
    public private(set) var goAways: [(lastStreamID: Int32, code: UInt32)] = []
    public private(set) var peerClosed = false

    /// Connects and sends the preface and SETTINGS (prior knowledge); `initialWindow` sets the
    /// client's SETTINGS_INITIAL_WINDOW_SIZE (0: the server may send no response body at all).
    public init(port: Int, initialWindow: UInt32? = nil) throws {
        socket = try TestClient(port: port, receiveTimeout: 5)
        var callbacks: OpaquePointer?
        nghttp2_session_callbacks_new(&callbacks)
        guard let callbacks else { throw Failure(description: "callbacks") }
        defer { nghttp2_session_callbacks_del(callbacks) }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nameLength, value, valueLength, _, user in
            guard let frame, let name, let value, let client = HTTP2TestClient.from(user) else { return 0 }
            let key = String(decoding: UnsafeBufferPointer(start: name, count: nameLength), as: UTF8.self)
            let text = String(decoding: UnsafeBufferPointer(start: value, count: valueLength), as: UTF8.self)
            let id = frame.pointee.hd.stream_id
            if key == ":status" { client.responses[id, default: Response()].status = Int(text) ?? -1 } else {
                client.responses[id, default: Response()].headers[key] = text
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, id, data, length, user in
            guard let data, let client = HTTP2TestClient.from(user) else { return 0 }
            client.responses[id, default: Response()].body += UnsafeBufferPointer(start: data, count: length)
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, id, code, user in
            HTTP2TestClient.from(user)?.responses[id, default: Response()].closeCode = code
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, user in
            guard let frame, let client = HTTP2TestClient.from(user) else { return 0 }
            if UInt32(frame.pointee.hd.type) == NGHTTP2_GOAWAY.rawValue {
                client.goAways.append((frame.pointee.goaway.last_stream_id, frame.pointee.goaway.error_code))
            }
            return 0
        }
        var created: OpaquePointer?
        nghttp2_session_client_new(&created, callbacks, nil)
        guard let created else { throw Failure(description: "client session") }
        session = created
        nghttp2_session_set_user_data(created, Unmanaged.passUnretained(self).toOpaque())
        var settings = initialWindow.map {
            [nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: $0)]
        } ?? []
        nghttp2_submit_settings(created, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count)
    }

    deinit {
        if let session { nghttp2_session_del(session) }
    }

    static func from(_ user: UnsafeMutableRawPointer?) -> HTTP2TestClient? {
        user.map { Unmanaged<HTTP2TestClient>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Queues a request; `stallBody` sends the headers and then never a body byte; `openBody` sends `body` and
    /// keeps the request open for `sendMore`.
    @discardableResult
    public func submit(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
                       stallBody: Bool = false, openBody: Bool = false) -> Int32 {
        guard let session else { return -1 }
        let fields = [(":method", method), (":path", path), (":scheme", "http"), (":authority", "test")] + headers
        // nghttp2 copies the fields when the request is submitted: they live until then.
        func copy(_ text: String) -> (UnsafeMutablePointer<UInt8>, Int) {
            let bytes = Array(text.utf8)
            let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, bytes.count))
            pointer.initialize(from: bytes, count: bytes.count)
            return (pointer, bytes.count)
        }
        let copies = fields.map { (copy($0.0), copy($0.1)) }
        defer { for (name, value) in copies { name.0.deallocate(); value.0.deallocate() } }
        var pairs = copies.map { name, value in
            nghttp2_nv(name: name.0, value: value.0, namelen: name.1, valuelen: value.1, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
        }
        let id: Int32
        if body != nil || stallBody || openBody {
            var provider = nghttp2_data_provider(source: nghttp2_data_source(ptr: nil)) { session, id, buffer, length, flags, _, user in
                guard let buffer, let flags, let client = HTTP2TestClient.from(user), var upload = client.uploads[id] else {
                    return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue)
                }
                if upload.stall { return Int(NGHTTP2_ERR_DEFERRED.rawValue) }
                let count = min(length, upload.bytes.count - upload.offset)
                if count == 0, upload.open { return Int(NGHTTP2_ERR_DEFERRED.rawValue) }
                upload.bytes.withUnsafeBytes { all in
                    UnsafeMutableRawPointer(buffer).copyMemory(from: all.baseAddress! + upload.offset, byteCount: count)
                }
                upload.offset += count
                client.uploads[id] = upload
                if upload.offset == upload.bytes.count, !upload.open { flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue }
                return count
            }
            id = nghttp2_submit_request(session, nil, &pairs, pairs.count, &provider, nil)
            uploads[id] = (body ?? [], 0, stallBody, openBody)
        } else {
            id = nghttp2_submit_request(session, nil, &pairs, pairs.count, nil, nil)
        }
        return id
    }

    /// Sends and receives until `done` holds, the connection ends, or `timeout` seconds pass.
    public func run(timeout: Double = 5, until done: () -> Bool) throws {
        let end = Date().addingTimeInterval(timeout)
        while true {
            try flush()
            if done() { return }
            if peerClosed { throw Failure(description: "connection closed; GOAWAYs: \(goAways)") }
            let left = end.timeIntervalSinceNow
            if left <= 0 { throw Failure(description: "timed out; responses: \(responses), GOAWAYs: \(goAways)") }
            guard socket.waitReadable(timeout: min(left, 0.05)) else { continue }
            try readOnce()
        }
    }

    /// Runs until every submitted stream is closed.
    public func runUntilAllClosed(timeout: Double = 5) throws {
        try run(timeout: timeout) { responses.count >= uploadsAndRequests && responses.values.allSatisfy { $0.closeCode != nil } }
    }

    private var uploadsAndRequests: Int { Int(max(0, (nghttp2_session_get_next_stream_id(session) - 1) / 2)) }

    /// Reads until the server closes the connection (or `timeout`); true if it did.
    public func runUntilClosed(timeout: Double = 5) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while !peerClosed, Date() < end {
            try? flush()
            if socket.waitReadable(timeout: 0.05) { try? readOnce() }
        }
        return peerClosed
    }

    private func flush() throws {
        guard let session, !peerClosed else { return }
        while true {
            var data: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(session, &data)
            guard count > 0, let data else { break }
            try socket.send(Array(UnsafeBufferPointer(start: data, count: count)))
        }
    }

    private func readOnce() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(socket.fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else {
            peerClosed = true
            return
        }
        let rc = chunk.withUnsafeBufferPointer { nghttp2_session_mem_recv(session, $0.baseAddress, count) }
        if rc < 0 { throw Failure(description: "client mem_recv: \(String(cString: nghttp2_strerror(Int32(rc))))") }
    }

    /// Cancels a stream the way a client that gives up does (RST_STREAM(CANCEL)); sent on the next run.
    public func resetStream(_ id: Int32) {
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, NGHTTP2_CANCEL.rawValue)
    }

    /// More body for a request submitted with `openBody`; `end` sends END_STREAM after it. Sent on the next run,
    /// as far as the server's flow-control window allows.
    public func sendMore(_ id: Int32, _ bytes: [UInt8], end: Bool = false) {
        uploads[id]?.bytes += bytes
        if end { uploads[id]?.open = false }
        nghttp2_session_resume_data(session, id)
    }

    /// Body bytes of `id` the client has handed to the socket so far.
    public func uploaded(_ id: Int32) -> Int { uploads[id]?.offset ?? 0 }

    /// Lets a stalled upload continue.
    public func resumeUpload(_ id: Int32) {
        uploads[id]?.stall = false
        nghttp2_session_resume_data(session, id)
    }

    public func response(_ id: Int32) -> Response { responses[id] ?? Response() }
}
