import HTTPServer

/// Cross-origin access for browsers (the Fetch standard's CORS protocol), for the origins an operator lists
/// (`--cors-origin`, `SIGNBERT_CORS_ORIGINS`; none by default, `*` for any). From a listed origin, a preflight
/// (`OPTIONS` with `Access-Control-Request-Method`) is answered 204 with the methods, headers and max age, and
/// every other answer carries `Access-Control-Allow-Origin` and exposes the server's own headers. A preflight
/// from any other origin is a 403; its other requests are answered without CORS headers, so the browser keeps
/// the answer from the page.
struct CORSResponder: HTTPResponder {
    let inner: any HTTPResponder
    /// Exact origins (`scheme://host[:port]`), or `*`.
    let origins: Set<String>

    static let allowedMethods = "GET, HEAD, POST, OPTIONS"
    static let allowedHeaders = "Authorization, Content-Type, Content-Encoding, X-Request-Id, Inference-Header-Content-Length"
    static let exposedHeaders = "X-Request-Id, X-Batch-Size, Retry-After, Inference-Header-Content-Length, WWW-Authenticate"
    /// How long a browser may reuse a preflight's answer, in seconds.
    static let maxAge = "600"

    func respond(to request: HTTPRequest, completion: @escaping @Sendable (HTTPResponse) -> Void) {
        guard let origin = request.headers["Origin"] else { return inner.respond(to: request, completion: completion) }
        let allowed = origins.contains("*") || origins.contains(origin)
        let allowOrigin = origins.contains("*") ? "*" : origin
        if request.method == "OPTIONS", request.headers.contains("Access-Control-Request-Method") {
            guard allowed else {
                var response = HTTPResponse.error(status: 403, message: "the origin \(origin) is not allowed (see --cors-origin)")
                response.headers.replace(name: "Vary", value: "Origin")
                return completion(response)
            }
            var response = HTTPResponse(status: 204)
            response.headers.replace(name: "Access-Control-Allow-Origin", value: allowOrigin)
            response.headers.replace(name: "Access-Control-Allow-Methods", value: Self.allowedMethods)
            response.headers.replace(name: "Access-Control-Allow-Headers", value: Self.allowedHeaders)
            response.headers.replace(name: "Access-Control-Max-Age", value: Self.maxAge)
            response.headers.replace(name: "Vary", value: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
            return completion(response)
        }
        inner.respond(to: request) { response in completion(decorated(response, origin: origin)) }
    }

    /// A refusal from the head (the inner responders' key, route and content-type checks) reaches the page the
    /// same way as any other answer. A preflight is never refused here: it carries no body.
    func admit(_ head: HTTPRequest) -> HTTPResponse? {
        if head.method == "OPTIONS", head.headers.contains("Access-Control-Request-Method") { return nil }
        guard let refusal = inner.admit(head) else { return nil }
        guard let origin = head.headers["Origin"] else { return refusal }
        return decorated(refusal, origin: origin)
    }

    private func decorated(_ response: HTTPResponse, origin: String) -> HTTPResponse {
        var response = response
        // The answer depends on Origin whenever origins are listed one by one: caches must key on it.
        if !origins.contains("*") { response.headers.replace(name: "Vary", value: "Origin") }
        if origins.contains("*") || origins.contains(origin) {
            response.headers.replace(name: "Access-Control-Allow-Origin", value: origins.contains("*") ? "*" : origin)
            response.headers.replace(name: "Access-Control-Expose-Headers", value: Self.exposedHeaders)
        }
        return response
    }
}

/// The origins `serve` takes from `--cors-origin` (repeatable) or `SIGNBERT_CORS_ORIGINS`.
public enum CORSOrigins {
    /// Origins separated by commas or spaces; each `*` or `scheme://host[:port]` without a path, as browsers send
    /// `Origin`. Throws on the first that is neither.
    public static func parse(_ values: [String]) throws(CORSOriginError) -> [String] {
        var origins: [String] = []
        for value in values {
            for item in value.split(whereSeparator: { $0 == "," || $0 == " " }) {
                let origin = String(item)
                guard origin == "*" || isOrigin(origin) else { throw CORSOriginError(origin: origin) }
                origins.append(origin)
            }
        }
        return origins
    }

    static func isOrigin(_ text: String) -> Bool {
        for scheme in ["http://", "https://"] where text.hasPrefix(scheme) {
            let authority = text.dropFirst(scheme.count)
            return !authority.isEmpty && !authority.contains("/") && !authority.contains("?") && !authority.contains("#")
                && !authority.hasSuffix(":")
        }
        return false
    }
}

public struct CORSOriginError: Error, CustomStringConvertible {
    public let origin: String
    public var description: String {
        "the CORS origin \"\(origin)\" is not * or scheme://host[:port] (e.g. https://app.example.com)"
    }
}
