import Foundation
import HTTPServer
import SwiftProtobuf

/// `inference.GRPCInferenceService` (Protos/grpc_predict_v2.proto) over the server's HTTP/2: the health and
/// metadata calls here, inference in GRPCService+Infer.swift. Each call is one HTTP/2 request whose body holds
/// its length-prefixed messages; the answer is `application/grpc` with the messages and a `grpc-status` trailer.
final class GRPCService: Sendable {
    static let servicePath = "/inference.GRPCInferenceService/"

    enum Method: String, CaseIterable, Sendable {
        case serverLive = "ServerLive"
        case serverReady = "ServerReady"
        case modelReady = "ModelReady"
        case serverMetadata = "ServerMetadata"
        case modelMetadata = "ModelMetadata"
        case modelInfer = "ModelInfer"
        case modelStreamInfer = "ModelStreamInfer"
        case modelConfig = "ModelConfig"
        case modelStatistics = "ModelStatistics"
        case repositoryIndex = "RepositoryIndex"
        case repositoryModelLoad = "RepositoryModelLoad"
        case repositoryModelUnload = "RepositoryModelUnload"

        /// The calls that run the model need the API key, as the REST POST routes do; health and metadata stay
        /// open like REST's GET routes.
        /// The repository calls too, as REST's `/v2/repository/...` POST routes.
        var needsKey: Bool {
            switch self {
            case .modelInfer, .modelStreamInfer, .repositoryIndex, .repositoryModelLoad, .repositoryModelUnload: true
            default: false
            }
        }

        /// Loading and unloading: on a server without keys, open to loopback callers only by default
        /// (`ModelControlAccess`), as REST's load and unload routes.
        var controlsModels: Bool { self == .repositoryModelLoad || self == .repositoryModelUnload }
    }

    /// The served models (the calls name one) and the server's lifecycle and settings.
    let context: ServerContext
    let apiKeys: [[UInt8]]
    /// Who may load and unload models when there are no keys.
    let modelControl: ModelControlAccess
    /// The largest request message, compressed or not (RESOURCE_EXHAUSTED past it).
    let maxMessageBytes: Int

    init(context: ServerContext, apiKeys: [[UInt8]], modelControl: ModelControlAccess = .loopback, maxMessageBytes: Int) {
        self.context = context
        self.apiKeys = apiKeys
        self.modelControl = modelControl
        self.maxMessageBytes = maxMessageBytes
    }

    var isReady: Bool { context.lifecycle.current == .ready }

    /// The method a path names, or UNIMPLEMENTED (a method of Triton's service this server does not offer, or
    /// anything else).
    static func method(_ request: HTTPRequest) -> Result<Method, GRPCStatus> {
        guard request.method == "POST" else { return .failure(GRPCStatus(.unimplemented, "gRPC calls are POST requests")) }
        guard request.path.hasPrefix(servicePath) else {
            return .failure(GRPCStatus(.unimplemented, "unknown service in \(request.path); this server offers inference.GRPCInferenceService"))
        }
        let name = String(request.path.dropFirst(servicePath.count))
        guard let method = Method(rawValue: name) else {
            return .failure(GRPCStatus(.unimplemented, "inference.GRPCInferenceService/\(name) is not implemented by this server"))
        }
        return .success(method)
    }

    /// The refusal of a call from its head alone: unknown method, missing or wrong API key. Quick, no body.
    func refusal(_ head: HTTPRequest) -> GRPCStatus? {
        switch Self.method(head) {
        case .failure(let status): return status
        case .success(let method):
            if method.controlsModels, apiKeys.isEmpty, !modelControl.allows(head.remoteAddress) {
                return GRPCStatus(.permissionDenied, ModelControlAccess.refusalMessage)
            }
            guard method.needsKey, !apiKeys.isEmpty else { return nil }
            guard let presented = APIKeyResponder.bearerToken(head.headers["Authorization"]) else {
                return GRPCStatus(.unauthenticated, "this call needs authorization: Bearer <API key> metadata")
            }
            var matched = false
            for key in apiKeys where APIKeyResponder.constantTimeEquals(key, presented) { matched = true }
            return matched ? nil : GRPCStatus(.unauthenticated, "the API key is not valid")
        }
    }

