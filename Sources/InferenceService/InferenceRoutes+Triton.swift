import HTTPServer
import JSONText
import SignBERTRuntime

/// Triton's model configuration and statistics extensions over REST (gRPC: GRPCService's ModelConfig and
/// ModelStatistics). Both describe the served model through its own objects: `ServedModelConfig` and the
/// `ModelStatistics` its scheduler and core record into.
extension InferenceRoutes {
    /// The served model's configuration.
    var modelConfig: ServedModelConfig { ServedModelConfig(name: configuration.modelName, loaded: loaded, configuration: configuration) }

    func v2ModelConfig(_ parameters: RouteParameters, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        withModel(parameters, respond) { respond(.json(bytes: modelConfig.json())) }
    }

    /// Every model's statistics without a name (`/v2/models/stats`), else the named model's (404 if unknown).
    func v2Statistics(_ parameters: RouteParameters, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        guard let name = parameters["name"] else {
            return respond(.json(bytes: ModelStatistics.Snapshot.json(context.repository.statistics(name: nil, version: nil))))
        }
        withModel(parameters, respond) {
            respond(.json(bytes: ModelStatistics.Snapshot.json(context.repository.statistics(name: name, version: parameters["version"]))))
        }
    }
}

extension ModelRepository {
    /// The served model versions' statistics (each version's scheduler keeps its own), named; `name`/`version`
    /// nil for every model/version, else only those (empty when nothing matches).
    func statistics(name: String?, version: String?) -> [(name: String, version: String, snapshot: ModelStatistics.Snapshot)] {
        served
            .filter { (name == nil || $0.name == name) && (version == nil || String($0.version) == version) }
            .map { ($0.name, String($0.version), $0.scheduler.statistics.snapshot) }
    }
}
