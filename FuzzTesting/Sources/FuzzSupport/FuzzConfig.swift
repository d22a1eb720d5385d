public import SignBERTRuntime

/// The model every request-decoding target checks against: the mediapipe_27 layout (so the landmark form
/// and `.pose` bodies are accepted), few frames and classes so that valid inputs stay small.
public enum FuzzConfig {
    public static let model = SignBERTConfig(numJoints: 27, numCoords: 3, numFrames: 8, embedDim: 16, depth: 1,
                                             numHeads: 2, mlpRatio: 2, numClasses: 10)
    public static let maxBatchSize = 4
    public static let maxFrames = 256
    /// How the model's clips are prepared: D = num_frames and the mid-hip centre (a v1 checkpoint's own), so
    /// the landmark and .pose targets run the centring that reads the hips.
    public static let preparation = ClipPreparation(frames: 8, centre: .midHip)

    /// A decoded request's clips: `batch` clips of the model's frames and features, all finite.
    public static func checkClips(_ clips: [Float], batch: Int, what: String) {
        fuzzCheck((1...maxBatchSize).contains(batch), "\(what): batch \(batch) outside 1...\(maxBatchSize)")
        fuzzCheck(clips.count == batch * model.numFrames * model.inputFeatures,
                  "\(what): \(clips.count) values for batch \(batch)")
        fuzzCheck(clips.allSatisfy(\.isFinite), "\(what): a non-finite value reached the model input")
    }

    /// Every tensor of a state dict holds exactly the values its shape says, and `order` names each once.
    public static func checkStateDict(_ stateDict: StateDict, what: String) {
        fuzzCheck(Set(stateDict.order).count == stateDict.order.count, "\(what): duplicate keys in order")
        fuzzCheck(Set(stateDict.order) == Set(stateDict.tensors.keys), "\(what): order and tensors disagree")
        for (name, tensor) in stateDict.tensors {
            fuzzCheck(tensor.shape.allSatisfy { $0 >= 0 }, "\(what): tensor \(name) has shape \(tensor.shape)")
            fuzzCheck(tensor.values.count == tensor.count,
                      "\(what): tensor \(name) \(tensor.shape) holds \(tensor.values.count) values")
        }
    }
}
