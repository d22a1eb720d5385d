import Foundation
import HTTPServer
import SignBERTRuntime

/// ModelInfer and ModelStreamInfer: both go through `InferenceCore.infer`, so they batch with the REST routes.
extension GRPCService {
    /// The call's deadline: the server's request timeout, or the client's `grpc-timeout` when that is sooner.
    func deadline(_ request: HTTPRequest) -> ContinuousClock.Instant {
        var timeout = context.configuration.requestTimeout
        if let asked = request.headers["grpc-timeout"].flatMap(GRPCTimeout.parse), asked < timeout { timeout = asked }
        return request.receivedAt + timeout
    }

    func infer(_ call: Inference_ModelInferRequest, request: HTTPRequest,
               completion: @escaping @Sendable (Result<Inference_ModelInferResponse, GRPCStatus>) -> Void) {
        let served: ServedModel
        switch checkModel(call.modelName, version: call.modelVersion) {
        case .success(let model): served = model
        case .failure(let status): return completion(.failure(status))
        }
        let routes = served.routes, loaded = routes.loaded, configuration = routes.configuration, name = configuration.modelName
        let cancellation = request.cancellation
        let completion: @Sendable (Result<Inference_ModelInferResponse, GRPCStatus>) -> Void = { result in
            served.release()
            completion(result)
        }
        routes.core.infer(deadline: deadline(request), cancellation: InferenceCancellation { cancellation.isCancelled },
                          decode: { () throws(RequestError) in
            try GRPCInferCodec.decode(call, config: loaded.config, preparation: loaded.preparation,
                                      maxClips: configuration.maxClipsPerRequest, maxFrames: configuration.maxFrames)
        }) { result in
            switch result {
            case .success(let (inference, context)):
                completion(.success(GRPCInferCodec.encode(logits: inference.logits, context: context,
                                                          numClasses: loaded.config.numClasses, modelName: name,
                                                          modelVersion: routes.modelVersion)))
            case .failure(let failure):
                completion(.failure(failure.grpcStatus))
            }
        }
    }

    /// Triton's ModelStreamInfer: one ModelStreamInferResponse per request message, in order; a request that
    /// fails answers with its `error_message` and the stream goes on (Triton's behaviour). All of the stream's
    /// requests are submitted at once, so they batch together; the answers go out when the last is computed.
    func streamInfer(_ request: HTTPRequest, messages: [[UInt8]], completion: @escaping @Sendable (HTTPResponse) -> Void) {
        let collector = StreamAnswers(count: messages.count) { answers in completion(Self.response(messages: answers)) }
        for (index, message) in messages.enumerated() {
            let call: Inference_ModelInferRequest
            do { call = try Inference_ModelInferRequest(serializedBytes: message) } catch {
                collector.set(index, .with { $0.errorMessage = "request \(index) is not a valid ModelInferRequest: \(error)" })
                continue
            }
            infer(call, request: request) { result in
                switch result {
                case .success(let response): collector.set(index, .with { $0.inferResponse = response })
                case .failure(let status):
                    collector.set(index, .with {
                        $0.errorMessage = status.message
                        $0.inferResponse = Inference_ModelInferResponse.with { $0.id = call.id; $0.modelName = call.modelName }
                    })
                }
            }
        }
    }
}

/// The answers of one stream, filled in from any thread; `done` runs once, when the last one arrives.
final class StreamAnswers: @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [Inference_ModelStreamInferResponse?]
    private var missing: Int
    private let done: @Sendable ([Inference_ModelStreamInferResponse]) -> Void

    init(count: Int, done: @escaping @Sendable ([Inference_ModelStreamInferResponse]) -> Void) {
        answers = Array(repeating: nil, count: count)
        missing = count
        self.done = done
        if count == 0 { done([]) }
    }

    func set(_ index: Int, _ answer: Inference_ModelStreamInferResponse) {
        lock.lock()
        guard answers[index] == nil else { lock.unlock(); return }
        answers[index] = answer
        missing -= 1
        let complete = missing == 0 ? answers.compactMap { $0 } : nil
        lock.unlock()
        if let complete { done(complete) }
    }
}
