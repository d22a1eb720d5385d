import Foundation

/// `config.json` of a model directory (written by `signbert convert`, read by `--model DIR`): the format's
/// own fields and the architecture's hyper-parameters side by side in one flat JSON object.
public struct ModelDirectoryConfig: Codable, Sendable, Equatable {
    public static let formatName = "signbert-model"
    public var format: String
    public var formatVersion: Int
    public var architecture: String
    public var model: SignBERTConfig
    public var skeletonLayout: String?
    public var source: String?
    /// The training run's `data.num_frames` (D, the clip length it trained on) and the preprocessing its
    /// landmarks had; absent in files written before they were recorded (then: num_frames, and the variant's).
    public var dataNumFrames: Int?
    public var preprocessing: SkeletonCentre?

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", architecture, skeletonLayout = "skeleton_layout", source
        case dataNumFrames = "data_num_frames", preprocessing
    }

    public init(config: SignBERTConfig, skeletonLayout: String? = nil, source: String? = nil,
                preparation: ClipPreparation? = nil) {
        format = Self.formatName
        formatVersion = 1
        architecture = config.variant.name
        model = config
        self.skeletonLayout = skeletonLayout ?? (config.numJoints == 27 ? "mediapipe_27" : nil)
        self.source = source
        dataNumFrames = preparation?.frames
        preprocessing = preparation?.centre
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        format = try container.decode(String.self, forKey: .format)
        formatVersion = try container.decode(Int.self, forKey: .formatVersion)
        architecture = try container.decode(String.self, forKey: .architecture)
        skeletonLayout = try container.decodeIfPresent(String.self, forKey: .skeletonLayout)
        source = try container.decodeIfPresent(String.self, forKey: .source)
        dataNumFrames = try container.decodeIfPresent(Int.self, forKey: .dataNumFrames)
        preprocessing = try container.decodeIfPresent(SkeletonCentre.self, forKey: .preprocessing)
        model = try SignBERTConfig(from: decoder)  // the same object's num_joints, embed_dim, ...
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(format, forKey: .format)
        try container.encode(formatVersion, forKey: .formatVersion)
        try container.encode(architecture, forKey: .architecture)
        try container.encodeIfPresent(skeletonLayout, forKey: .skeletonLayout)
        try container.encodeIfPresent(source, forKey: .source)
        try container.encodeIfPresent(dataNumFrames, forKey: .dataNumFrames)
        try container.encodeIfPresent(preprocessing, forKey: .preprocessing)
        try model.encode(to: encoder)
    }

    /// The same numbers in the `config.yaml` model-section form, so one resolver checks both.
    var modelSection: TrainingModelSection {
        var section = TrainingModelSection(numClasses: model.numClasses, numJoints: model.numJoints,
                                           numCoords: model.numCoords, numFrames: model.numFrames, embedDim: model.embedDim,
                                           depth: model.depth, numHeads: model.numHeads, mlpRatio: model.mlpRatio,
                                           v2Flags: model.variant.v2Flags)
        section.dataNumFrames = dataNumFrames
        return section
    }

    static func load(from url: URL) throws(ModelLoadError) -> ModelDirectoryConfig {
        let config: ModelDirectoryConfig
        do {
            config = try JSONDecoder().decode(ModelDirectoryConfig.self, from: Data(contentsOf: url))
        } catch {
            throw .file("cannot read model config \(url.path): \(describe(error))")
        }
        guard config.format == formatName else {
            throw .file("\(url.path): format is \"\(config.format)\", expected \"\(formatName)\"")
        }
        guard ["signbert-v1", "signbert-v2"].contains(config.architecture) else {
            throw .file("\(url.path): architecture \"\(config.architecture)\" is not supported (this build serves signbert-v1 and signbert-v2)")
        }
        guard config.architecture == config.model.variant.name else {
            throw .file("\(url.path): architecture is \"\(config.architecture)\" but its fields describe \(config.model.variant.name)")
        }
        return config
    }
}

/// A short, one-line account of a Foundation/Decoding error.
func describe(_ error: any Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, _): return "missing field \"\(key.stringValue)\""
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
         DecodingError.dataCorrupted(let context):
        let path = context.codingPath.map(\.stringValue).joined(separator: ".")
        return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
    default:
        return firstLine(of: String(describing: error))
    }
}
