import Foundation
import CSystemZlib
import HTTPServer

/// Inflates request bodies sent with `Content-Encoding: gzip` or `deflate` (as Triton's and other clients send them
/// with request compression), with the decompressed size held to the body limit: a small body that inflates past
/// `--max-body-bytes` (a decompression bomb) is a 413 as soon as the output crosses the limit, never inflated whole.
enum BodyDecompression {
    enum Coding: String, Sendable {
        case gzip, deflate
    }

    enum Failure: Error, Equatable {
        /// An encoding this server does not decode (415, RFC 9110 §15.5.16).
        case unsupported(String)
        /// The decompressed body is over the limit (413).
        case tooLarge(limit: Int)
        /// Not valid compressed data (400).
        case malformed(String)
    }

    /// The codings of a `Content-Encoding` value in the order they were applied; `identity` is dropped.
    static func codings(_ header: String) throws(Failure) -> [Coding] {
        var codings: [Coding] = []
        for token in header.split(separator: ",") {
            let name = token.trimmingCharacters(in: .whitespaces).lowercased()
            switch name {
            case "identity", "": continue
            case "gzip", "x-gzip": codings.append(.gzip)
            case "deflate": codings.append(.deflate)
            default: throw .unsupported(name)
            }
        }
        return codings
    }

    /// `body` with every coding of `header` undone (the last applied first), at most `limit` bytes.
    static func decode(_ body: [UInt8], contentEncoding header: String, limit: Int) throws(Failure) -> [UInt8] {
        var bytes = body
        for coding in try codings(header).reversed() where !bytes.isEmpty {
            bytes = try inflate(bytes, coding, limit: limit)
        }
        return bytes
    }

    /// zlib's inflate. gzip: one or more members (RFC 1952 allows concatenated members). deflate: the zlib format
    /// (RFC 1950) that HTTP's "deflate" names, or a raw deflate stream, which some clients send instead.
    static func inflate(_ input: [UInt8], _ coding: Coding, limit: Int) throws(Failure) -> [UInt8] {
        let windowBits: Int32
        switch coding {
        case .gzip: windowBits = 15 + 16
        case .deflate: windowBits = input.count >= 2 && isZlibHeader(input[0], input[1]) ? 15 : -15
        }
        var stream = z_stream()
        guard inflateInit2_(&stream, windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .malformed("the \(coding.rawValue) decoder could not start")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let outcome: Failure? = input.withUnsafeBufferPointer { source -> Failure? in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = UInt32(source.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { target -> Int32 in
                    stream.next_out = target.baseAddress
                    stream.avail_out = UInt32(target.count)
                    return CSystemZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                if output.count + produced > limit { return .tooLarge(limit: limit) }
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_STREAM_END:
                    guard stream.avail_in > 0 else { return nil }
                    // Another gzip member follows; anything after a deflate stream is an error.
                    guard coding == .gzip, inflateReset(&stream) == Z_OK else {
                        return .malformed("the deflate body has \(stream.avail_in) bytes after its end")
                    }
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    return .malformed("the \(coding.rawValue) body ends before its compressed data does (truncated)")
                case Z_BUF_ERROR:
                    continue
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    return .malformed("the \(coding.rawValue) body is not valid compressed data: \(reason)")
                }
            }
        }
        if let outcome { throw outcome }
        return output
    }

    /// RFC 1950 §2.2: compression method 8 and a header checksum that is a multiple of 31.
    static func isZlibHeader(_ first: UInt8, _ second: UInt8) -> Bool {
        first & 0x0F == 8 && (UInt16(first) << 8 | UInt16(second)) % 31 == 0
    }
}

/// Undoes a request's `Content-Encoding` before the routes see its body: gzip and deflate are inflated (held to
/// `maxBodyBytes`, 413 past it), any other coding is a 415 that lists the accepted ones (RFC 7694 §3).
struct DecompressingResponder: HTTPResponder {
    let inner: any HTTPResponder
    let maxBodyBytes: Int

    func respond(to request: HTTPRequest, completion: @escaping @Sendable (HTTPResponse) -> Void) {
        guard let header = request.headers["Content-Encoding"] else { return inner.respond(to: request, completion: completion) }
        var request = request
        do {
            request.body = try BodyDecompression.decode(request.body, contentEncoding: header, limit: maxBodyBytes)
        } catch {
            switch error {
            case .unsupported(let name):
                var response = HTTPResponse.error(status: 415, message:
                    "Content-Encoding \(name) is not supported; send the body as it is, or with gzip or deflate")
                response.headers.replace(name: "Accept-Encoding", value: "gzip, deflate")
                return completion(response)
            case .tooLarge(let limit):
                return completion(.error(status: 413, message:
                    "the body decompresses to more than \(limit) bytes, the largest body this server takes"))
            case .malformed(let message):
                return completion(.error(status: 400, message: message))
            }
        }
        request.headers.remove(name: "Content-Encoding")
        request.headers.replace(name: "Content-Length", value: String(request.body.count))
        inner.respond(to: request, completion: completion)
    }

    /// The inner responders decide from the head (key, route, method, content type) as for a plain body.
    func admit(_ head: HTTPRequest) -> HTTPResponse? { inner.admit(head) }
}
