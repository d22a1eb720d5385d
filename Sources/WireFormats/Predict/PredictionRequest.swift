public import Foundation
public import SignBERTRuntime

/// A validated `POST /predict` body: `{"inputs": [clip, ...], "top_k": 5, "return_logits": false,
/// "frames": "sample"}`, each clip `[n][V][C]` or `[n][F]` numbers: a feature array, as the training pipeline
/// stored it. With `"frames": "sample"` (the default) a clip of any length n is brought to the run's D frames
/// as its loader did (`ClipFrames.loaded`: centre crop or last frame repeated); `"exact"` requires n = D. A clip
/// may also be an object of raw MediaPipe Holistic landmarks (`HolisticRequestDecoder`), preprocessed as in
/// training (steps 1-4) before the loader's step. `clips` is [batch, D, V·C] float32, ready for the model.
public struct PredictionRequest: Sendable {
    public var clips: [Float]
    public var batch: Int
    /// Everything the request asked for besides its clips.
    public var options: PredictionOptions

    public var topK: Int { options.topK }
    public var returnLogits: Bool { options.returnLogits }

    /// A request built by a caller that decoded its clips itself (e.g. a `.pose` body via `decodePose`).
    public init(clips: [Float], batch: Int, options: PredictionOptions) {
        self.clips = clips
        self.batch = batch
        self.options = options
    }

    public init(clips: [Float], batch: Int, topK: Int, returnLogits: Bool) {
        self.init(clips: clips, batch: batch, options: PredictionOptions(topK: topK, returnLogits: returnLogits, exactFrames: false))
    }

    public static let defaultTopK = 5
    /// The longest clip accepted, in frames (before it is brought to D).
    public static let defaultMaxFrames = 10_000
}

public enum PredictionRequestDecoder {
    /// Parses and checks a body against the model: shapes, finiteness, batch limit, options.
    /// `maxClips` is the most clips a request may carry (the server's --max-clips-per-request).
    public static func decode(_ body: some ContiguousBytes, config: SignBERTConfig, preparation: ClipPreparation,
                              maxClips: Int,
                              maxFrames: Int = PredictionRequest.defaultMaxFrames) throws(RequestError) -> PredictionRequest {
        let document: JSONValue
        do { document = try JSONParser.parse(body) } catch { throw RequestError("malformed JSON: \(error.description)") }
        return try decode(document: document, config: config, preparation: preparation, maxClips: maxClips,
                          maxFrames: maxFrames)
    }

    /// Checks a parsed body as `decode(_:)` does; options in `query` (the request's query string) apply too, unless
    /// the body sets the same one.
    public static func decode(document: JSONValue, query: PredictionOptions.Query? = nil, config: SignBERTConfig,
                              preparation: ClipPreparation, maxClips: Int,
                              maxFrames: Int = PredictionRequest.defaultMaxFrames) throws(RequestError) -> PredictionRequest {
        if let query, case .object = document { try query.checkNotSet(in: document) }
        guard case .object = document else {
            throw RequestError("the body must be a JSON object with an \"inputs\" field, got \(document.kindName)")
        }
        guard let inputs = document["inputs"] else {
            throw RequestError("missing field \"inputs\": an array of clips, each [T][V][C] or [T][F] numbers")
        }
        let options = if let query { try PredictionOptions(json: document, query: query, numClasses: config.numClasses) }
                      else { try PredictionOptions(json: document, numClasses: config.numClasses) }
        return try decode(inputs: inputs, options: options, config: config, preparation: preparation, maxClips: maxClips,
                          maxFrames: maxFrames)
    }

    /// The clips of `inputs` (a `/predict` body's "inputs", an instances body's "instances"), checked as
    /// `decode(_:)` checks them, with options decoded on their own (`PredictionOptions`).
    public static func decode(inputs: JSONValue, options: PredictionOptions, config: SignBERTConfig,
                              preparation: ClipPreparation, maxClips: Int,
                              maxFrames: Int = PredictionRequest.defaultMaxFrames) throws(RequestError) -> PredictionRequest {
        let limits = FrameLimits(exact: options.exactFrames, maxFrames: maxFrames, preparation: preparation)
        let (clips, batch) = try decodeClips(inputs, config: config, maxClips: maxClips, limits: limits)
        return PredictionRequest(clips: clips, batch: batch, options: options)
    }

    struct FrameLimits {
        var exact: Bool
        var maxFrames: Int
        var preparation: ClipPreparation
    }

