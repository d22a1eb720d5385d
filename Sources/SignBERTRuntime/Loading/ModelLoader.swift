public import Foundation

/// Where a model comes from: a checkpoint file (with its training config and labels), or a model directory.
public struct ModelSource: Sendable {
    public var checkpoint: URL?
    public var modelDirectory: URL?
    public var config: URL?
    public var labels: URL?
    public var overrides: ArchitectureOverrides
    /// The landmark preprocessing, when the user names it (`--preprocessing`); else the model's own.
    public var preprocessing: SkeletonCentre?

    public init(checkpoint: URL? = nil, modelDirectory: URL? = nil, config: URL? = nil, labels: URL? = nil,
                overrides: ArchitectureOverrides = .init(), preprocessing: SkeletonCentre? = nil) {
        self.checkpoint = checkpoint
        self.modelDirectory = modelDirectory
        self.config = config
        self.labels = labels
        self.overrides = overrides
        self.preprocessing = preprocessing
    }
}

/// A model ready to run, with what `inspect` and `GET /` report about where it came from.
public struct LoadedModel: Sendable {
    public let model: SignBERTModel
    public let labels: [String]
    public let checkpointPath: String
    public let checkpointFormat: String
    public let configPath: String?
    public let labelsPath: String?
    /// Stored dtypes and how many tensors had each ("F16": 76).
    public let storedDTypes: [String: Int]
    public let ignoredEntries: [String]
    public let unexpectedKeys: [String]
    public let metadata: [String: String]
    /// Hyper-parameters no file or flag gave, taken from the training code's defaults (e.g. "num_heads").
    public let assumedDefaults: [String]
    /// How clips are brought to what the model was trained on: D frames and the landmarks' centre.
    public let preparation: ClipPreparation
    /// What was read but not used, one sentence each (e.g. a yaml's v2 flags the training code ignored).
    public let warnings: [String]

    public var config: SignBERTConfig { model.config }
}

public enum ModelLoader {
    /// Loads and checks everything; every failure is one line (a `ModelLoadError` or `CheckpointError`).
    public static func load(_ source: ModelSource) throws -> LoadedModel {
        try loadKeepingStateDict(source).model
    }

    /// As `load`, also returning the file's tensors as read (PyTorch layout), for `convert`.
    public static func loadKeepingStateDict(_ source: ModelSource) throws -> (model: LoadedModel, stateDict: StateDict) {
        let files = try locate(source)
        let stateDict = try CheckpointReader.read(files.checkpoint)
        var section: TrainingModelSection?
        var directoryConfig: ModelDirectoryConfig?
        if let url = files.directoryConfig {
            directoryConfig = try ModelDirectoryConfig.load(from: url)
            section = directoryConfig?.modelSection
        } else if let yaml = files.config {
            section = try TrainingModelSection.load(from: yaml)
        }
        let configSource = (files.directoryConfig ?? files.config)?.lastPathComponent ?? "config"
        let (config, assumed) = try ArchitectureResolver.resolveNotingAssumptions(
            stateDict: stateDict, config: section, configSource: configSource, overrides: source.overrides)
        let weights = try SignBERTWeights(stateDict: stateDict, config: config)
        let preparation = try clipPreparation(config: config, section: section, directoryConfig: directoryConfig,
                                              configSource: configSource, override: source.preprocessing)
        let warnings = ignoredFlagWarnings(section, config: config, configSource: configSource)

        var labels = (0..<config.numClasses).map { "class_\($0)" }
        if let labelsURL = files.labels {
            let loaded = try LabelFile.load(from: labelsURL)
            guard loaded.count == config.numClasses else {
                throw ModelLoadError.labels(
                    "\(labelsURL.path) has \(loaded.count) labels but the model has \(config.numClasses) classes")
            }
            labels = loaded
        }
        var dtypes: [String: Int] = [:]
        for tensor in stateDict.tensors.values { dtypes[tensor.storedDType, default: 0] += 1 }
        let loaded = LoadedModel(model: SignBERTModel(config: config, weights: weights), labels: labels,
                                 checkpointPath: files.checkpoint.path, checkpointFormat: stateDict.format,
                                 configPath: (files.directoryConfig ?? files.config)?.path, labelsPath: files.labels?.path,
                                 storedDTypes: dtypes, ignoredEntries: stateDict.ignoredEntries,
                                 unexpectedKeys: weights.unexpectedKeys, metadata: stateDict.metadata,
                                 assumedDefaults: assumed, preparation: preparation, warnings: warnings)
        return (loaded, stateDict)
    }

