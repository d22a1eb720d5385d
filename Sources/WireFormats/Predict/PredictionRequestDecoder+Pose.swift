public import Foundation
public import SignBERTRuntime

extension PredictionRequestDecoder {
    /// Whether a body meant as a `.pose` file is really JSON (its first non-space byte opens an object or an
    /// array): the usual mistake, which would otherwise read as a malformed .pose header. Nil for an empty body.
    public static func poseBodyIsJSON(_ body: some Collection<UInt8>) -> Bool? {
        guard let first = body.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return nil }
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    }

    /// A `.pose` body (`Content-Type: application/x-pose`, `signbert predict --pose`) as one clip of model input,
    /// [D · 27 · 3] float32: read (`PoseFileReader`), checked against the model (mediapipe_27 layout; with
    /// `exact`, n must be D; at most `maxFrames` frames) and preprocessed (`HolisticPreprocessor`, steps 1-5).
    /// Every failure is a `RequestError` whose message starts with "the .pose body" or names the file's problem.
    public static func decodePose(_ body: some ContiguousBytes, config: SignBERTConfig, preparation: ClipPreparation,
                                  exact: Bool = false,
                                  maxFrames: Int = PredictionRequest.defaultMaxFrames) throws(RequestError) -> [Float] {
        try HolisticRequestDecoder.checkLayout(config, what: "the .pose body holds MediaPipe landmarks")
        let clip: HolisticClip
        do { clip = try PoseFileReader.read(body, maxFrames: maxFrames) } catch {
            throw RequestError("the .pose body: \(error.message)")
        }
        if exact && clip.frameCount != preparation.frames {
            throw RequestError("the .pose body has \(clip.frameCount) frames; with \"frames\": \"exact\" it must have "
                               + "exactly \(preparation.frames) (the clip length the model was trained on, data.num_frames)")
        }
        do { return try HolisticPreprocessor.modelInput(for: clip, preparation: preparation) } catch {
            throw RequestError("the .pose body: \(error.message)")
        }
    }
}
