/// The training pipeline's preprocessing of a raw Holistic clip (spec, "The inputs the model was trained on",
/// steps 1-4; tools/signbert_preprocess.py is the numpy reference): interpolation of missing points, sampling to
/// T frames, the 27-joint mapping, neck-centred shoulder-width normalisation. Arithmetic in float64 as numpy.
public enum HolisticPreprocessor {
    public static let numJoints = 27
    public static let numCoords = 3

    /// The model input for `clip`: `frames` x 27 x 3 float32, row-major. Throws when the result is not finite
    /// (coordinates so large, or shoulders so close, that float32 overflows).
    public static func modelInput(for clip: HolisticClip, frames: Int) throws(RequestError) -> [Float] {
        fatalError("not yet")
    }
}
