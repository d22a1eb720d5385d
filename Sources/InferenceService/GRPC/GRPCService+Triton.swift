import SwiftProtobuf

/// Triton's ModelConfig and ModelStatistics calls: the same content as REST's `/config` and `/stats`.
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
}
