/// The two places where the training pipeline changes a clip's length (spec, "The inputs the model was
/// trained on"), which are different operations at different stages:
/// - step 2, preprocessing raw landmarks to P = 64 frames: floor(linspace(0, n-1, P)) when longer, zero frames
///   appended when shorter (`sampledIndices`, used by `HolisticPreprocessor`);
/// - step 5, the training/evaluation loader bringing a stored clip (a feature array) to the run's
///   D = data.num_frames: the centre D frames when longer, the last frame repeated when shorter (`loaded`).
public enum ClipFrames {
    /// Step 2: floor(linspace(0, n-1, T)) with numpy's arithmetic: index i is ⌊i · ((n-1)/(T-1))⌋ in double,
    /// the last exactly n-1 (an exact rational floor would differ where i·step rounds just below an integer).
    public static func sampledIndices(from n: Int, to t: Int) -> [Int] {
        guard t > 1 else { return [0] }
        let step = Double(n - 1) / Double(t - 1)
        var result = (0..<t).map { Int(Double($0) * step) }
        result[t - 1] = n - 1
        return result
    }

    /// Step 5, evaluation mode: the source frame of each of the D output frames of a clip of n ≥ 1 frames.
    /// n > D keeps frames [(n-D)//2, (n-D)//2 + D); n < D repeats frame n-1 until there are D; n = D is kept.
    public static func loaderIndices(from n: Int, to d: Int) -> [Int] {
        precondition(n >= 1 && d >= 1, "a clip and its target need at least one frame")
        if n >= d {
            let start = (n - d) / 2
            return Array(start..<start + d)
        }
        return Array(0..<n) + [Int](repeating: n - 1, count: d - n)
    }

    /// Step 5 on `clip`, n frames of `features` floats: the D frames the loader hands the model.
    public static func loaded(_ clip: ArraySlice<Float>, frames n: Int, features: Int, to d: Int) -> [Float] {
        precondition(clip.count == n * features, "clip has \(clip.count) floats, not \(n) x \(features)")
        if n == d { return Array(clip) }
        var out = [Float](repeating: 0, count: d * features)
        let start = clip.startIndex
        for (frame, source) in loaderIndices(from: n, to: d).enumerated() {
            let from = start + source * features
            out.replaceSubrange(frame * features..<(frame + 1) * features, with: clip[from..<from + features])
        }
        return out
    }
}
