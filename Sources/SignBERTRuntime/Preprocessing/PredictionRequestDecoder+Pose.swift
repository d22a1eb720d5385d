public import Foundation

extension PredictionRequestDecoder {
    /// A `.pose` body (`Content-Type: application/x-pose`, `signbert predict --pose`) as one clip of model input,
    /// [T · 27 · 3] float32: read, checked against the model (mediapipe_27 layout; with `exact`, n must be T) and
    /// preprocessed. A malformed file is a `RequestError` whose message starts with "the .pose body".
    public static func decodePose(_ body: some ContiguousBytes, config: SignBERTConfig, exact: Bool = false,
                                  maxFrames: Int = PredictionRequest.defaultMaxFrames) throws(RequestError) -> [Float] {
        throw RequestError("not yet")
    }
}
