import HTTPServer
import JSONText
import SignBERTRuntime
import WireFormats

/// The contracts of the platforms that run this image unchanged: SageMaker (`GET /ping`, `POST /invocations`
/// on port 8080), Vertex AI (`AIP_HEALTH_ROUTE`, `AIP_PREDICT_ROUTE`, `{"instances": [...]}` in and
/// `{"predictions": [...]}` out) and the same instances contract at KServe V1's `/v1/models/{name}:predict`.
extension InferenceRoutes {
    /// SageMaker's ping: 200 with an empty body once ready.
    func ping(_ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        respond(isReady ? HTTPResponse(status: 200) : Self.unavailable("the model is not ready"))
    }

    func v1ModelStatus(_ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let body = "{\"name\":\(JSONWriter.quoted(configuration.modelName)),\"ready\":\(isReady)}"
        respond(isReady ? .json(bytes: Array(body.utf8)) : Self.unavailableJSON(body))
    }

    func vertexHealth(_ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        respond(isReady ? .json(bytes: Array("{\"status\":\"ready\"}".utf8)) : Self.unavailable("the model is not ready"))
    }

    /// `{"instances": [clip, ...], "parameters": {"top_k", "return_logits", "frames"}}`: each instance is a clip
    /// in any form `/predict` takes; the answer is `/predict`'s `{"predictions": [...]}`.
    /// 415 unless the body is JSON: also asked from the head, before the body is read.
    @Sendable static func jsonContentType(_ request: HTTPRequest) -> HTTPResponse? {
        guard let contentType = request.headers["Content-Type"], !isJSON(contentType) else { return nil }
        return .error(status: 415, message: "Content-Type must be application/json, got \(contentType)")
    }

    func instances(_ request: HTTPRequest, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        if let refusal = Self.jsonContentType(request) { return respond(refusal) }
        infer(request, respond, decode: { () throws(RequestError) in
            let (instances, options) = try Self.instancesAndOptions(request.body, numClasses: loaded.config.numClasses)
            return Self.clipsAndOptions(try PredictionRequestDecoder.decode(
                inputs: instances, options: options, config: loaded.config, preparation: loaded.preparation,
                maxClips: configuration.maxClipsPerRequest, maxFrames: configuration.maxFrames))
        }, render: { [loaded] logits, options in
            Self.renderPredictions(logits, loaded: loaded, options: options)
        })
    }

    /// An instances body's clips (`/predict`'s "inputs", in any form it takes) and its parameters, decoded as
    /// `/predict`'s options.
    static func instancesAndOptions(_ body: [UInt8], numClasses: Int) throws(RequestError) -> (JSONValue, PredictionOptions) {
        let document: JSONValue
        do { document = try JSONParser.parse(body) } catch { throw RequestError("malformed JSON: \(error.description)") }
        guard case .object = document else {
            throw RequestError("the body must be a JSON object with an \"instances\" field, got \(document.kindName)")
        }
        guard let instances = document["instances"] else {
            throw RequestError("missing field \"instances\": an array of clips, each [T][V][C] or [T][F] numbers or a landmarks object")
        }
        switch document["parameters"] {
        case nil, .null?:
            return (instances, try PredictionOptions(json: .object([]), numClasses: numClasses))
        case .object(let members)?:
            if let unknown = members.first(where: { !PredictionOptions.names.contains($0.key) }) {
                throw RequestError("\"parameters.\(unknown.key)\" is not a parameter; the parameters are top_k, return_logits and frames")
            }
            return (instances, try PredictionOptions(json: .object(members), numClasses: numClasses))
        case let other?:
            throw RequestError("\"parameters\" must be an object, got \(other.kindName)")
        }
    }
}
