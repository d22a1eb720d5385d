/// A Linear layer's weight in the layout of the GEMM chosen at load (`LinearGEMM`).
struct LinearWeights: Sendable {
    let weight: WeightBuffer  // packed: PyTorch's [outDim, inDim] in panels of 16 output columns (packed GEMM);
                              // else [inDim, outDim] row-major, PyTorch's transposed (OpenBLAS)
    let packed: Bool
    let bias: WeightBuffer    // [outDim]
    let inDim: Int
    let outDim: Int
}

struct NormWeights: Sendable {
    let weight: WeightBuffer  // [D]
    let bias: WeightBuffer    // [D]
}

struct BlockWeights: Sendable {
    let norm1: NormWeights      // blocks.{i}.norm1
    let qkv: LinearWeights      // blocks.{i}.attn.qkv   [D, 3D]
    let proj: LinearWeights     // blocks.{i}.attn.proj  [D, D]
    let norm2: NormWeights      // blocks.{i}.norm2
    let fc1: LinearWeights      // blocks.{i}.mlp.fc1    [D, D·r]
    let fc2: LinearWeights      // blocks.{i}.mlp.fc2    [D·r, D]
}

/// SignBERT v2's embeddings (spec, "v2"), in place of v1's pos_embed.
struct V2Embeddings: Sendable {
    let temporal: WeightBuffer     // temporal_pos_embed [1, T, D]
    let joint: WeightBuffer        // joint_pos_embed [1, V, D]
    let handType: WeightBuffer     // hand_type_embed.weight [3, D]
    let cls: WeightBuffer?         // cls_token + cls_pos_embed, summed at load [D] (use_cls_token)
}

/// Every tensor of SignBERT v1 or v2, mirroring the state_dict (spec, "state_dict keys and shapes").
public struct SignBERTWeights: Sendable {
    let posEmbed: WeightBuffer     // pos_embed [1, T, D] (v1; empty for v2)
    let v2: V2Embeddings?          // v2 only
    let inputProj: LinearWeights   // input_proj [V·C or C', D]
    let blocks: [BlockWeights]     // blocks.{i}
    let norm: NormWeights          // norm
    let headNorm: NormWeights      // head.0 (LayerNorm)
    let headFC1: LinearWeights     // head.2 [D, D/2]
    let headFC2: LinearWeights     // head.5 [D/2, K]
    /// Keys of the file that the model does not use (listed, not fatal, as load_state_dict(strict=False) would).
    public let unexpectedKeys: [String]

    /// Bytes of every weight buffer, packed panels' padding included (what the model holds in memory).
    public var bytes: Int {
        func linear(_ l: LinearWeights) -> Int { l.weight.count + l.bias.count }
        func norm(_ n: NormWeights) -> Int { n.weight.count + n.bias.count }
        let embeddings = posEmbed.count + (v2.map { $0.temporal.count + $0.joint.count + $0.handType.count + ($0.cls?.count ?? 0) } ?? 0)
        let blockFloats = blocks.reduce(0) { sum, b in
            sum + norm(b.norm1) + linear(b.qkv) + linear(b.proj) + norm(b.norm2) + linear(b.fc1) + linear(b.fc2)
        }
        let floats = embeddings + linear(inputProj) + blockFloats + norm(self.norm) + norm(headNorm) + linear(headFC1) + linear(headFC2)
        return floats * MemoryLayout<Float>.size
    }

    /// Every key the architecture needs, with its PyTorch shape, in the order the training code saves them.
    public static func expectedShapes(for config: SignBERTConfig) -> [(key: String, shape: [Int])] {
        let d = config.embedDim, h = config.hiddenDim
        var shapes: [(String, [Int])]
        if let flags = config.variant.v2Flags {
            shapes = flags.useClsToken ? [("cls_token", [1, 1, d]), ("cls_pos_embed", [1, 1, d])] : []
            shapes += [
                ("temporal_pos_embed", [1, config.numFrames, d]), ("joint_pos_embed", [1, config.numJoints, d]),
                ("hand_type_embed.weight", [3, d]),
            ]
        } else {
            shapes = [("pos_embed", [1, config.numFrames, d])]
        }
        shapes += [("input_proj.weight", [d, config.tokenFeatures]), ("input_proj.bias", [d])]
        for i in 0..<config.depth {
            let p = "blocks.\(i)."
            shapes += [
                (p + "norm1.weight", [d]), (p + "norm1.bias", [d]),
                (p + "attn.qkv.weight", [3 * d, d]), (p + "attn.qkv.bias", [3 * d]),
                (p + "attn.proj.weight", [d, d]), (p + "attn.proj.bias", [d]),
                (p + "norm2.weight", [d]), (p + "norm2.bias", [d]),
                (p + "mlp.fc1.weight", [h, d]), (p + "mlp.fc1.bias", [h]),
                (p + "mlp.fc2.weight", [d, h]), (p + "mlp.fc2.bias", [d]),
            ]
        }
        shapes += [
            ("norm.weight", [d]), ("norm.bias", [d]),
            ("head.0.weight", [d]), ("head.0.bias", [d]),
            ("head.2.weight", [config.headHiddenDim, d]), ("head.2.bias", [config.headHiddenDim]),
            ("head.5.weight", [config.numClasses, config.headHiddenDim]), ("head.5.bias", [config.numClasses]),
        ]
        return shapes.map { (key: $0.0, shape: $0.1) }
    }

