import Foundation
import SwiftProtobuf

/// Triton's ModelConfig and ModelStatistics calls (the same content as REST's `/config` and `/stats`) and its
/// repository calls (as REST's `/v2/repository/...`).
extension GRPCService {
    func modelConfig(_ call: Inference_ModelConfigRequest) -> Result<any SwiftProtobuf.Message & Sendable, GRPCStatus> {
        checkModel(call.name, version: call.version).map { served in
            served.release()
            return Inference_ModelConfigResponse.with { $0.config = served.routes.modelConfig.message } as any SwiftProtobuf.Message & Sendable
        }
    }

    /// An empty name asks for every model, an empty version for every version; an unknown one is NOT_FOUND.
    func modelStatistics(_ call: Inference_ModelStatisticsRequest) -> Result<any SwiftProtobuf.Message & Sendable, GRPCStatus> {
        if !call.name.isEmpty {
            switch checkModel(call.name, version: call.version) {
            case .failure(let status): return .failure(status)
            case .success(let served): served.release()
            }
        }
        let models = context.repository.statistics(name: call.name.isEmpty ? nil : call.name, version: call.version.isEmpty ? nil : call.version)
        return .success(Inference_ModelStatisticsResponse.with { response in
            response.modelStats = models.map { $0.snapshot.message(name: $0.name, version: $0.version) }
        })
    }

    /// Every model version and its state; `ready` keeps the ready ones. The server has one repository, so
    /// `repository_name` is not looked at.
    func repositoryIndex(_ call: Inference_RepositoryIndexRequest) -> Result<any SwiftProtobuf.Message & Sendable, GRPCStatus> {
        .success(Inference_RepositoryIndexResponse.with { response in
            response.models = context.repository.index().filter { !call.ready || $0.state == "READY" }.map { entry in
                .with {
                    $0.name = entry.name
                    $0.version = entry.version
                    $0.state = entry.state
                    $0.reason = entry.reason
                }
            }
        })
    }

    /// Loads (new versions warmed, removed ones unloaded) or unloads a model off the calling thread, since it waits
    /// for warm-ups and drains; NOT_FOUND for an unknown name, INVALID_ARGUMENT when it cannot be done. Of Triton's
    /// parameters only `unload_dependents` is accepted (tritonclient always sends it; a model here has no
    /// dependents); a configuration or files sent with a load are refused: a model loads from its folder.
    func repositoryChange(_ name: String, parameters: [String], load: Bool,
                          _ answer: @escaping @Sendable (Result<any SwiftProtobuf.Message & Sendable, GRPCStatus>) -> Void) {
        if let refused = parameters.sorted().first(where: { $0 != "unload_dependents" }) {
            return answer(.failure(GRPCStatus(.invalidArgument, "the \(load ? "load" : "unload") parameter \"\(refused)\" is not supported: a model loads from its folder in the repository")))
        }
        let repository = context.repository
        repository.change(name, load: load) { result in
            switch result {
            case .success:
                answer(.success(load ? Inference_RepositoryModelLoadResponse() as any SwiftProtobuf.Message & Sendable
                                     : Inference_RepositoryModelUnloadResponse()))
            case .failure(.notFound(let message)): answer(.failure(GRPCStatus(.notFound, message)))
            case .failure(.failed(let message)): answer(.failure(GRPCStatus(.invalidArgument, message)))
            }
        }
    }
}
