/// The centre that step 4 of the preprocessing subtracts (spec, "The inputs the model was trained on"): it
/// differs between the two training commits, and a model must get the one it was trained with.
public enum SkeletonCentre: String, Sendable, CaseIterable, Codable {
    /// `99e759a` (SignBERT v2 era): joint 0, the neck, of the same frame.
    case neck
    /// `cf4dfbb` (SignBERT v1 era): the mid-hip of the same frame, from raw pose landmarks 23 and 24.
    case midHip = "mid-hip"

    /// The commit whose preprocessing this is.
    public var commit: String { self == .neck ? "99e759a" : "cf4dfbb" }

    /// What a checkpoint of `variant` was trained with: v1 checkpoints come from cf4dfbb, v2 from 99e759a.
    public static func trainedWith(_ variant: SignBERTVariant) -> SkeletonCentre {
        variant == .v1 ? .midHip : .neck
    }
}

/// How the server turns a client's clip into what the model was trained on, fixed per model at load time:
/// - raw landmarks (JSON or `.pose`): steps 1-4 to P = 64 frames with `centre`, then step 5 to `frames`;
/// - a feature array (what the training pipeline stored): step 5 only, to `frames`.
/// The model then runs on `frames` = D frames (the run's `data.num_frames`).
public struct ClipPreparation: Sendable, Equatable {
    /// P: the preprocessing script's own frame count (its `--num_frames`, independent of the training config).
    public static let preprocessedFrames = 64

    /// D: the clip length the model was trained and evaluated on.
    public var frames: Int
    public var centre: SkeletonCentre
    /// Where `frames` and `centre` came from, for `inspect`, `GET /` and the start-up log.
    public var framesSource: String
    public var centreSource: String

    public init(frames: Int, centre: SkeletonCentre, framesSource: String = "given", centreSource: String = "given") {
        self.frames = frames
        self.centre = centre
        self.framesSource = framesSource
        self.centreSource = centreSource
    }

    /// What a model of `config` gets when nothing says otherwise: D = its num_frames (64 for every model a
    /// training run builds), the centre of the commit its variant comes from.
    public static func defaults(for config: SignBERTConfig) -> ClipPreparation {
        ClipPreparation(frames: config.numFrames, centre: .trainedWith(config.variant),
                        framesSource: "the model's num_frames (no data.num_frames given)",
                        centreSource: defaultCentreSource(config.variant))
    }

    static func defaultCentreSource(_ variant: SignBERTVariant) -> String {
        variant == .v1 ? "a SignBERT v1 checkpoint: trained with commit cf4dfbb's preprocessing"
                       : "a SignBERT v2 checkpoint: trained with commit 99e759a's preprocessing"
    }

    /// "64 frames (…); neck-centred (commit 99e759a; …)" for logs and `inspect`.
    public var summary: String {
        "clips of \(frames) frames (\(framesSource)); \(centre.rawValue)-centred landmarks (commit \(centre.commit): \(centreSource))"
    }

    /// Checks D against the model: v1 adds its pos_embed whole (D = num_frames), v2 slices it (D ≤ num_frames).
    public func validate(against config: SignBERTConfig) throws(ModelLoadError) {
        guard frames >= 1 else { throw .invalidConfig("data.num_frames must be positive, got \(frames)") }
        if config.variant == .v1 && frames != config.numFrames {
            throw .invalidConfig("data.num_frames is \(frames) (\(framesSource)) but this SignBERT v1 model's pos_embed "
                                 + "has num_frames \(config.numFrames): v1 runs only on clips of exactly num_frames frames")
        }
        if frames > config.numFrames {
            throw .invalidConfig("data.num_frames is \(frames) (\(framesSource)) but the model's temporal_pos_embed has "
                                 + "only num_frames \(config.numFrames) rows: SignBERT v2 runs on at most num_frames frames")
        }
    }
}
