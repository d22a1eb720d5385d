/// A request-target (RFC 9112 §3.2) split once into what the server reads of it, by the HTTP/1.1 decoder or the
/// HTTP/2 layer: the router matches `rawPath`'s segments; handlers, the access log and its metric label read the
/// same value, so an odd target (an encoded "/", an escaped escape) means the same path everywhere.
public struct RequestTarget: Sendable {
    /// As sent, e.g. "/v2/models/x/infer?verbose=1".
    public let raw: String
    /// The path as sent (still percent-encoded): the router splits it into segments before
    /// decoding so that an encoded "/" stays inside its segment.
    public let rawPath: String
    /// The percent-decoded path without the query, e.g. "/v2/models/x/infer".
    public let path: String
    /// The query's name/value pairs in order, percent-decoded ('+' as space).
    public let query: [(name: String, value: String)]

    /// A target from a client that did not pass the HTTP/1.1 decoder (an HTTP/2 `:path`, a test's): parsed as
    /// the decoder parses one, or, when the decoder would refuse it, taken whole as its own path, with no query.
    public init(_ target: String) {
        if let parsed = RequestTarget(parsing: target) {
            self = parsed
        } else {
            self.raw = target
            self.rawPath = target
            self.path = target
            self.query = []
        }
    }

    /// nil when the target is not a form a server accepts or its path has a bad %-escape.
    init?(parsing target: String) {
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
        self.raw = target
        self.rawPath = String(decoding: rawPath, as: UTF8.self)
        self.path = decoded
        var query: [(name: String, value: String)] = []
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
        self.query = query
    }

    /// The raw path's segments, split at "/" before any decoding ("" first, for the leading "/").
    var rawSegments: [Substring] { rawPath.split(separator: "/", omittingEmptySubsequences: false) }

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
