public import Foundation

/// The landmark form of a clip in a request's "inputs": an object of raw MediaPipe Holistic landmarks, which
/// the server preprocesses as the training pipeline did (`HolisticPreprocessor`).
///
///     {"image_width": 1280, "image_height": 720,
///      "frames": [{"pose": [33 landmarks], "left_hand": [21] | null, "right_hand": [21] | null}, ...]}
///
/// A landmark is `[x, y, z, visibility]` or `{"x":, "y":, "z":, "visibility":}` in MediaPipe's normalised
/// coordinates; pose landmarks need the visibility, hand landmarks take 3 or 4 values.
public enum HolisticRequestDecoder {
    /// Decodes one landmark-form clip to a `HolisticClip`; `path` names it in messages (e.g. "inputs[0]").
    public static func decodeClip(_ value: JSONValue, path: String,
                                  maxFrames: Int = PredictionRequest.defaultMaxFrames) throws(RequestError) -> HolisticClip {
        throw RequestError("not yet")
    }
}
