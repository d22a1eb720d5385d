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

    struct PredictionOptions: Sendable {
        var topK: Int
        var returnLogits: Bool
    }

    static func clipsAndOptions(_ decoded: PredictionRequest) -> (Clips, PredictionOptions) {
        (Clips(values: decoded.clips, batch: decoded.batch),
         PredictionOptions(topK: decoded.topK, returnLogits: decoded.returnLogits))
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
        // The options are checked exactly as in a JSON body, on a stand-in clip of the model's shape.
        let frames = loaded.preparation.frames
        var members = try Self.queryOptions(request)
        members.append((key: "inputs", value: .tensor(shape: [1, frames, config.inputFeatures],
                                                       values: [Double](repeating: 0, count: frames * config.inputFeatures))))
        var options = try PredictionRequestDecoder.decode(document: .object(members), config: config,
                                                          preparation: loaded.preparation, maxClips: 1,
                                                          maxFrames: configuration.maxFrames)
        let exact = request.queryValue("frames") == "exact"
        options.clips = try PredictionRequestDecoder.decodePose(request.body, config: config, preparation: loaded.preparation,
                                                                exact: exact, maxFrames: configuration.maxFrames)
        return options
    }

    /// A JSON body; options in the query string apply too, unless the body sets the same one.
    func decodeJSON(_ request: HTTPRequest) throws(RequestError) -> PredictionRequest {
        let query = try Self.queryOptions(request)
        let document: JSONValue
        do { document = try JSONParser.parse(request.body) } catch { throw RequestError("malformed JSON: \(error.description)") }
        var merged = document
        if !query.isEmpty, case .object(var members) = document {
            for option in query {
                guard document[option.key] == nil else {
                    throw RequestError("\"\(option.key)\" is set both in the query string and in the body; set it once")
                }
                members.append(option)
            }
            merged = .object(members)
        }
        return try PredictionRequestDecoder.decode(document: merged, config: loaded.config, preparation: loaded.preparation,
                                                   maxClips: configuration.maxClipsPerRequest, maxFrames: configuration.maxFrames)
    }

    /// `top_k`, `return_logits` and `frames` from the query string, as the JSON members they stand for.
    static func queryOptions(_ request: HTTPRequest) throws(RequestError) -> [(key: String, value: JSONValue)] {
        var members: [(key: String, value: JSONValue)] = []
        for (name, value) in request.query {
            guard !members.contains(where: { $0.key == name }) else {
                throw RequestError("query parameter \"\(name)\" is given twice")
            }
            switch name {
            case "top_k":
                guard let number = Double(value) else { throw RequestError("query top_k must be a number, got \"\(value)\"") }
                members.append((key: name, value: .number(number)))
            case "return_logits":
                guard let flag = Bool(value) else { throw RequestError("query return_logits must be true or false, got \"\(value)\"") }
                members.append((key: name, value: .bool(flag)))
            case "frames":
                members.append((key: name, value: .string(value)))
            default:
                throw RequestError("query parameter \"\(name)\" is not known; the options are top_k, return_logits and frames")
            }
        }
        return members
    }

    /// `{"predictions": [...]}`, one entry per clip, the same for every route that speaks this contract.
    static func renderPredictions(_ logits: [Float], loaded: LoadedModel, options: PredictionOptions) -> HTTPResponse {
        let predictions = Prediction.batch(logits: logits, numClasses: loaded.config.numClasses, labels: loaded.labels,
                                           topK: options.topK, includeLogits: options.returnLogits)
        return .json(bytes: PredictionEncoder.encode(predictions))
    }
}
