/// Brings a clip of n frames to the model's T frames the way the training pipeline did (spec, "The inputs
/// the model was trained on", step 2): n > T keeps frames floor(linspace(0, n-1, T)); n < T appends zero frames.
public enum FrameSampler {
    /// floor(linspace(0, n-1, T)) with numpy's arithmetic: index i is ⌊i · ((n-1)/(T-1))⌋ in double, the last
    /// exactly n-1 (an exact rational floor would differ where i·step rounds just below an integer).
    public static func indices(from n: Int, to t: Int) -> [Int] {
        guard t > 1 else { return [0] }
        let step = Double(n - 1) / Double(t - 1)
        var result = (0..<t).map { Int(Double($0) * step) }
        result[t - 1] = n - 1
        return result
    }

    /// `clip` holds n frames of `features` floats; the result holds t frames.
    public static func resample(_ clip: ArraySlice<Float>, frames n: Int, features: Int, to t: Int) -> [Float] {
        precondition(clip.count == n * features, "clip has \(clip.count) floats, not \(n) x \(features)")
        if n == t { return Array(clip) }
        var out = [Float](repeating: 0, count: t * features)
        let start = clip.startIndex
        if n < t {
            out.replaceSubrange(0..<n * features, with: clip)
            return out
        }
        for (frame, source) in indices(from: n, to: t).enumerated() {
            let from = start + source * features
            out.replaceSubrange(frame * features..<(frame + 1) * features, with: clip[from..<from + features])
        }
        return out
    }
}
