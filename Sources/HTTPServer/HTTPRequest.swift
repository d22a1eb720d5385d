/// The protocol versions the server speaks (RFC 9112 §2.3).
public enum HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    case http1_0
    case http1_1
    /// A stream of an HTTP/2 connection (h2c: prior knowledge or `Upgrade: h2c`).
    case http2

    public var description: String {
        switch self {
        case .http1_0: "HTTP/1.0"
        case .http1_1: "HTTP/1.1"
        case .http2: "HTTP/2"
        }
    }
}

/// A complete request as handed to an `HTTPResponder`: head, whole body and where it came from.
public struct HTTPRequest: Sendable {
    /// The method, case-sensitive as sent (RFC 9110 §9.1), e.g. "GET".
    public var method: String
    /// The raw request-target of the request line, e.g. "/v2/models/x/infer?verbose=1".
    public var target: String
    /// The percent-decoded path without the query, e.g. "/v2/models/x/infer".
    public var path: String
    /// The query's name/value pairs in order, percent-decoded ('+' as space).
    public var query: [(name: String, value: String)]
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    /// The body after de-chunking; empty when there was none.
    public var body: [UInt8]
    /// The peer, "1.2.3.4:5678" or "[::1]:5678".
    public var remoteAddress: String
    /// When the first byte of this request arrived (or, for a pipelined request, when the
    /// server began to parse it).
    public var receivedAt: ContinuousClock.Instant
    /// Tells the responder when the client has gone (see `RequestCancellation`).
    public var cancellation: RequestCancellation

    public init(
        method: String,
        target: String,
        version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = [:],
        body: [UInt8] = [],
        remoteAddress: String = "",
        receivedAt: ContinuousClock.Instant = .now,
        cancellation: RequestCancellation = RequestCancellation()
    ) {
        let parsed = RequestTarget(target)
        self.method = method
        self.target = target
        self.path = parsed?.path ?? target
        self.query = parsed?.query ?? []
        self.version = version
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
        self.receivedAt = receivedAt
        self.cancellation = cancellation
    }

    init(head: HTTPRequestHead, body: [UInt8], remoteAddress: String, receivedAt: ContinuousClock.Instant) {
        self.method = head.method
        self.target = head.target
        self.path = head.path
        self.query = head.query
        self.version = head.version
        self.headers = head.headers
        self.body = body
        self.remoteAddress = remoteAddress
        self.receivedAt = receivedAt
        self.cancellation = RequestCancellation()
    }

    /// The first query value named `name`.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }
}

/// The parts of a request-target the server needs (RFC 9112 §3.2).
struct RequestTarget: Sendable {
    /// The path as sent (still percent-encoded): the router splits it into segments before
    /// decoding so that an encoded "/" stays inside its segment.
    var rawPath: String
    var path: String
    var query: [(name: String, value: String)]

    /// nil when the target is not a form a server accepts or its path has a bad %-escape.
    init?(_ target: String) {
        let bytes = Array(target.utf8)
        var pathPart: ArraySlice<UInt8>
        if bytes.first == UInt8(ascii: "/") {
            pathPart = bytes[...]  // origin-form (§3.2.1)
        } else if bytes == [UInt8(ascii: "*")] {
            pathPart = bytes[...]  // asterisk-form, OPTIONS only (§3.2.4)
        } else if let scheme = bytes.firstIndex(of: UInt8(ascii: ":")),
                  bytes[scheme...].starts(with: Array("://".utf8)) {
            // absolute-form (§3.2.2): keep what follows the authority.
            let afterScheme = bytes[(scheme + 3)...]
            let end = afterScheme.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? bytes.endIndex
            pathPart = bytes[end...]
            if pathPart.first != UInt8(ascii: "/") { pathPart = Array("/".utf8)[...] + pathPart }
        } else {
            return nil  // authority-form is for CONNECT, which this server does not do
        }
        let queryStart = pathPart.firstIndex(of: UInt8(ascii: "?"))
        let rawPath = queryStart.map { pathPart[..<$0] } ?? pathPart
        guard let decoded = Self.percentDecode(rawPath, plusAsSpace: false) else { return nil }
        self.rawPath = String(decoding: rawPath, as: UTF8.self)
        self.path = decoded
        self.query = []
        if let queryStart {
            let fragmentStart = pathPart.firstIndex(of: UInt8(ascii: "#")) ?? pathPart.endIndex
            let queryBytes = pathPart[pathPart.index(after: queryStart)..<max(fragmentStart, pathPart.index(after: queryStart))]
            for pair in queryBytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
                let equals = pair.firstIndex(of: UInt8(ascii: "="))
                let name = equals.map { pair[..<$0] } ?? pair
                let value = equals.map { pair[pair.index(after: $0)...] } ?? []
                query.append((
                    name: Self.percentDecode(name, plusAsSpace: true) ?? String(decoding: name, as: UTF8.self),
                    value: Self.percentDecode(value, plusAsSpace: true) ?? String(decoding: value, as: UTF8.self)
                ))
            }
        }
    }

    /// Decodes %XX escapes (RFC 3986 §2.1); nil on a malformed escape.
    static func percentDecode(_ bytes: some Collection<UInt8>, plusAsSpace: Bool) -> String? {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                output.append(high << 4 | low)
            } else if plusAsSpace, byte == UInt8(ascii: "+") {
                output.append(UInt8(ascii: " "))
            } else {
                output.append(byte)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