    static func decodeClips(_ inputs: JSONValue, config: SignBERTConfig, maxClips: Int,
                            limits: FrameLimits) throws(RequestError) -> (clips: [Float], batch: Int) {
        let features = config.inputFeatures
        switch inputs {
        case .tensor(let shape, let values):
            // All clips rectangular and alike: one shape check for the whole batch.
            let batch = shape[0]
            try checkBatch(batch, maxClips: maxClips)
            let frames = try checkClipShape(Array(shape.dropFirst()), index: 0, allClips: true, config: config, limits: limits)
            let floats = try toFloat(values, field: "inputs", perClip: frames * features)
            return (loaded(floats, clips: batch, frames: frames, features: features, to: limits.preparation.frames), batch)
        case .array(let elements):
            try checkBatch(elements.count, maxClips: maxClips)
            var clips: [Float] = []
            clips.reserveCapacity(elements.count * limits.preparation.frames * features)
            for (index, element) in elements.enumerated() {
                if case .object = element {
                    // The landmark form: raw MediaPipe Holistic landmarks, preprocessed here.
                    clips += try HolisticRequestDecoder.modelInput(element, path: "inputs[\(index)]", config: config,
                                                                   limits: limits)
                    continue
                }
                guard case .tensor(let shape, let values) = element else {
                    throw RequestError(describeBadClip(element, index: index, config: config))
                }
                let frames = try checkClipShape(shape, index: index, allClips: false, config: config, limits: limits)
                let floats = try toFloat(values, field: "inputs[\(index)]", perClip: nil)
                clips += loaded(floats, clips: 1, frames: frames, features: features, to: limits.preparation.frames)
            }
            return (clips, elements.count)
        case .object:
            throw RequestError("\"inputs\" must be an array of clips, got an object (put a landmark clip in [ ])")
        default:
            throw RequestError("\"inputs\" must be an array of clips, got \(inputs.kindName)")
        }
    }

    /// Each of `clips` feature arrays of `frames` frames brought to D frames by the loader's step 5.
    public static func loaded(_ floats: [Float], clips: Int, frames: Int, features: Int, to d: Int) -> [Float] {
        guard frames != d else { return floats }
        let perClip = frames * features
        var out: [Float] = []
        out.reserveCapacity(clips * d * features)
        for c in 0..<clips {
            out += ClipFrames.loaded(floats[c * perClip..<(c + 1) * perClip], frames: frames, features: features, to: d)
        }
        return out
    }

    static func checkBatch(_ count: Int, maxClips: Int) throws(RequestError) {
        guard count > 0 else { throw RequestError("\"inputs\" is empty: send at least one clip") }
        guard count <= maxClips else {
            throw RequestError("\"inputs\" has \(count) clips; at most \(maxClips) are accepted per request (max clips per request)")
        }
    }

    /// Checks a clip's shape and returns its frame count.
    static func checkClipShape(_ shape: [Int], index: Int, allClips: Bool, config: SignBERTConfig,
                               limits: FrameLimits) throws(RequestError) -> Int {
        let name = allClips ? "each clip" : "inputs[\(index)]"
        let expected = "[frames][\(config.numJoints) joints][\(config.numCoords) coords] or [frames][\(config.inputFeatures) features]"
        let form = shape.map { "[\($0)]" }.joined()
        guard shape.count == 3 || shape.count == 2 else {
            throw RequestError("\(name) has shape \(form); expected \(expected)")
        }
        let fits = shape.count == 3 ? (shape[1] == config.numJoints && shape[2] == config.numCoords)
                                    : shape[1] == config.inputFeatures
        guard fits else { throw RequestError("\(name) has shape \(form); expected \(expected)") }
        let frames = shape[0]
        guard frames <= limits.maxFrames else {
            throw RequestError("\(name) has \(frames) frames; at most \(limits.maxFrames) are accepted")
        }
        if limits.exact && frames != limits.preparation.frames {
            throw RequestError("\(name) has \(frames) frames; with \"frames\": \"exact\" it must have exactly "
                               + "\(limits.preparation.frames) (the clip length the model was trained on, data.num_frames)")
        }
        return frames
    }

    /// Explains why an element of "inputs" is not a clip (ragged, non-numeric, ...).
    static func describeBadClip(_ element: JSONValue, index: Int, config: SignBERTConfig) -> String {
        guard case .array(let frames) = element else {
            return "inputs[\(index)] must be a clip ([T][V][C] or [T][F] numbers, or an object of MediaPipe landmarks), got \(element.kindName)"
        }
        if frames.isEmpty { return "inputs[\(index)] is an empty clip" }
        for (t, frame) in frames.enumerated() {
            switch frame {
            case .tensor: continue
            case .array(let items):
                if let bad = items.firstIndex(where: { if case .tensor = $0 { return false } else { return true } }) {
                    return "inputs[\(index)][\(t)][\(bad)] must be a number or an array of numbers, got \(items[bad].kindName)"
                }
                return "inputs[\(index)][\(t)] has joints of different lengths"
            default:
                return "inputs[\(index)][\(t)] must be an array of numbers, got \(frame.kindName)"
            }
        }
        return "inputs[\(index)] is ragged: its frames differ in shape"
    }

    /// Doubles to float32; a value beyond float32's range would become infinite, so it is refused.
    static func toFloat(_ values: [Double], field: String, perClip: Int?) throws(RequestError) -> [Float] {
        var result = [Float](repeating: 0, count: values.count)
        let limit = Double(Float.greatestFiniteMagnitude)
        for i in values.indices {
            let value = values[i]
            guard abs(value) <= limit else {
                let place = perClip.map { "\(field)[\(i / $0)]" } ?? field
                throw RequestError("\(place) holds \(value), which is not a finite float32 number")
            }
            result[i] = Float(value)
        }
        return result
    }
}
