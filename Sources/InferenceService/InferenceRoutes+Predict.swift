import HTTPServer
import SignBERTRuntime
import WireFormats

/// `POST /predict` and SageMaker's `POST /invocations` (the same contract): a JSON body (clips as arrays or as
/// MediaPipe Holistic landmarks) or a `.pose` file (`Content-Type: application/x-pose`, options in the query).
extension InferenceRoutes {
    static let poseMediaType = "application/x-pose"

    /// 415 unless the body is JSON or a `.pose` file: also asked from the head, before the body is read.
    @Sendable static func predictContentType(_ request: HTTPRequest) -> HTTPResponse? {
        guard let contentType = request.headers["Content-Type"], mediaType(contentType) != poseMediaType,
              !isJSON(contentType) else { return nil }
        return .error(status: 415, message: "Content-Type must be application/json or \(poseMediaType), got \(contentType)")
    }

    func predict(_ request: HTTPRequest, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        if let refusal = Self.predictContentType(request) { return respond(refusal) }
        let isPose = request.headers["Content-Type"].map { Self.mediaType($0) == Self.poseMediaType } ?? false
        infer(request, respond, decode: { () throws(RequestError) in
            let decoded = isPose ? try decodePose(request) : try decodeJSON(request)
            return Self.clipsAndOptions(decoded)
        }, render: { [loaded] logits, options in
            Self.renderPredictions(logits, loaded: loaded, options: options)
        })
    }

    /// The clips for the core, and what the answer needs of the options.
    static func clipsAndOptions(_ decoded: PredictionRequest) -> (Clips, PredictionOptions) {
        (Clips(values: decoded.clips, batch: decoded.batch), decoded.options)
    }

    /// A `.pose` file as one clip; `top_k`, `return_logits` and `frames` come from the query string.
    func decodePose(_ request: HTTPRequest) throws(RequestError) -> PredictionRequest {
        let config = loaded.config
        // The two usual mistakes, said plainly rather than as a malformed .pose header.
        switch PredictionRequestDecoder.poseBodyIsJSON(request.body) {
        case nil: throw RequestError("the .pose body is empty: post the file's bytes (curl --data-binary @FILE.pose)")
        case true?: throw RequestError("the body is JSON, not a .pose file: send it with Content-Type: application/json")
        case false?: break
        }
        // The options are checked exactly as in a JSON body.
        let options = try PredictionOptions(query: PredictionOptions.Query(request.query), numClasses: config.numClasses)
        let clip = try PredictionRequestDecoder.decodePose(request.body, config: config, preparation: loaded.preparation,
                                                           exact: options.exactFrames, maxFrames: configuration.maxFrames)
        return PredictionRequest(clips: clip, batch: 1, options: options)
    }

    /// A JSON body; options in the query string apply too, unless the body sets the same one.
    func decodeJSON(_ request: HTTPRequest) throws(RequestError) -> PredictionRequest {
        let query = try PredictionOptions.Query(request.query)
        let document: JSONValue
        do { document = try JSONParser.parse(request.body) } catch { throw RequestError("malformed JSON: \(error.description)") }
        return try PredictionRequestDecoder.decode(document: document, query: query, config: loaded.config,
                                                   preparation: loaded.preparation, maxClips: configuration.maxClipsPerRequest,
                                                   maxFrames: configuration.maxFrames)
    }

    /// `{"predictions": [...]}`, one entry per clip, the same for every route that speaks this contract.
    static func renderPredictions(_ logits: [Float], loaded: LoadedModel, options: PredictionOptions) -> HTTPResponse {
        let predictions = Prediction.batch(logits: logits, numClasses: loaded.config.numClasses, labels: loaded.labels,
                                           topK: options.topK, includeLogits: options.returnLogits)
        return .json(bytes: PredictionEncoder.encode(predictions))
    }
}
