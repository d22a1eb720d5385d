public import Foundation

/// Where a model comes from: a checkpoint file (with its training config and labels), or a model directory.
public struct ModelSource: Sendable {
    public var checkpoint: URL?
    public var modelDirectory: URL?
    public var config: URL?
    public var labels: URL?
    public var overrides: ArchitectureOverrides

    public init(checkpoint: URL? = nil, modelDirectory: URL? = nil, config: URL? = nil, labels: URL? = nil,
                overrides: ArchitectureOverrides = .init()) {
        self.checkpoint = checkpoint
        self.modelDirectory = modelDirectory
        self.config = config
        self.labels = labels
        self.overrides = overrides
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
        if let directoryConfig = files.directoryConfig {
            section = try ModelDirectoryConfig.load(from: directoryConfig).modelSection
        } else if let yaml = files.config {
            section = try TrainingModelSection.load(from: yaml)
        }
        let configSource = (files.directoryConfig ?? files.config)?.lastPathComponent ?? "config"
        let (config, assumed) = try ArchitectureResolver.resolveNotingAssumptions(
            stateDict: stateDict, config: section, configSource: configSource, overrides: source.overrides)
        let weights = try SignBERTWeights(stateDict: stateDict, config: config)

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
                                 assumedDefaults: assumed)
        return (loaded, stateDict)
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
