import HTTPServer
import SignBERTRuntime

/// Who may call a route when the server has API keys (`--api-key`).
enum RouteAccess: Sendable, Equatable {
    /// Open to anyone: probes, descriptions and the document, so orchestrators keep working.
    case open
    /// Needs `Authorization: Bearer <key>`: every route that runs the model.
    case key
    /// Needs the key only with `--protect-metrics`.
    case keyWhenMetricsProtected
    /// Loads and unloads models: needs the key when keys are set; without keys, callers on loopback only, unless
    /// `--model-control any` (`ModelControlResponder`).
    case modelControl

    func needsKey(protectMetrics: Bool) -> Bool {
        switch self {
        case .open: false
        case .key, .modelControl: true
        case .keyWhenMetricsProtected: protectMetrics
        }
    }
}

/// Which served model a route's handler is given.
enum ModelBinding: Sendable, Equatable {
    /// The model (and version) the path names: `{name}` and `{version}`; an unknown one is a 404.
    case named
    /// The default model's highest version: the plain prediction routes (`/predict`), counted in its metrics.
    case defaultModel
    /// Server-wide (`/`, `/metrics`, the repository extension): given the default model, not counted as its request.
    case server
}

/// One route of the service, everything about it in one place: the router, the OpenAPI paths, the metric
/// label and the API-key rule are all made from a list of these (`InferenceRoutes.table`), so a route is added by
/// adding an entry (and writing its handler), and none of the four can forget it.
struct ServiceRoute: Sendable {
    typealias Handler = @Sendable (InferenceRoutes, HTTPRequest, RouteParameters,
                                   @escaping @Sendable (HTTPResponse) -> Void) -> Void

    var method: String
    /// As the router matches and reports it, with `{name}` segments for parameters; the metric label.
    var pattern: String
    /// Parameters the configuration fixes (the V1 routes take only the served model's name): the router matches,
    /// and the document shows, the value in their place, while the route still reports its pattern.
    var fixed: [String: String] = [:]
    var access: RouteAccess
    var operation: OpenAPIOperation
    /// A check of the head before the body is read (e.g. its Content-Type); the handler makes it again.
    var headCheck: HTTPRouter.HeadCheck?
    var handler: Handler
    var binding: ModelBinding

    /// `binding` by default: `.named` for a pattern with `{name}`, `.defaultModel` for the other routes that run the
    /// model (those that need a key), `.server` for the rest.
    init(_ method: String, _ pattern: String, fixed: [String: String] = [:], access: RouteAccess,
         _ operation: OpenAPIOperation, headCheck: HTTPRouter.HeadCheck? = nil, binding: ModelBinding? = nil,
         handler: @escaping Handler) {
        self.binding = binding ?? (pattern.contains("{name}") ? .named : access == .key ? .defaultModel : .server)
        self.method = method
        self.pattern = pattern
        self.fixed = fixed
        self.access = access
        self.operation = operation
        self.headCheck = headCheck
        self.handler = handler
    }

    /// The path the router is given: the pattern with the fixed parameters filled in.
    var path: String {
        fixed.reduce(pattern) { path, parameter in path.replacingOccurrences(of: "{\(parameter.key)}", with: parameter.value) }
    }
}

/// The API-key rule of a route table: what the route a request resolves to says; a request no route takes
/// (404, 405) needs the key when it is a POST, as every model route is, so a client without a key learns nothing
/// from probing POST paths.
struct RouteAccessRule: Sendable {
    private let access: [String: RouteAccess]
    private let router: HTTPRouter

    init(_ routes: [ServiceRoute], router: HTTPRouter) {
        // The first entry of a method and pattern wins, as in the router.
        access = Dictionary(routes.map { ($0.method + " " + $0.pattern, $0.access) }, uniquingKeysWith: { first, _ in first })
        self.router = router
    }

    func needsKey(_ request: HTTPRequest, protectMetrics: Bool) -> Bool {
        guard let access = access(of: request) else { return request.method == "POST" }
        return access.needsKey(protectMetrics: protectMetrics)
    }

    /// The rule of the route `request` resolves to; nil when no route takes it.
    func access(of request: HTTPRequest) -> RouteAccess? {
        guard let match = router.match(request) else { return nil }
        return access[match.method + " " + match.pattern]
    }
}
