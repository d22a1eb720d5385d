/// The hyper-parameters of a SignBERT model (spec, "v1" and "v2"). Snake-case keys as the training side writes
/// them; a v2 model adds `"variant": "v2"` and its four flags (absent keys mean v1, as older files were written).
public struct SignBERTConfig: Codable, Sendable, Equatable {
    public var numJoints: Int
    public var numCoords: Int
    public var numFrames: Int
    public var embedDim: Int
    public var depth: Int
    public var numHeads: Int
    public var mlpRatio: Double
    public var numClasses: Int
    public var variant: SignBERTVariant

    enum CodingKeys: String, CodingKey {
        case numJoints = "num_joints", numCoords = "num_coords", numFrames = "num_frames"
        case embedDim = "embed_dim", depth, numHeads = "num_heads", mlpRatio = "mlp_ratio"
        case numClasses = "num_classes", variant
        case useClsToken = "use_cls_token", normalizeSkeleton = "normalize_skeleton"
        case useVelocity = "use_velocity", useBone = "use_bone"
    }

    /// The training code's constructor defaults.
    public static let defaults = SignBERTConfig(numJoints: 27, numCoords: 3, numFrames: 64, embedDim: 256,
                                                depth: 6, numHeads: 8, mlpRatio: 4.0, numClasses: 100)

    public init(numJoints: Int, numCoords: Int, numFrames: Int, embedDim: Int, depth: Int,
                numHeads: Int, mlpRatio: Double, numClasses: Int, variant: SignBERTVariant = .v1) {
        self.numJoints = numJoints
        self.numCoords = numCoords
        self.numFrames = numFrames
        self.embedDim = embedDim
        self.depth = depth
        self.numHeads = numHeads
        self.mlpRatio = mlpRatio
        self.numClasses = numClasses
        self.variant = variant
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        numJoints = try c.decode(Int.self, forKey: .numJoints)
        numCoords = try c.decode(Int.self, forKey: .numCoords)
        numFrames = try c.decode(Int.self, forKey: .numFrames)
        embedDim = try c.decode(Int.self, forKey: .embedDim)
        depth = try c.decode(Int.self, forKey: .depth)
        numHeads = try c.decode(Int.self, forKey: .numHeads)
        mlpRatio = try c.decode(Double.self, forKey: .mlpRatio)
        numClasses = try c.decode(Int.self, forKey: .numClasses)
        switch try c.decodeIfPresent(String.self, forKey: .variant) ?? "v1" {
        case "v1":
            variant = .v1
        case "v2":
            // A v2 file names every flag: a missing one is an error, not a silent default.
            variant = .v2(SignBERTV2Flags(useClsToken: try c.decode(Bool.self, forKey: .useClsToken),
                                          normalizeSkeleton: try c.decode(Bool.self, forKey: .normalizeSkeleton),
                                          useVelocity: try c.decode(Bool.self, forKey: .useVelocity),
                                          useBone: try c.decode(Bool.self, forKey: .useBone)))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .variant, in: c, debugDescription: "variant must be \"v1\" or \"v2\", got \"\(other)\"")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(numJoints, forKey: .numJoints)
        try c.encode(numCoords, forKey: .numCoords)
        try c.encode(numFrames, forKey: .numFrames)
        try c.encode(embedDim, forKey: .embedDim)
        try c.encode(depth, forKey: .depth)
        try c.encode(numHeads, forKey: .numHeads)
        try c.encode(mlpRatio, forKey: .mlpRatio)
        try c.encode(numClasses, forKey: .numClasses)
        if let flags = variant.v2Flags {
            try c.encode("v2", forKey: .variant)
            try c.encode(flags.useClsToken, forKey: .useClsToken)
            try c.encode(flags.normalizeSkeleton, forKey: .normalizeSkeleton)
            try c.encode(flags.useVelocity, forKey: .useVelocity)
            try c.encode(flags.useBone, forKey: .useBone)
        }
    }

    /// v2 at the training config's defaults (all four flags on).
    public static let v2Defaults: SignBERTConfig = {
        var config = defaults
        config.variant = .v2(.trainingDefaults)
        return config
    }()

    /// F = V·C, the width of one frame of input (both variants take [T, V, C] clips).
    public var inputFeatures: Int { numJoints * numCoords }
    /// input_proj's input width: V·C for v1 (a frame), C·(1 + velocity + bone) for v2 (a joint).
    public var tokenFeatures: Int {
        variant.v2Flags.map { numCoords * $0.featureGroups } ?? inputFeatures
    }
    /// Tokens the blocks see for a clip of `frames` frames: T (v1), T·V plus the cls token (v2).
    public func tokens(frames: Int) -> Int {
        guard let flags = variant.v2Flags else { return frames }
        return frames * numJoints + (flags.useClsToken ? 1 : 0)
    }
    /// Tokens of a clip of num_frames frames: the most a workspace must hold per clip.
    public var maxTokens: Int { tokens(frames: numFrames) }
    /// The MLP's hidden width: Python's `int(dim * mlp_ratio)` truncates.
    public var hiddenDim: Int { Int(Double(embedDim) * mlpRatio) }
    public var headDim: Int { embedDim / numHeads }
    /// The classifier head's inner width, D/2.
    public var headHiddenDim: Int { embedDim / 2 }

    public var parameterCount: Int {
        let d = embedDim, h = hiddenDim
        let block = 2 * d + (3 * d * d + 3 * d) + (d * d + d) + 2 * d + (h * d + h) + (d * h + d)
        var embeddings = numFrames * d
        if let flags = variant.v2Flags {
            embeddings += numJoints * d + 3 * d + (flags.useClsToken ? 2 * d : 0)  // joint, hand type, cls + its pos
        }
        return embeddings + (tokenFeatures * d + d) + depth * block + 2 * d
            + 2 * d + (headHiddenDim * d + headHiddenDim) + (numClasses * headHiddenDim + numClasses)
    }

    /// Floating-point operations of one clip's forward pass (2 per multiply-add, GEMMs and attention),
    /// at num_frames frames.
    public var flopsPerClip: Double {
        let t = Double(maxTokens), d = Double(embedDim), h = Double(hiddenDim)
        let linears = t * (Double(tokenFeatures) * d + Double(depth) * (3 * d * d + d * d + 2 * d * h))
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
