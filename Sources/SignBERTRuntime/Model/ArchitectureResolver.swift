/// Hyper-parameters the user gives on the command line; each overrides config.yaml.
public struct ArchitectureOverrides: Sendable, Equatable {
    public var numHeads: Int?
    public var numJoints: Int?
    public var numCoords: Int?
    /// v2 flags for a model built outside the training code's factory (a yaml's are ignored, as there).
    public var normalizeSkeleton: Bool?
    public var useVelocity: Bool?
    public var useBone: Bool?

    public init(numHeads: Int? = nil, numJoints: Int? = nil, numCoords: Int? = nil, normalizeSkeleton: Bool? = nil,
                useVelocity: Bool? = nil, useBone: Bool? = nil) {
        self.numHeads = numHeads
        self.numJoints = numJoints
        self.numCoords = numCoords
        self.normalizeSkeleton = normalizeSkeleton
        self.useVelocity = useVelocity
        self.useBone = useBone
    }
}

/// Works out the architecture: every hyper-parameter the tensor shapes determine comes from them;
/// num_heads (and the V×C split of the input width) from the flags, then config.yaml, then the defaults.
/// A stated value that contradicts a shape is an error naming both.
public enum ArchitectureResolver {
    public static func resolve(stateDict: StateDict, config: TrainingModelSection?, configSource: String = "config.yaml",
                               overrides: ArchitectureOverrides = .init()) throws(ModelLoadError) -> SignBERTConfig {
        try resolveNotingAssumptions(stateDict: stateDict, config: config, configSource: configSource, overrides: overrides).config
    }

    /// As `resolve`, also naming what neither the tensors nor a config nor a flag said, so defaults were
    /// assumed ("num_heads"): a wrong guess there gives wrong logits without any error, so callers show it.
    public static func resolveNotingAssumptions(stateDict: StateDict, config: TrainingModelSection?,
                                                configSource: String = "config.yaml", overrides: ArchitectureOverrides = .init())
        throws(ModelLoadError) -> (config: SignBERTConfig, assumed: [String]) {
        let tensors = stateDict.tensors
        let defaults = SignBERTConfig.defaults
        var section = config ?? TrainingModelSection()
        section.normalizeSkeleton = overrides.normalizeSkeleton ?? section.normalizeSkeleton
        section.useVelocity = overrides.useVelocity ?? section.useVelocity
        section.useBone = overrides.useBone ?? section.useBone

        func fromShape(_ key: String, _ axis: Int) -> Int? {
            guard let shape = tensors[key]?.shape, axis < shape.count else { return nil }
            return shape[axis]
        }
        // A value stated in config.yaml must agree with what the tensors say.
        func agree(_ name: String, shape: Int?, stated: Int?) throws(ModelLoadError) -> Int? {
            if let shape, let stated, shape != stated {
                throw .contradiction(parameter: name, checkpoint: "\(shape)", other: "\(stated)", source: configSource)
            }
            return shape ?? stated
        }

        // v2 from its own tensors' names (spec, "v2"); its temporal table plays pos_embed's part for T and D.
        let isV2 = v2Keys.contains { tensors[$0] != nil }
        let positions = isV2 ? "temporal_pos_embed" : "pos_embed"
        let embedDim = try agree("embed_dim", shape: fromShape(positions, 2) ?? fromShape("input_proj.weight", 0),
                                 stated: section.embedDim) ?? defaults.embedDim
        let numFrames = try agree("num_frames", shape: fromShape(positions, 1), stated: section.numFrames)
            ?? defaults.numFrames
        let blockIndices = tensors.keys.compactMap(blockIndex)
        let depthFromShapes = blockIndices.max().map { $0 + 1 }
        let depth = try agree("depth", shape: depthFromShapes, stated: section.depth) ?? defaults.depth
        let numClasses = try agree("num_class", shape: fromShape("head.5.weight", 0), stated: section.numClasses)
            ?? defaults.numClasses

        var mlpRatio = section.mlpRatio ?? defaults.mlpRatio
        if let hidden = fromShape("blocks.0.mlp.fc1.weight", 0), embedDim > 0 {
            let ratio = Double(hidden) / Double(embedDim)
            if let stated = section.mlpRatio, Int(Double(embedDim) * stated) != hidden {
                throw .contradiction(parameter: "mlp_ratio", checkpoint: "\(ratio)", other: "\(stated)", source: configSource)
            }
            mlpRatio = section.mlpRatio ?? ratio
        }

        let numHeads = overrides.numHeads ?? section.numHeads ?? defaults.numHeads
        var assumed: [String] = []
        if overrides.numHeads == nil && section.numHeads == nil { assumed.append("num_heads") }
        var numJoints = overrides.numJoints ?? section.numJoints
        var numCoords = overrides.numCoords ?? section.numCoords
        var variant = SignBERTVariant.v1
        if isV2 {
            let v2 = try resolveV2(tensors: tensors, section: section, numJoints: numJoints, numCoords: numCoords,
                                   configSource: configSource)
            (numJoints, numCoords, variant) = (v2.numJoints, v2.numCoords, .v2(v2.flags))
            assumed += v2.assumed
        } else if section.useClsToken == true {
            // A v2 training config beside a v1 checkpoint: the cls token it promises is not there.
            throw .flagContradiction(flag: "use_cls_token", stated: true,
                                     shape: "the checkpoint has no cls_token (its pos_embed makes it SignBERT v1)",
                                     source: configSource)
        } else if let features = fromShape("input_proj.weight", 1) {
            switch (numJoints, numCoords) {
            case let (v?, c?) where v * c != features:
                throw .contradiction(parameter: "num_joints x num_coords", checkpoint: "\(features)",
                                     other: "\(v) x \(c) = \(v * c)", source: configSource)
            case let (v?, nil):
                guard features % v == 0 else {
                    throw .contradiction(parameter: "num_joints x num_coords", checkpoint: "\(features)",
                                         other: "\(v) x ?", source: configSource)
                }
                numCoords = features / v
            case let (nil, c?):
                guard features % c == 0 else {
                    throw .contradiction(parameter: "num_joints x num_coords", checkpoint: "\(features)",
                                         other: "? x \(c)", source: configSource)
                }
                numJoints = features / c
            case (nil, nil):
                assumed.append("num_joints x num_coords")
                // The mediapipe_27 layout when it fits; otherwise treat each feature as one joint coordinate.
                if features % defaults.numJoints == 0 {
                    numJoints = defaults.numJoints
                    numCoords = features / defaults.numJoints
                } else {
                    numJoints = features
                    numCoords = 1
                }
            default:
                break
            }
        }
        let resolved = SignBERTConfig(numJoints: numJoints ?? defaults.numJoints, numCoords: numCoords ?? defaults.numCoords,
                                      numFrames: numFrames, embedDim: embedDim, depth: depth, numHeads: numHeads,
                                      mlpRatio: mlpRatio, numClasses: numClasses, variant: variant)
        try resolved.validate()
        return (resolved, assumed)
    }

    /// Keys only SignBERT v2 has; any one of them makes a checkpoint v2.
    static let v2Keys = ["cls_token", "temporal_pos_embed", "joint_pos_embed", "hand_type_embed.weight"]

    /// `blocks.{i}.…` → i.
    static func blockIndex(_ key: String) -> Int? {
        guard key.hasPrefix("blocks.") else { return nil }
        let rest = key.dropFirst("blocks.".count)
        guard let dot = rest.firstIndex(of: ".") else { return nil }
        return Int(rest[rest.startIndex..<dot])
    }
}
