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

    /// One ModelInferRequest through the inference core, due by `deadline` (the call's, unless given: a stream's
    /// messages each have their own).
    func infer(_ call: Inference_ModelInferRequest, request: HTTPRequest, deadline: ContinuousClock.Instant? = nil,
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
        routes.core.infer(deadline: deadline ?? self.deadline(request), cancellation: InferenceCancellation { cancellation.isCancelled },
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

    /// ModelStreamInfer whose whole body arrived at once (the HTTP/2 layer streams it to a `GRPCStreamCall` when it
    /// can; an h2c upgrade's stream 1, or a call without a body, comes whole): one ModelStreamInferResponse per
    /// request message, in order, all submitted together; the answers go out when the last is computed.
    func streamInfer(_ request: HTTPRequest, messages: [[UInt8]], completion: @escaping @Sendable (HTTPResponse) -> Void) {
        let compressed = GRPCMessageFraming.compressesAnswers(request.headers)
        let collector = StreamAnswers(count: messages.count) { answers in
            completion(Self.response(messages: answers, compressed: compressed))
        }
        for (index, message) in messages.enumerated() {
            streamAnswer(message, index: index, request: request) { collector.set(index, $0) }
        }
    }

    /// The answer of one ModelStreamInfer request message, as Triton gives it: the ModelInferResponse, or the
    /// failure's `error_message` with the request's id (the stream goes on).
    func streamAnswer(_ message: [UInt8], index: Int, request: HTTPRequest, deadline: ContinuousClock.Instant? = nil,
                      completion: @escaping @Sendable (Inference_ModelStreamInferResponse) -> Void) {
        let call: Inference_ModelInferRequest
        do { call = try Inference_ModelInferRequest(serializedBytes: message) } catch {
            return completion(.with { $0.errorMessage = "request \(index) is not a valid ModelInferRequest: \(error)" })
        }
        infer(call, request: request, deadline: deadline) { result in
            switch result {
            case .success(let response): completion(.with { $0.inferResponse = response })
            case .failure(let status):
                completion(.with {
                    $0.errorMessage = status.message
                    $0.inferResponse = Inference_ModelInferResponse.with { $0.id = call.id; $0.modelName = call.modelName }
                })
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
