import Foundation
import HTTPServer

extension ServerContext {
    /// Adds every route of the table to `router`. Each request is given the routes of the model version it
    /// resolves to (`ModelBinding`), holding a lease on that version until it is answered, so an unload waits
    /// for it; a route that names an unknown model or version answers 404 with a JSON error.
    func install(on router: HTTPRouter) {
        for route in table {
            let handler = route.handler, binding = route.binding
            router.add(route.method, route.path, pattern: route.pattern, headCheck: route.headCheck) { [self] request, parameters, respond in
                let served: ServedModel
                switch binding {
                case .named:
                    switch repository.acquire(name: parameters["name"], version: parameters["version"]) {
                    case .success(let model): served = model
                    case .failure(let error): return respond(.error(status: 404, message: error.message))
                    }
                case .defaultModel, .server:
                    guard let model = repository.acquireDefaultOrFallback() else {
                        return respond(InferenceRoutes.unavailable("no model is loaded"))
                    }
                    served = model
                }
                // A server-wide route answers from the shared context, not from the model whose routes it is given:
                // it holds no lease, or an unload of the default model would wait for the unload request itself.
                let counted = binding != .server
                if !counted { served.release() }
                handler(served.routes, request, parameters) { response in
                    if counted {
                        served.release()
                        served.metrics.recordResponse(status: response.status, duration: request.receivedAt.duration(to: .now))
                    }
                    respond(response)
                }
            }
        }
    }

    /// The model a request names, for the access log, from the route `pattern` its target matched and its path:
    /// the `{name}` of a model route, the default model for the plain prediction routes, nil for the server's own
    /// routes.
    func modelLabel(pattern: String, path: String) -> String? {
        guard let route = table.first(where: { $0.pattern == pattern }) else { return nil }
        switch route.binding {
        case .server: return nil
        case .defaultModel: return repository.names.first
        case .named:
            let patternSegments = pattern.split(separator: "/", omittingEmptySubsequences: false)
            let pathSegments = path.split(separator: "/", omittingEmptySubsequences: false)
            guard patternSegments.count == pathSegments.count,
                  let index = patternSegments.firstIndex(where: { $0.hasPrefix("{name}") }) else { return nil }
            let suffix = patternSegments[index].dropFirst("{name}".count)
            return String(pathSegments[index].dropLast(suffix.count))
        }
    }
}