    /// Checks every key and shape first and reports all problems at once, then assembles the weights.
    public init(stateDict: StateDict, config: SignBERTConfig) throws(ModelLoadError) {
        let expected = Self.expectedShapes(for: config)
        var missing: [String] = []
        var mismatched: [String] = []
        for (key, shape) in expected {
            guard let tensor = stateDict.tensors[key] else { missing.append(key); continue }
            if tensor.shape != shape {
                mismatched.append("\(key) is \(tensor.shape) in the file, the model expects \(shape)")
            }
        }
        guard missing.isEmpty, mismatched.isEmpty else {
            throw .stateDictMismatch(missing: missing, mismatched: mismatched,
                                     architecture: config.variant.v2Flags == nil ? "SignBERT v1" : "SignBERT v2 (\(config.variant.v2Flags?.summary ?? ""))")
        }
        let expectedKeys = Set(expected.map(\.key))
        let order = stateDict.order.isEmpty ? stateDict.tensors.keys.sorted() : stateDict.order
        unexpectedKeys = order.filter { !expectedKeys.contains($0) }

        // Every key was checked above, so these look-ups cannot fail.
        func values(_ key: String) -> [Float] { stateDict.tensors[key]?.values ?? [] }
        let packs = LinearGEMM.packs(tokens: config.maxTokens)
        func linear(_ prefix: String) -> LinearWeights {
            let shape = stateDict.tensors[prefix + ".weight"]?.shape ?? [0, 0]
            let weight = values(prefix + ".weight")
            return LinearWeights(weight: packs ? WeightBuffer(packingLinear: weight, inner: shape[1], outer: shape[0])
                                               : WeightBuffer(transposed(weight, rows: shape[0], cols: shape[1])),
                                 packed: packs, bias: WeightBuffer(values(prefix + ".bias")), inDim: shape[1], outDim: shape[0])
        }
        func layerNorm(_ prefix: String) -> NormWeights {
            NormWeights(weight: WeightBuffer(values(prefix + ".weight")), bias: WeightBuffer(values(prefix + ".bias")))
        }
        if let flags = config.variant.v2Flags {
            posEmbed = WeightBuffer([])
            // The cls token always enters with its position added: one row at load.
            let cls = flags.useClsToken ? WeightBuffer(zip(values("cls_token"), values("cls_pos_embed")).map { $0 + $1 }) : nil
            v2 = V2Embeddings(temporal: WeightBuffer(values("temporal_pos_embed")), joint: WeightBuffer(values("joint_pos_embed")),
                              handType: WeightBuffer(values("hand_type_embed.weight")), cls: cls)
        } else {
            posEmbed = WeightBuffer(values("pos_embed"))
            v2 = nil
        }
        inputProj = linear("input_proj")
        blocks = (0..<config.depth).map { i in
            let p = "blocks.\(i)."
            return BlockWeights(norm1: layerNorm(p + "norm1"), qkv: linear(p + "attn.qkv"), proj: linear(p + "attn.proj"),
                                norm2: layerNorm(p + "norm2"), fc1: linear(p + "mlp.fc1"), fc2: linear(p + "mlp.fc2"))
        }
        norm = layerNorm("norm")
        headNorm = layerNorm("head.0")
        headFC1 = linear("head.2")
        headFC2 = linear("head.5")
    }
}

/// [rows, cols] → [cols, rows], row-major.
func transposed(_ m: [Float], rows: Int, cols: Int) -> [Float] {
    var out = [Float](repeating: 0, count: m.count)
    m.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for r in 0..<rows {
                for c in 0..<cols { dst[c * rows + r] = src[r * cols + c] }
            }
        }
    }
    return out
}
