/// A state dict of random weights for an architecture, for `bench` without a checkpoint. Seeded, so two
/// runs measure the same numbers; scaled like a trained network (weights ~ 1/sqrt(fan_in), LayerNorm ~1)
/// so activations stay in a realistic range.
extension StateDict {
    public static func random(config: SignBERTConfig, seed: UInt64 = 0x5EED) -> StateDict {
        var generator = SplitMix64(seed: seed)
        var tensors: [String: Tensor] = [:]
        let shapes = SignBERTWeights.expectedShapes(for: config)
        for (key, shape) in shapes {
            let count = shape.reduce(1, *)
            var values = [Float](repeating: 0, count: count)
            let isNormWeight = key.hasSuffix("norm1.weight") || key.hasSuffix("norm2.weight")
                || key == "norm.weight" || key == "head.0.weight"
            let scale: Float = shape.count >= 2 ? 1 / Float(shape[shape.count - 1]).squareRoot() : 0.1
            for i in 0..<count {
                let uniform = Float(generator.next() >> 40) / Float(1 << 24) * 2 - 1  // [-1, 1)
                values[i] = isNormWeight ? 1 + 0.1 * uniform : scale * uniform * 1.7
            }
            tensors[key] = Tensor(shape: shape, values: values)
        }
        return StateDict(tensors: tensors, order: shapes.map(\.key), format: "random")
    }
}

/// SplitMix64: a tiny, well-mixed, seedable generator; enough for benchmark weights and test inputs.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
