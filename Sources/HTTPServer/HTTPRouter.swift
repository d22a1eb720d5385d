import Synchronization

/// Values of the `{name}` segments a route pattern matched.
public struct RouteParameters: Sendable, Equatable {
    public private(set) var values: [String: String] = [:]

    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    public subscript(name: String) -> String? { values[name] }
}

/// A small router: exact paths and patterns with `{name}` segments (e.g.
/// "/v2/models/{name}/infer"). GET routes also answer HEAD (the server drops the body). An
/// unknown path is a 404, a known path with another method a 405 with `Allow`.
public final class HTTPRouter: HTTPResponder, Sendable {
    public typealias Handler = @Sendable (HTTPRequest, RouteParameters, @escaping @Sendable (HTTPResponse) -> Void) -> Void
    /// A route's own check of a request's head (e.g. its Content-Type), asked before the body is read.
    public typealias HeadCheck = @Sendable (HTTPRequest) -> HTTPResponse?

    struct Route: Sendable {
        enum Segment: Sendable, Equatable {
            case literal(String)
            case parameter(String)
        }

        var method: String
        var segments: [Segment]
        var handler: Handler
        var headCheck: HeadCheck?
        var parameterCount: Int

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
                case .parameter(let name):
                    guard !decoded.isEmpty else { return nil }
                    values[name] = decoded
                }
            }
            return RouteParameters(values)
        }
    }

    private let routes = Mutex<[Route]>([])

    public init() {}

    /// Registers `handler` for `method` (case-sensitive, e.g. "GET") on `path`, where a segment
    /// written `{name}` matches any non-empty segment. Exact segments win over parameters. `headCheck`, if
    /// any, may refuse a request from its head, before its body is read (`admit`); the handler should make
    /// the same check, for the requests that come without a body.
    public func add(_ method: String, _ path: String, headCheck: HeadCheck? = nil, _ handler: @escaping Handler) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map { part -> Route.Segment in
            if part.count > 2, part.first == "{", part.last == "}" {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            return .literal(String(part))
        }
        let parameters = segments.filter { if case .parameter = $0 { true } else { false } }.count
        routes.withLock { $0.append(Route(method: method, segments: segments, handler: handler, headCheck: headCheck,
                                          parameterCount: parameters)) }
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

    enum Resolution {
        case route(Route, RouteParameters)
        case refusal(HTTPResponse)
    }

    func resolve(_ request: HTTPRequest) -> Resolution {
        let rawPath = RequestTarget(request.target)?.rawPath ?? request.path
        let segments = rawPath.split(separator: "/", omittingEmptySubsequences: false)
        let candidates = routes.withLock { routes in
            routes.compactMap { route in route.match(segments).map { (route, $0) } }
        }
        guard !candidates.isEmpty else { return .refusal(.error(status: 404, message: "no route for \(request.path)")) }
        // The most specific route for the method; HEAD falls back to GET (RFC 9110 §9.3.2).
        func best(_ method: String) -> (Route, RouteParameters)? {
            candidates.filter { $0.0.method == method }.min { $0.0.parameterCount < $1.0.parameterCount }
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
