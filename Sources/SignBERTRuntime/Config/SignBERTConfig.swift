/// The hyper-parameters of a SignBERT v1 model (spec, "v1"). Snake-case keys as the training side writes them.
public struct SignBERTConfig: Codable, Sendable, Equatable {
    public var numJoints: Int
    public var numCoords: Int
    public var numFrames: Int
    public var embedDim: Int
    public var depth: Int
    public var numHeads: Int
    public var mlpRatio: Double
    public var numClasses: Int

    enum CodingKeys: String, CodingKey {
        case numJoints = "num_joints", numCoords = "num_coords", numFrames = "num_frames"
        case embedDim = "embed_dim", depth, numHeads = "num_heads", mlpRatio = "mlp_ratio"
        case numClasses = "num_classes"
    }

    /// The training code's constructor defaults.
    public static let defaults = SignBERTConfig(numJoints: 27, numCoords: 3, numFrames: 64, embedDim: 256,
                                                depth: 6, numHeads: 8, mlpRatio: 4.0, numClasses: 100)

    public init(numJoints: Int, numCoords: Int, numFrames: Int, embedDim: Int, depth: Int,
                numHeads: Int, mlpRatio: Double, numClasses: Int) {
        self.numJoints = numJoints
        self.numCoords = numCoords
        self.numFrames = numFrames
        self.embedDim = embedDim
        self.depth = depth
        self.numHeads = numHeads
        self.mlpRatio = mlpRatio
        self.numClasses = numClasses
    }

    /// F = V·C, the width of one frame's feature vector.
    public var inputFeatures: Int { numJoints * numCoords }
    /// The MLP's hidden width: Python's `int(dim * mlp_ratio)` truncates.
    public var hiddenDim: Int { Int(Double(embedDim) * mlpRatio) }
    public var headDim: Int { embedDim / numHeads }
    /// The classifier head's inner width, D/2.
    public var headHiddenDim: Int { embedDim / 2 }

    public var parameterCount: Int {
        let d = embedDim, h = hiddenDim
        let block = 2 * d + (3 * d * d + 3 * d) + (d * d + d) + 2 * d + (h * d + h) + (d * h + d)
        return numFrames * d + (inputFeatures * d + d) + depth * block + 2 * d
            + 2 * d + (headHiddenDim * d + headHiddenDim) + (numClasses * headHiddenDim + numClasses)
    }

    /// Floating-point operations of one clip's forward pass (2 per multiply-add, GEMMs and attention).
    public var flopsPerClip: Double {
        let t = Double(numFrames), d = Double(embedDim), h = Double(hiddenDim)
        let linears = t * (Double(inputFeatures) * d + Double(depth) * (3 * d * d + d * d + 2 * d * h))
        let attention = Double(depth) * 2 * t * t * d
        let head = d * Double(headHiddenDim) + Double(headHiddenDim * numClasses)
        return 2 * (linears + attention + head)
    }

    /// Checks the relations the forward pass relies on.
    public func validate() throws(ModelLoadError) {
        let positive = [("num_joints", numJoints), ("num_coords", numCoords), ("num_frames", numFrames),
                        ("embed_dim", embedDim), ("depth", depth), ("num_heads", numHeads),
                        ("num_classes", numClasses)]
        for (name, value) in positive where value <= 0 {
            throw .invalidConfig("\(name) must be positive, got \(value)")
        }
        guard embedDim % numHeads == 0 else {
            throw .invalidConfig("embed_dim \(embedDim) is not divisible by num_heads \(numHeads)")
        }
        guard mlpRatio > 0, hiddenDim > 0 else { throw .invalidConfig("mlp_ratio must be positive, got \(mlpRatio)") }
    }
}
