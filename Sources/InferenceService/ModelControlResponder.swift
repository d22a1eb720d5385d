import HTTPServer

/// Who may load and unload models when the server has no API key. Loading runs code paths over files an
/// operator put in the repository and unloading takes a model away from every client, so, as TorchServe keeps
/// its management API on loopback, a server without keys takes model control from loopback callers only, unless
/// the operator opens it (`--model-control any`). With keys, the key decides (`APIKeyResponder`).
public enum ModelControlAccess: String, Sendable, CaseIterable {
    case loopback, any

    /// Whether a caller at `remoteAddress` ("1.2.3.4:5678", "[::1]:5678") may load and unload models.
    func allows(_ remoteAddress: String) -> Bool {
        self == .any || Self.isLoopback(remoteAddress)
    }

    /// 127.0.0.0/8, ::1 and IPv4-mapped 127.x; anything unparsable is not loopback.
    static func isLoopback(_ remoteAddress: String) -> Bool {
        var host = Substring(remoteAddress)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            host = host[host.index(after: host.startIndex)..<close]
            let lowered = host.lowercased()
            if lowered == "::1" || lowered == "0:0:0:0:0:0:0:1" { return true }
            guard lowered.hasPrefix("::ffff:") else { return false }
            host = host.dropFirst("::ffff:".count)
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    static let refusalMessage = "model control is open to loopback callers only on a server without an API key: "
        + "call from the server's host, or start it with an API key or --model-control any"
}

/// Refuses model control (`RouteAccess.modelControl`) from callers that are not on loopback with a 403, from
/// the head alone. Installed only on a server without API keys whose model control is `loopback`.
struct ModelControlResponder: GatingResponder {
    let inner: any HTTPResponder
    let rule: RouteAccessRule

    func refusal(_ request: HTTPRequest) -> HTTPResponse? {
        guard rule.access(of: request) == .modelControl, !ModelControlAccess.isLoopback(request.remoteAddress) else {
            return nil
        }
        return HTTPResponse.error(status: 403, message: ModelControlAccess.refusalMessage)
    }
}
