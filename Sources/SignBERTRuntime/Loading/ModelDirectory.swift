import Foundation

/// `config.json` of a model directory (written by `signbert convert`, read by `--model DIR`).
public struct ModelDirectoryConfig: Codable, Sendable, Equatable {
    public static let formatName = "signbert-model"
    public var format: String
    public var formatVersion: Int
    public var architecture: String
    public var numJoints: Int
    public var numCoords: Int
    public var numFrames: Int
    public var embedDim: Int
    public var depth: Int
    public var numHeads: Int
    public var mlpRatio: Double
    public var numClasses: Int
    public var skeletonLayout: String?
    public var source: String?

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", architecture
        case numJoints = "num_joints", numCoords = "num_coords", numFrames = "num_frames", embedDim = "embed_dim"
        case depth, numHeads = "num_heads", mlpRatio = "mlp_ratio", numClasses = "num_classes"
        case skeletonLayout = "skeleton_layout", source
    }

    public init(config: SignBERTConfig, skeletonLayout: String? = nil, source: String? = nil) {
        format = Self.formatName
        formatVersion = 1
        architecture = "signbert-v1"
        numJoints = config.numJoints
        numCoords = config.numCoords
        numFrames = config.numFrames
        embedDim = config.embedDim
        depth = config.depth
        numHeads = config.numHeads
        mlpRatio = config.mlpRatio
        numClasses = config.numClasses
        self.skeletonLayout = skeletonLayout ?? (config.numJoints == 27 ? "mediapipe_27" : nil)
        self.source = source
    }

    /// The same numbers in the `config.yaml` model-section form, so one resolver checks both.
    var modelSection: TrainingModelSection {
        TrainingModelSection(numClasses: numClasses, numJoints: numJoints, numCoords: numCoords, numFrames: numFrames,
                             embedDim: embedDim, depth: depth, numHeads: numHeads, mlpRatio: mlpRatio)
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
        guard config.architecture == "signbert-v1" else {
            throw .file("\(url.path): architecture \"\(config.architecture)\" is not supported (this build serves signbert-v1)")
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
