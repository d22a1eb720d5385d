import Synchronization

/// Values of the `{name}` segments a route pattern matched.
public struct RouteParameters: Sendable, Equatable {
    public private(set) var values: [String: String] = [:]

    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    public subscript(name: String) -> String? { values[name] }
}

/// The route a request resolved to: its method and the pattern the router reports for it (what a metric
/// label or an access rule keys on; Hummingbird calls it the endpoint path).
public struct HTTPRouteMatch: Sendable, Equatable {
    public var method: String
    public var pattern: String

    public init(method: String, pattern: String) {
        self.method = method
        self.pattern = pattern
    }
}

/// A small router: exact paths and patterns with `{name}` segments (e.g.
/// "/v2/models/{name}/infer"). GET routes also answer HEAD (the server drops the body). An
/// unknown path is a 404, a known path with another method a 405 with `Allow`. It reports which
/// pattern a request matched (`match`, `pattern(forPath:)`), never the raw path.
public final class HTTPRouter: HTTPResponder, Sendable {
    public typealias Handler = @Sendable (HTTPRequest, RouteParameters, @escaping @Sendable (HTTPResponse) -> Void) -> Void
    /// A route's own check of a request's head (e.g. its Content-Type), asked before the body is read.
    public typealias HeadCheck = @Sendable (HTTPRequest) -> HTTPResponse?

    struct Route: Sendable {
        enum Segment: Sendable, Equatable {
            case literal(String)
            /// `{name}`, or `{name}:verb` (KServe V1's `/v1/models/{name}:predict`): the segment minus its literal
            /// suffix, which must leave a non-empty value.
            case parameter(String, suffix: String)
        }

        var method: String
        /// What the router reports for the requests this route answers.
        var pattern: String
        var segments: [Segment]
        var handler: Handler
        var headCheck: HeadCheck?
        var parameterCount: Int
        /// Characters of literal suffixes (`{name}:predict` has 8): between routes of as many parameters, the one
        /// with more literal text is the more specific.
        var suffixLength: Int

        /// Whether this route is more specific than `other`: fewer parameters, then longer literal suffixes.
        func isMoreSpecific(than other: Route) -> Bool {
            (parameterCount, -suffixLength) < (other.parameterCount, -other.suffixLength)
        }

        /// The parameters if `path` (raw segments, decoded here) matches.
        func match(_ path: [Substring]) -> RouteParameters? {
            guard path.count == segments.count else { return nil }
            var values: [String: String] = [:]
            for (segment, raw) in zip(segments, path) {
                // Decoded per segment, so "%2F" stays inside its segment.
                let decoded = RequestTarget.percentDecode(raw.utf8, plusAsSpace: false) ?? String(raw)
                switch segment {
                case .literal(let literal):
                    guard literal == decoded else { return nil }
                case .parameter(let name, let suffix):
                    guard decoded.count > suffix.count, decoded.hasSuffix(suffix) else { return nil }
                    values[name] = String(decoded.dropLast(suffix.count))
                }
            }
            return RouteParameters(values)
        }
    }

    private let routes = Mutex<[Route]>([])

    public init() {}

    /// Registers `handler` for `method` (case-sensitive, e.g. "GET") on `path`, where a segment
    /// written `{name}` matches any non-empty segment (`{name}:verb`, any segment ending in `:verb` with something
    /// before it). Exact segments win over parameters. `headCheck`, if
    /// any, may refuse a request from its head, before its body is read (`admit`); the handler should make
    /// the same check, for the requests that come without a body. `pattern` is what the router reports for
    /// this route (by default `path`): a route added at a concrete path that stands for a pattern (e.g. at
    /// the served model's name) reports the pattern.
    public func add(_ method: String, _ path: String, pattern: String? = nil, headCheck: HeadCheck? = nil,
                    _ handler: @escaping Handler) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map { part -> Route.Segment in
            if part.count > 2, part.first == "{", let close = part.firstIndex(of: "}"), close > part.index(after: part.startIndex) {
                return .parameter(String(part[part.index(after: part.startIndex)..<close]),
                                  suffix: String(part[part.index(after: close)...]))
            }
            return .literal(String(part))
        }
        let parameters = segments.filter { if case .parameter = $0 { true } else { false } }.count
        let suffixLength = segments.reduce(0) { total, segment in
            if case .parameter(_, let suffix) = segment { total + suffix.count } else { total }
        }
        routes.withLock { $0.append(Route(method: method, pattern: pattern ?? path, segments: segments, handler: handler,
                                          headCheck: headCheck,
                                          parameterCount: parameters, suffixLength: suffixLength)) }
    }

    public func respond(to request: HTTPRequest, completion: @escaping @Sendable (HTTPResponse) -> Void) {
        switch resolve(request) {
        case .route(let route, let parameters): route.handler(request, parameters, completion)
        case .refusal(let response): completion(response)
        }
    }

    /// 404 or 405 from the head alone, before the server reads a body that no route would take; then the
    /// route's own head check.
    public func admit(_ head: HTTPRequest) -> HTTPResponse? {
        switch resolve(head) {
        case .refusal(let response): return response
        case .route(let route, _): return route.headCheck?(head)
        }
    }

    /// The route that answers `request` (HEAD falls back to GET); nil for a 404 or a 405.
    public func match(_ request: HTTPRequest) -> HTTPRouteMatch? {
        guard case .route(let route, _) = resolve(request) else { return nil }
        return HTTPRouteMatch(method: route.method, pattern: route.pattern)
    }

    /// The pattern of the most specific route whose path matches `target`, whatever its method, matched as
    /// `respond` matches it (the raw path's segments); nil when no route's path does. A metric label made from it
    /// is bounded by the routes, whatever paths clients choose.
    public func pattern(for target: RequestTarget) -> String? {
        pattern(segments: target.rawSegments)
    }

    /// `pattern(for:)` for a path that is all one has (a request whose head was not complete): its segments are
    /// matched as if they were the raw ones.
    public func pattern(forPath path: String) -> String? {
        pattern(segments: path.split(separator: "/", omittingEmptySubsequences: false))
    }

    private func pattern(segments: [Substring]) -> String? {
        routes.withLock { routes in
            routes.filter { $0.match(segments) != nil }.min { $0.isMoreSpecific(than: $1) }?.pattern
        }
    }

    enum Resolution {
        case route(Route, RouteParameters)
        case refusal(HTTPResponse)
    }

    func resolve(_ request: HTTPRequest) -> Resolution {
        let segments = request.head.requestTarget.rawSegments
        let candidates = routes.withLock { routes in
            routes.compactMap { route in route.match(segments).map { (route, $0) } }
        }
        guard !candidates.isEmpty else { return .refusal(.error(status: 404, message: "no route for \(request.path)")) }
        // The most specific route for the method; HEAD falls back to GET (RFC 9110 §9.3.2).
        func best(_ method: String) -> (Route, RouteParameters)? {
            candidates.filter { $0.0.method == method }.min { $0.0.isMoreSpecific(than: $1.0) }
        }
        if let (route, parameters) = best(request.method) ?? (request.method == "HEAD" ? best("GET") : nil) {
            return .route(route, parameters)
        }
        var allowed = Set(candidates.map(\.0.method))
        if allowed.contains("GET") { allowed.insert("HEAD") }
        let allow = allowed.sorted().joined(separator: ", ")
        var response = HTTPResponse.error(status: 405, message: "method \(request.method) not allowed for \(request.path)")
        response.headers.add(name: "Allow", value: allow)
        return .refusal(response)
    }
}
