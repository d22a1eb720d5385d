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
            let document = try Self.predictDocument(fromInstances: request.body)
            return Self.clipsAndOptions(try PredictionRequestDecoder.decode(
                document: document, config: loaded.config, preparation: loaded.preparation,
                maxClips: configuration.maxClipsPerRequest, maxFrames: configuration.maxFrames))
        }, render: { [loaded] logits, options in
            Self.renderPredictions(logits, loaded: loaded, options: options)
        })
    }

    /// The `/predict` document equivalent to an instances body: `inputs` = `instances`, the parameters on top.
    static func predictDocument(fromInstances body: [UInt8]) throws(RequestError) -> JSONValue {
        let document: JSONValue
        do { document = try JSONParser.parse(body) } catch { throw RequestError("malformed JSON: \(error.description)") }
        guard case .object = document else {
            throw RequestError("the body must be a JSON object with an \"instances\" field, got \(document.kindName)")
        }
        guard let instances = document["instances"] else {
            throw RequestError("missing field \"instances\": an array of clips, each [T][V][C] or [T][F] numbers or a landmarks object")
        }
        var members: [(key: String, value: JSONValue)] = [(key: "inputs", value: instances)]
        switch document["parameters"] {
        case nil, .null?: break
        case .object(let parameters)?:
            let known: Set = ["top_k", "return_logits", "frames"]
            if let unknown = parameters.first(where: { !known.contains($0.key) }) {
                throw RequestError("\"parameters.\(unknown.key)\" is not a parameter; the parameters are top_k, return_logits and frames")
            }
            members += parameters
        case let other?:
            throw RequestError("\"parameters\" must be an object, got \(other.kindName)")
        }
        return .object(members)
    }
}