    func handle(_ request: HTTPRequest, completion: @escaping @Sendable (HTTPResponse) -> Void) {
        if let status = refusal(request) { return completion(Self.response(status: status)) }
        guard case .success(let method) = Self.method(request) else { return }
        let messages: [[UInt8]]
        do {
            messages = try GRPCMessageFraming.messages(in: request.body, encoding: request.headers["grpc-encoding"],
                                                       maxMessageBytes: maxMessageBytes)
        } catch {
            return completion(Self.response(status: error))
        }
        if method == .modelStreamInfer { return streamInfer(request, messages: messages, completion: completion) }
        // A unary call carries exactly one request message.
        guard messages.count == 1, let message = messages.first else {
            return completion(Self.response(status: GRPCStatus(.internal, "a unary call needs exactly one request message; got \(messages.count)")))
        }
        let answer = { @Sendable (result: Result<any SwiftProtobuf.Message & Sendable, GRPCStatus>) in
            switch result {
            case .success(let reply):
                completion(Self.response(messages: [reply], compressed: GRPCMessageFraming.compressesAnswers(request.headers)))
            case .failure(let status): completion(Self.response(status: status))
            }
        }
        do {
            switch method {
            case .serverLive:
                _ = try Inference_ServerLiveRequest(serializedBytes: message)
                answer(.success(Inference_ServerLiveResponse.with { $0.live = true }))
            case .serverReady:
                _ = try Inference_ServerReadyRequest(serializedBytes: message)
                answer(.success(Inference_ServerReadyResponse.with { $0.ready = isReady }))
            case .modelReady:
                let call = try Inference_ModelReadyRequest(serializedBytes: message)
                switch checkModel(call.name, version: call.version) {
                case .success(let served):
                    served.release()
                    answer(.success(Inference_ModelReadyResponse.with { $0.ready = isReady }))
                case .failure(let status) where status.code == .notFound:
                    // As Triton: a model or version not served is not ready, not an error (tritonclient's
                    // is_model_ready then returns False instead of raising).
                    answer(.success(Inference_ModelReadyResponse.with { $0.ready = false }))
                case .failure(let status):
                    answer(.failure(status))
                }
            case .serverMetadata:
                _ = try Inference_ServerMetadataRequest(serializedBytes: message)
                answer(.success(serverMetadata()))
            case .modelMetadata:
                let call = try Inference_ModelMetadataRequest(serializedBytes: message)
                answer(checkModel(call.name, version: call.version).map { served in
                    served.release()
                    return modelMetadata(served.routes) as any SwiftProtobuf.Message & Sendable
                })
            case .modelInfer:
                let call = try Inference_ModelInferRequest(serializedBytes: message)
                infer(call, request: request) { result in answer(result.map { $0 as any SwiftProtobuf.Message & Sendable }) }
            case .modelConfig:
                let call = try Inference_ModelConfigRequest(serializedBytes: message)
                answer(modelConfig(call))
            case .modelStatistics:
                let call = try Inference_ModelStatisticsRequest(serializedBytes: message)
                answer(modelStatistics(call))
            case .repositoryIndex:
                answer(repositoryIndex(try Inference_RepositoryIndexRequest(serializedBytes: message)))
            case .repositoryModelLoad:
                let call = try Inference_RepositoryModelLoadRequest(serializedBytes: message)
                repositoryChange(call.modelName, parameters: Array(call.parameters.keys), load: true, answer)
            case .repositoryModelUnload:
                let call = try Inference_RepositoryModelUnloadRequest(serializedBytes: message)
                repositoryChange(call.modelName, parameters: Array(call.parameters.keys), load: false, answer)
            case .modelStreamInfer:
                break  // handled above
            }
        } catch let status as GRPCStatus {
            answer(.failure(status))
        } catch {
            answer(.failure(GRPCStatus(.invalidArgument, "the request message is not a valid \(method.rawValue) request: \(error)")))
        }
    }

    /// The served version a call names (its highest when `version` is empty), leased: the caller releases it once
    /// answered. NOT_FOUND for an unknown model or version.
    func checkModel(_ name: String, version: String) -> Result<ServedModel, GRPCStatus> {
        switch context.repository.acquire(name: name, version: version.isEmpty ? nil : version) {
        case .success(let served): .success(served)
        case .failure(let error): .failure(GRPCStatus(.notFound, error.message))
        }
    }

    func serverMetadata() -> Inference_ServerMetadataResponse {
        Inference_ServerMetadataResponse.with {
            $0.name = "signbert"
            $0.version = InferenceServer.version
            $0.extensions = InferenceRoutes.extensions
        }
    }

    /// The same tensors as V2 REST's model metadata: any batch and frame count in, [B, K] out.
    func modelMetadata(_ routes: InferenceRoutes) -> Inference_ModelMetadataResponse {
        let config = routes.loaded.config
        return Inference_ModelMetadataResponse.with { metadata in
            metadata.name = routes.configuration.modelName
            metadata.versions = routes.servedVersions
            metadata.platform = "signbert"
            metadata.inputs = [.with {
                $0.name = OpenInferenceRequest.inputName
                $0.datatype = "FP32"
                $0.shape = [-1, -1, Int64(config.numJoints), Int64(config.numCoords)]
            }]
            metadata.outputs = OpenInferenceOutputName.allCases.map { name in
                .with {
                    $0.name = name.rawValue
                    $0.datatype = "FP32"
                    $0.shape = [-1, Int64(config.numClasses)]
                }
            }
        }
    }

    // MARK: Answers

    /// `compressed`: the answer's messages are gzip-compressed (`GRPCMessageFraming.compressesAnswers`).
    static func responseHeaders(compressed: Bool = false) -> HTTPHeaders {
        var headers: HTTPHeaders = ["Content-Type": "application/grpc", "grpc-accept-encoding": GRPCMessageFraming.acceptEncoding]
        if compressed { headers.add(name: "grpc-encoding", value: "gzip") }
        return headers
    }

    /// The messages, then `status` (OK unless a stream ends with an error).
    static func response(messages: [any SwiftProtobuf.Message], status: GRPCStatus = .ok, compressed: Bool = false) -> HTTPResponse {
        var body: [UInt8] = []
        for message in messages {
            do {
                GRPCMessageFraming.frameAnswer(try message.serializedBytes(), compressed: compressed, into: &body)
            } catch {
                return response(status: GRPCStatus(.internal, "cannot encode the answer: \(error)"))
            }
        }
        return HTTPResponse(status: 200, headers: responseHeaders(compressed: compressed), body: body,
                            trailers: HTTPHeaders(status.trailers))
    }

    /// A call that ends with `status` and no message. Always HTTP 200: gRPC's statuses travel in trailers.
    static func response(status: GRPCStatus) -> HTTPResponse {
        HTTPResponse(status: 200, headers: responseHeaders(), body: [], trailers: HTTPHeaders(status.trailers))
    }
}
