import Foundation
import HTTPServer

/// A responder that refuses some requests from their head alone and passes the rest on: checked again in
/// `admit`, before the server reads a body (or answers 100 Continue), so a refused client cannot make the
/// server take in, or hold budget for, a body it will never run.
protocol GatingResponder: HTTPResponder {
    var inner: any HTTPResponder { get }
    /// The answer for a request that may not go on; nil when it may.
    func refusal(_ request: HTTPRequest) -> HTTPResponse?
}

extension GatingResponder {
    func respond(to request: HTTPRequest, completion: @escaping @Sendable (HTTPResponse) -> Void) {
        if let refusal = refusal(request) { return completion(refusal) }
        inner.respond(to: request, completion: completion)
    }

    func admit(_ head: HTTPRequest) -> HTTPResponse? {
        refusal(head) ?? inner.admit(head)
    }
}

/// Optional bearer-token authentication: with keys configured, the routes whose table entry says so (every route
/// that runs the model and, with `protectMetrics`, `GET /metrics`) need `Authorization: Bearer <key>`; the others
/// stay open so that orchestrators' probes keep working. A missing or wrong key is a 401 with `WWW-Authenticate`.
struct APIKeyResponder: GatingResponder {
    let inner: any HTTPResponder
    let keys: [[UInt8]]
    let protectMetrics: Bool
    /// Which requests need a key: the route table's rule.
    let rule: RouteAccessRule

    /// The 401 for a request that needs a key and has no valid one; nil when it may go on.
    func refusal(_ request: HTTPRequest) -> HTTPResponse? {
        guard requiresKey(request) else { return nil }
        // A browser cannot set Authorization on a WebSocket: it offers the key as a subprotocol instead.
        guard let presented = Self.bearerToken(request.headers["Authorization"]) ?? Self.subprotocolKey(request) else {
            return Self.unauthorized("this route needs Authorization: Bearer <API key>")
        }
        // Every configured key is compared in full, so the time taken does not depend on which one matched.
        var matched = false
        for key in keys where Self.constantTimeEquals(key, presented) { matched = true }
        return matched ? nil : Self.unauthorized("the API key is not valid")
    }

    func requiresKey(_ request: HTTPRequest) -> Bool {
        rule.needsKey(request, protectMetrics: protectMetrics)
    }

    /// The key of an offered `signbert.key.KEY` WebSocket subprotocol (docs/STREAMING.md).
    static func subprotocolKey(_ request: HTTPRequest) -> [UInt8]? {
        guard WebSocketHandshake.isUpgradeRequest(request) else { return nil }
        let prefix = "signbert.key."
        return WebSocketHandshake.offeredProtocols(request).first { $0.hasPrefix(prefix) && $0.count > prefix.count }
            .map { Array($0.utf8.dropFirst(prefix.utf8.count)) }
    }

    /// The token of `Bearer <token>` (RFC 6750 §2.1; the scheme is case-insensitive).
    static func bearerToken(_ header: String?) -> [UInt8]? {
        guard let header else { return nil }
        let bytes = Array(header.utf8)
        let scheme = Array("bearer ".utf8)
        guard bytes.count > scheme.count,
              zip(bytes.prefix(scheme.count), scheme).allSatisfy({ ($0 | 0x20) == $1 || ($0 == $1) }) else { return nil }
        let token = bytes.dropFirst(scheme.count).drop { $0 == UInt8(ascii: " ") }
        return token.isEmpty ? nil : Array(token)
    }

    /// Equal without an early exit: the time depends only on the lengths, not on where the bytes differ.
    static func constantTimeEquals(_ expected: [UInt8], _ presented: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: expected.count ^ presented.count)
        if expected.count != presented.count { difference |= 1 }
        for index in 0..<presented.count {
            difference |= presented[index] ^ (index < expected.count ? expected[index] : 0)
        }
        return difference == 0
    }

    static func unauthorized(_ message: String) -> HTTPResponse {
        var response = HTTPResponse.error(status: 401, message: message)
        response.headers.replace(name: "WWW-Authenticate", value: "Bearer realm=\"signbert\"")
        return response
    }
}

/// API keys from a flag, the environment or a file: one key per line (blank lines and `#` comments skipped), so
/// a key can be rotated by listing the old and the new one for a while.
public enum APIKeys {
    public static func parse(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}
