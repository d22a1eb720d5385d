public import Foundation
import Yams

/// The `model:` section of a training run's `config.yaml` (and its `data.num_frames`): every field optional,
/// as a user's file may name only some. `num_class` is the training code's spelling (not `num_classes`);
/// `null` (the repo's own configs/signbert.yaml) means absent: the checkpoint's head gives the class count.
///
/// The four v2 flags in a yaml are read but not used (`ignoredV2Flags`): the training code's config class
/// drops them and its model factory builds v2 with all four true whatever the yaml says (spec, "The files a
/// training run leaves"), so a run's model always has them on. Only a model directory's config.json (or an
/// explicit override) sets them.
public struct TrainingModelSection: Sendable, Equatable {
    public var numClasses: Int?
    public var numJoints: Int?
    public var numCoords: Int?
    public var numFrames: Int?
    public var embedDim: Int?
    public var depth: Int?
    public var numHeads: Int?
    public var mlpRatio: Double?
    /// The v2 flags (absent in a v1 run's config).
    public var useClsToken: Bool?
    public var normalizeSkeleton: Bool?
    public var useVelocity: Bool?
    public var useBone: Bool?
    /// `data.num_frames`: the clip length D the run trained and evaluated on.
    public var dataNumFrames: Int?
    /// v2 flags a training yaml states, which the training code ignored: (key, value) in file order.
    public var ignoredV2Flags: [IgnoredFlag] = []
    /// True for a training run's yaml: the v2 flags are the model factory's (all on), known, not assumed.
    public var flagsFixedByTrainingCode = false

    public struct IgnoredFlag: Sendable, Equatable {
        public var key: String
        public var value: Bool
    }

    public init(numClasses: Int? = nil, numJoints: Int? = nil, numCoords: Int? = nil, numFrames: Int? = nil,
                embedDim: Int? = nil, depth: Int? = nil, numHeads: Int? = nil, mlpRatio: Double? = nil,
                v2Flags: SignBERTV2Flags? = nil) {
        self.numClasses = numClasses
        self.numJoints = numJoints
        self.numCoords = numCoords
        self.numFrames = numFrames
        self.embedDim = embedDim
        self.depth = depth
        self.numHeads = numHeads
        self.mlpRatio = mlpRatio
        useClsToken = v2Flags?.useClsToken
        normalizeSkeleton = v2Flags?.normalizeSkeleton
        useVelocity = v2Flags?.useVelocity
        useBone = v2Flags?.useBone
    }

    /// Reads `config.yaml` and returns its `model:` section.
    public static func load(from url: URL) throws(ModelLoadError) -> TrainingModelSection {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw .file("cannot read config \(url.path): \(error.fileErrorDescription)")
        }
        return try parse(yaml: text, source: url.path)
    }

    public static func parse(yaml text: String, source: String) throws(ModelLoadError) -> TrainingModelSection {
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch {
            throw .file("\(source) is not valid YAML: \(firstLine(of: "\(error)"))")
        }
        guard let document = root as? [String: Any], let model = document["model"] as? [String: Any] else {
            throw .file("\(source) has no `model:` section (the training config's model hyper-parameters)")
        }
        func integer(_ key: String, in model: [String: Any] = model, section: String = "model") throws(ModelLoadError) -> Int? {
            // `key: null` is as good as absent (configs/signbert.yaml has num_class: null, filled in at training).
            guard let value = model[key], !(value is NSNull) else { return nil }
            if let number = value as? Int { return number }
            if let number = value as? Double, number == number.rounded(), abs(number) < 1e9 { return Int(number) }
            throw .file("\(source): \(section).\(key) must be an integer, got \(value)")
        }
        func flag(_ key: String) throws(ModelLoadError) -> Bool? {
            guard let value = model[key], !(value is NSNull) else { return nil }
            guard let bool = value as? Bool else { throw .file("\(source): model.\(key) must be true or false, got \(value)") }
            return bool
        }
        var section = TrainingModelSection()
        section.flagsFixedByTrainingCode = true
        for key in ["use_cls_token", "normalize_skeleton", "use_velocity", "use_bone"] {
            if let value = try flag(key) { section.ignoredV2Flags.append(IgnoredFlag(key: key, value: value)) }
        }
        if let data = document["data"] as? [String: Any] {
            section.dataNumFrames = try integer("num_frames", in: data, section: "data")
        }
        if let classes = try integer("num_class") { section.numClasses = classes } else { section.numClasses = try integer("num_classes") }
        section.numJoints = try integer("num_joints")
        section.numCoords = try integer("num_coords")
        section.numFrames = try integer("num_frames")
        section.embedDim = try integer("embed_dim")
        section.depth = try integer("depth")
        section.numHeads = try integer("num_heads")
        if let ratio = model["mlp_ratio"], !(ratio is NSNull) {
            if let number = ratio as? Double { section.mlpRatio = number }
            else if let number = ratio as? Int { section.mlpRatio = Double(number) }
            else { throw .file("\(source): model.mlp_ratio must be a number, got \(ratio)") }
        }
        return section
    }
}

func firstLine(of text: String) -> String {
    String(text.split(whereSeparator: \.isNewline).first ?? "")
}
