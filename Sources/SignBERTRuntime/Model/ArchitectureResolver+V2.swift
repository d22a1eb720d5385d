/// SignBERT v2's joints, coordinates and flags from the shapes, the config and the training defaults.
extension ArchitectureResolver {
    struct V2Resolution {
        var numJoints: Int
        var numCoords: Int
        var flags: SignBERTV2Flags
        var assumed: [String]
    }

    /// V comes from joint_pos_embed; use_cls_token from cls_token's presence; the input_proj width
    /// C' = C·(1 + use_velocity + use_bone) ties num_coords to the two feature flags. Stated values must
    /// agree with the shapes; what stays open is taken from the training defaults and named in `assumed`.
    static func resolveV2(tensors: [String: Tensor], section: TrainingModelSection, numJoints statedJoints: Int?,
                          numCoords statedCoords: Int?, configSource: String) throws(ModelLoadError) -> V2Resolution {
        let defaults = SignBERTV2Flags.trainingDefaults
        var assumed: [String] = []

        var numJoints = statedJoints
        if let joints = tensors["joint_pos_embed"]?.shape, joints.count == 3 {
            if let stated = statedJoints, stated != joints[1] {
                throw .contradiction(parameter: "num_joints", checkpoint: "\(joints[1])", other: "\(stated)", source: configSource)
            }
            numJoints = joints[1]
        }

        let hasCls = tensors["cls_token"] != nil
        if let stated = section.useClsToken, stated != hasCls {
            throw .flagContradiction(flag: "use_cls_token", stated: stated,
                                     shape: hasCls ? "cls_token \(tensors["cls_token"]?.shape ?? []) is present"
                                                   : "the checkpoint has no cls_token", source: configSource)
        }
        let normalize: Bool
        if let stated = section.normalizeSkeleton { normalize = stated } else if section.flagsFixedByTrainingCode {
            normalize = defaults.normalizeSkeleton  // the training code's factory: always on
        } else {
            normalize = defaults.normalizeSkeleton  // no tensor depends on it
            assumed.append("normalize_skeleton")
        }

        var numCoords = statedCoords
        var velocity = section.useVelocity, bone = section.useBone
        if let width = tensors["input_proj.weight"]?.shape.last {
            let widthText = "input_proj.weight has input width \(width)"
            if let c = statedCoords {
                // C is known: the width fixes 1 + velocity + bone.
                guard c > 0, width % c == 0, (1...3).contains(width / c) else {
                    throw .contradiction(parameter: "num_coords x (1 + use_velocity + use_bone)", checkpoint: "\(width)",
                                         other: "\(c) x (1...3)", source: configSource)
                }
                let extra = width / c - 1
                switch (velocity, bone) {
                case let (v?, b?):
                    if (v ? 1 : 0) + (b ? 1 : 0) != extra {
                        throw .flagContradiction(flag: "use_velocity/use_bone", stated: v && b,
                                                 shape: "\(widthText) = \(c) x \(extra + 1) (use_velocity=\(v), use_bone=\(b) "
                                                     + "need \(c) x \(1 + (v ? 1 : 0) + (b ? 1 : 0)))", source: configSource)
                    }
                case let (v?, nil):
                    let b = extra - (v ? 1 : 0)
                    guard b == 0 || b == 1 else {
                        throw .flagContradiction(flag: "use_velocity", stated: v, shape: "\(widthText) = \(c) x \(extra + 1)",
                                                 source: configSource)
                    }
                    bone = b == 1
                case let (nil, b?):
                    let v = extra - (b ? 1 : 0)
                    guard v == 0 || v == 1 else {
                        throw .flagContradiction(flag: "use_bone", stated: b, shape: "\(widthText) = \(c) x \(extra + 1)",
                                                 source: configSource)
                    }
                    velocity = v == 1
                case (nil, nil):
                    // 0 or 2 extra groups say it; 1 could be either: velocity, the first in the feature order.
                    velocity = extra >= 1
                    bone = extra == 2
                    if extra == 1 { assumed.append("use_velocity/use_bone") }
                }
            } else {
                // C unknown: the flags (stated, else the training defaults) fix it.
                let v = velocity ?? defaults.useVelocity, b = bone ?? defaults.useBone
                if velocity == nil || bone == nil { assumed.append("use_velocity/use_bone") }
                let groups = 1 + (v ? 1 : 0) + (b ? 1 : 0)
                guard width % groups == 0 else {
                    throw .flagContradiction(flag: "use_velocity/use_bone", stated: v && b,
                                             shape: "\(widthText), not a multiple of 1 + use_velocity + use_bone = \(groups)",
                                             source: configSource)
                }
                (velocity, bone) = (v, b)
                numCoords = width / groups
                assumed.append("num_coords")
            }
        }
        let flags = SignBERTV2Flags(useClsToken: hasCls, normalizeSkeleton: normalize,
                                    useVelocity: velocity ?? defaults.useVelocity, useBone: bone ?? defaults.useBone)
        return V2Resolution(numJoints: numJoints ?? SignBERTConfig.defaults.numJoints,
                            numCoords: numCoords ?? SignBERTConfig.defaults.numCoords, flags: flags, assumed: assumed)
    }
}