    /// D from the run's `data.num_frames` (config.yaml, or config.json's `data_num_frames`), else the model's
    /// num_frames; the centre from the override, else config.json, else the commit the variant comes from.
    static func clipPreparation(config: SignBERTConfig, section: TrainingModelSection?,
                                directoryConfig: ModelDirectoryConfig?, configSource: String,
                                override: SkeletonCentre?) throws(ModelLoadError) -> ClipPreparation {
        var preparation = ClipPreparation.defaults(for: config)
        if let frames = section?.dataNumFrames {
            preparation.frames = frames
            preparation.framesSource = directoryConfig == nil ? "data.num_frames in \(configSource)"
                                                              : "data_num_frames in \(configSource)"
        }
        if let override {
            preparation.centre = override
            preparation.centreSource = "chosen with --preprocessing"
        } else if let centre = directoryConfig?.preprocessing {
            preparation.centre = centre
            preparation.centreSource = "preprocessing in \(configSource)"
        }
        try preparation.validate(against: config)
        return preparation
    }

    /// One sentence per v2 flag a training yaml states with a value the model does not run with.
    static func ignoredFlagWarnings(_ section: TrainingModelSection?, config: SignBERTConfig,
                                    configSource: String) -> [String] {
        guard let section, let flags = config.variant.v2Flags else { return [] }
        let used = ["use_cls_token": flags.useClsToken, "normalize_skeleton": flags.normalizeSkeleton,
                    "use_velocity": flags.useVelocity, "use_bone": flags.useBone]
        return section.ignoredV2Flags.compactMap { flag in
            guard let value = used[flag.key], value != flag.value else { return nil }
            return "\(configSource) says model.\(flag.key): \(flag.value), which is ignored as the training code ignored it "
                + "(its model factory builds SignBERT v2 with all four flags on); the model runs with \(flag.key) = \(value)"
        }
    }

    struct Files {
        var checkpoint: URL
        var config: URL?
        var directoryConfig: URL?
        var labels: URL?
    }

    /// Resolves the files. Beside a checkpoint, a training run's `config.yaml` and a `label_mapping.json`
    /// or `labels.txt` are picked up when not given, as a user of the training repo would expect.
    static func locate(_ source: ModelSource) throws(ModelLoadError) -> Files {
        let fm = FileManager.default
        func existing(_ url: URL) -> URL? { fm.fileExists(atPath: url.path) ? url : nil }
        func require(_ url: URL, _ what: String) throws(ModelLoadError) -> URL {
            guard fm.fileExists(atPath: url.path) else { throw .file("\(what) \(url.path) does not exist") }
            return url
        }
        if let directory = source.modelDirectory {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw .file("model directory \(directory.path) does not exist")
            }
            let weights = try require(directory.appendingPathComponent("model.safetensors"), "model weights")
            let config = try require(directory.appendingPathComponent("config.json"), "model config")
            let labels = try source.labels.map { url throws(ModelLoadError) in try require(url, "labels file") }
                ?? existing(directory.appendingPathComponent("labels.txt"))
            return Files(checkpoint: weights, config: nil, directoryConfig: config, labels: labels)
        }
        guard let checkpoint = source.checkpoint else {
            throw .file("no model given: pass --model DIR or --checkpoint FILE")
        }
        _ = try require(checkpoint, "checkpoint")
        let folder = checkpoint.deletingLastPathComponent()
        let config = try source.config.map { url throws(ModelLoadError) in try require(url, "config") }
            ?? existing(folder.appendingPathComponent("config.yaml"))
        let labels = try source.labels.map { url throws(ModelLoadError) in try require(url, "labels file") }
            ?? existing(folder.appendingPathComponent("label_mapping.json"))
            ?? existing(folder.appendingPathComponent("labels.txt"))
        return Files(checkpoint: checkpoint, config: config, directoryConfig: nil, labels: labels)
    }
}
