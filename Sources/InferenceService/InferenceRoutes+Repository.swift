import Foundation
import HTTPServer
import JSONText
import SignBERTRuntime
import WireFormats

/// The routes over every model: KServe V1's model list and Triton's model repository extension (index, load,
/// unload). They answer from the repository, whichever model's routes they are given.
extension InferenceRoutes {
    /// `{"models": ["name", ...]}`, the default model first.
    func v1Models() -> HTTPResponse {
        var json = JSONWriter()
        json.raw("{\"models\":[")
        for (index, name) in context.repository.names.enumerated() {
            if index > 0 { json.raw(",") }
            json.string(name)
        }
        json.raw("]}")
        return .json(bytes: json.bytes)
    }

    /// Triton's index: `[{"name", "version", "state", "reason"}]`; a body `{"ready": true}` keeps the ready ones.
    func repositoryIndex(_ request: HTTPRequest, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        var readyOnly = false
        if !request.body.isEmpty {
            guard let document = try? JSONParser.parse(request.body), case .object = document else {
                return respond(.error(status: 400, message: "the index request body must be a JSON object, e.g. {\"ready\": true}"))
            }
            switch document["ready"] {
            case nil, .null?: break
            case .bool(let value)?: readyOnly = value
            case let other?: return respond(.error(status: 400, message: "\"ready\" must be a boolean, got \(other.kindName)"))
            }
        }
        var json = JSONWriter()
        json.raw("[")
        var first = true
        for entry in context.repository.index() where !readyOnly || entry.state == "READY" {
            if !first { json.raw(",") }
            first = false
            json.raw("{\"name\":")
            json.string(entry.name)
            json.raw(",\"version\":")
            json.string(entry.version)
            json.raw(",\"state\":")
            json.string(entry.state)
            json.raw(",\"reason\":")
            json.string(entry.reason)
            json.raw("}")
        }
        json.raw("]")
        respond(.json(bytes: json.bytes))
    }

    /// Loads the model's new versions (each warmed before it is served) and unloads removed ones; answers once
    /// done. 400 with the reason when the model ends up with no version served, 404 when no folder has the name.
    func repositoryLoad(_ parameters: RouteParameters, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let name = parameters["name"] ?? "", repository = context.repository
        repository.change(name, load: true) { respond(Self.changeAnswer($0)) }
    }

    /// Takes every version of the model out of service, then answers once their queued requests are answered.
    func repositoryUnload(_ parameters: RouteParameters, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let name = parameters["name"] ?? "", repository = context.repository
        repository.change(name, load: false) { respond(Self.changeAnswer($0)) }
    }

    private static func changeAnswer(_ result: Result<Void, ModelRepository.ChangeError>) -> HTTPResponse {
        switch result {
        case .success: .json(bytes: Array("{}".utf8))
        case .failure(.notFound(let message)): .error(status: 404, message: message)
        case .failure(.failed(let message)): .error(status: 400, message: message)
        }
    }
}
