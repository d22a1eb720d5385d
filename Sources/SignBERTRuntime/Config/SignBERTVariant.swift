/// The four switches of SignBERT v2 (spec, "v2"; the training config's `model:` section).
public struct SignBERTV2Flags: Sendable, Equatable, Hashable {
    public var useClsToken: Bool
    public var normalizeSkeleton: Bool
    public var useVelocity: Bool
    public var useBone: Bool

    /// The training config's values (all on).
    public static let trainingDefaults = SignBERTV2Flags(useClsToken: true, normalizeSkeleton: true, useVelocity: true, useBone: true)

    public init(useClsToken: Bool, normalizeSkeleton: Bool, useVelocity: Bool, useBone: Bool) {
        self.useClsToken = useClsToken
        self.normalizeSkeleton = normalizeSkeleton
        self.useVelocity = useVelocity
        self.useBone = useBone
    }

    /// How many C-wide feature groups each joint token carries: [x, vel, bone].
    public var featureGroups: Int { 1 + (useVelocity ? 1 : 0) + (useBone ? 1 : 0) }

    /// "use_cls_token=true normalize_skeleton=true ..." for logs and `inspect`.
    public var summary: String {
        "use_cls_token=\(useClsToken) normalize_skeleton=\(normalizeSkeleton) use_velocity=\(useVelocity) use_bone=\(useBone)"
    }
}

/// Which SignBERT: v1 (one token per frame) or v2 (one token per frame and joint, with its flags).
public enum SignBERTVariant: Sendable, Equatable, Hashable {
    case v1
    case v2(SignBERTV2Flags)

    /// "signbert-v1" / "signbert-v2", as config.json's `architecture` and `GET /` name them.
    public var name: String {
        switch self {
        case .v1: return "signbert-v1"
        case .v2: return "signbert-v2"
        }
    }

    public var v2Flags: SignBERTV2Flags? {
        if case .v2(let flags) = self { return flags }
        return nil
    }
}
