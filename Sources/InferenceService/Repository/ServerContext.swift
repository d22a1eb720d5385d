import Foundation
import HTTPServer
import Logging
import JSONText
import SignBERTRuntime

/// What every model's routes share: the server's configuration, lifecycle and metrics, the route table, the
/// compute pool and the model repository (for the server-wide answers: `/`, the OpenAPI document, V1's model
/// list, the repository extension).
final class ServerContext: Sendable {
    let configuration: ServiceConfiguration
    let lifecycle: Lifecycle
    let metrics: ServiceMetrics
    let pool: ComputePool
    let table: [ServiceRoute]
    let logger: Logger
    let repository: ModelRepository

    init(configuration: ServiceConfiguration, lifecycle: Lifecycle, metrics: ServiceMetrics, pool: ComputePool,
         table: [ServiceRoute], logger: Logger, repository: ModelRepository) {
        self.configuration = configuration
        self.lifecycle = lifecycle
        self.metrics = metrics
        self.pool = pool
        self.table = table
        self.logger = logger
        self.repository = repository
    }

    /// The OpenAPI document for the models served now (the default model's geometry in the schemas).
    func openAPIDocument(default routes: InferenceRoutes) -> [UInt8] {
        let versions = Set(repository.served.map { String($0.version) })
        return OpenAPIDocument.served(config: routes.loaded.config, preparation: routes.loaded.preparation,
                                      configuration: routes.configuration, routes: table, models: repository.names,
                                      versions: versions.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) })
    }

    /// `GET /`: the default model's description, and every served version with its memory.
    func describe(default routes: InferenceRoutes) -> [UInt8] {
        var json = JSONWriter()
        json.raw("[")
        for (index, model) in repository.served.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{\"name\":")
            json.string(model.name)
            json.raw(",\"version\":\"\(model.version)\",\"architecture\":")
            json.string(model.routes.loaded.config.variant.name)
            json.raw(",\"classes\":\(model.routes.loaded.config.numClasses),\"memory_bytes\":\(model.memoryBytes)")
            json.raw(",\"max_batch_size\":\(model.routes.configuration.maxBatchSize)}")
        }
        json.raw("]")
        var description = routes.description
        // The description is one JSON object: the list goes in before its closing brace.
        guard description.last == UInt8(ascii: "}") else { return description }
        description.removeLast()
        return description + Array(",\"models\":".utf8) + json.bytes + [UInt8(ascii: "}")]
    }
}
