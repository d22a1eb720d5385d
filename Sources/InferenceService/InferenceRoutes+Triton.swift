import HTTPServer
import SignBERTRuntime

/// Triton's model configuration and statistics extensions over REST (gRPC: GRPCService's ModelConfig and
/// ModelStatistics). Both describe the served model through its own objects: `ServedModelConfig` and the
/// `ModelStatistics` its scheduler and core record into.
extension InferenceRoutes {
    /// The served model's configuration.
    var modelConfig: ServedModelConfig { ServedModelConfig(name: configuration.modelName, loaded: loaded, configuration: configuration) }

    /// The served model versions' statistics, named; `name`/`version` nil for every model/version, else only
    /// those (empty when nothing matches).
    func statistics(name: String?, version: String?) -> [(name: String, version: String, snapshot: ModelStatistics.Snapshot)] {
        guard name == nil || name == configuration.modelName, version == nil || version == Self.modelVersion else { return [] }
        return [(configuration.modelName, Self.modelVersion, scheduler.statistics.snapshot)]
    }

    func v2ModelConfig(_ parameters: RouteParameters, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        withModel(parameters, respond) { respond(.json(bytes: modelConfig.json())) }
    }

    /// Every model's statistics without a name (`/v2/models/stats`), else the named model's (404 if unknown).
    func v2Statistics(_ parameters: RouteParameters, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        guard let name = parameters["name"] else {
            return respond(.json(bytes: ModelStatistics.Snapshot.json(statistics(name: nil, version: nil))))
        }
        withModel(parameters, respond) {
            respond(.json(bytes: ModelStatistics.Snapshot.json(statistics(name: name, version: parameters["version"]))))
        }
    }
}
