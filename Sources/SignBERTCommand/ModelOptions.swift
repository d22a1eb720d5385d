import ArgumentParser
import Foundation
import SignBERTRuntime

/// How every subcommand names a model: a model directory, or a training checkpoint with its config and labels.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A model directory (model.safetensors, config.json, labels.txt).",
                                            valueName: "dir"))
    var model: String?

    @Option(name: .long, help: ArgumentHelp(
        "A checkpoint: a torch.save file (.pth/.pt/.bin) or .safetensors. A config.yaml and label_mapping.json or labels.txt beside it are used when present.",
        valueName: "file"))
    var checkpoint: String?

    @Option(name: .long, help: ArgumentHelp("The training run's config.yaml (its model: section).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("label_mapping.json (label_to_folder) or labels.txt (one per line).",
                                            valueName: "file"))
    var labels: String?

    @Option(name: .long, help: "Attention heads (overrides config.yaml; shapes cannot tell it).")
    var numHeads: Int?

    @Option(name: .long, help: "Joints per frame (overrides config.yaml).")
    var numJoints: Int?

    @Option(name: .long, help: "Coordinates per joint (overrides config.yaml).")
    var numCoords: Int?

    @Option(name: .long, help: "Landmark normalisation: neck or mid-hip (default: the checkpoint's training commit, v1 mid-hip, v2 neck).")
    var preprocessing: String?

    @Option(name: .long, help: "SignBERT v2's normalize_skeleton, for a model built outside the training code (a yaml's is ignored, as there).")
    var normalizeSkeleton: Bool?

    func validate() throws {
        if model != nil && checkpoint != nil {
            throw ValidationError("give either --model or --checkpoint, not both")
        }
        if model != nil && config != nil {
            throw ValidationError("--config goes with --checkpoint; a model directory carries its own config.json")
        }
        _ = try skeletonCentre(preprocessing)
        if let text = ProcessInfo.processInfo.environment["SIGNBERT_PREPROCESSING"], !text.isEmpty, SkeletonCentre(rawValue: text) == nil {
            throw ValidationError("SIGNBERT_PREPROCESSING=\(text) is not neck (commit 99e759a) or mid-hip (commit cf4dfbb)")
        }
        // The two flags mixed up: say which one the path wants.
        var isDirectory: ObjCBool = false
        if let model, FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), !isDirectory.boolValue {
            // The folder as the user wrote it (relative stays relative).
            let folder = model.contains("/") ? String(model[..<(model.lastIndex(of: "/") ?? model.endIndex)]) : "."
            let asDirectory = FileManager.default.fileExists(atPath: folder + "/config.json")
                ? " (or --model \(folder), the model directory it is in)" : ""
            throw ValidationError("--model takes a model directory, and \(model) is a file: "
                                  + "use --checkpoint \(model)\(asDirectory)")
        }
        if let checkpoint, FileManager.default.fileExists(atPath: checkpoint, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ValidationError("--checkpoint takes a file (.pth, .pt, .bin, .safetensors), and \(checkpoint) is a "
                                  + "directory: use --model \(checkpoint) for a model directory")
        }
    }

    /// The model to load: the flags, else SIGNBERT_MODEL / SIGNBERT_CHECKPOINT, else (with `platforms`, for `serve`)
    /// the platform's model (`AIP_STORAGE_URI`, then `/opt/ml/model`: `PlatformModelPath`), else the bundled demo model.
    func source(environment: [String: String] = ProcessInfo.processInfo.environment,
                platforms: Bool = false) throws -> ModelSource {
        let overrides = ArchitectureOverrides(numHeads: numHeads, numJoints: numJoints, numCoords: numCoords,
                                              normalizeSkeleton: normalizeSkeleton)
        let url = { (path: String) in URL(fileURLWithPath: path) }
        let configURL = (config ?? environment["SIGNBERT_CONFIG"]).map(url)
        let labelsURL = (labels ?? environment["SIGNBERT_LABELS"]).map(url)
        var source: ModelSource
        if let model {
            source = ModelSource(modelDirectory: url(model), labels: labelsURL, overrides: overrides)
        } else if let checkpoint {
            source = ModelSource(checkpoint: url(checkpoint), config: configURL, labels: labelsURL, overrides: overrides)
        } else if let path = environment["SIGNBERT_CHECKPOINT"], !path.isEmpty {
            source = ModelSource(checkpoint: url(path), config: configURL, labels: labelsURL, overrides: overrides)
        } else if let directory = environment["SIGNBERT_MODEL"], !directory.isEmpty {
            source = ModelSource(modelDirectory: url(directory), labels: labelsURL, overrides: overrides)
        } else if platforms, let platform = try PlatformModelPath.source(environment: environment) {
            source = platform
            source.config = platform.checkpoint == nil ? nil : configURL
            source.labels = labelsURL
            source.overrides = overrides
        } else {
            source = ModelSource(modelDirectory: url(Self.bundledModelPath()), labels: labelsURL, overrides: overrides)
        }
        // Checked in validate() (the flag) and by `serve`'s settings (SIGNBERT_PREPROCESSING).
        source.preprocessing = try? skeletonCentre(preprocessing ?? environment["SIGNBERT_PREPROCESSING"].flatMap { $0.isEmpty ? nil : $0 })
        return source
    }

    /// Whether the model `source` loads is the bundled demo model (nothing named, or its directory named).
    func usesBundledModel(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        if checkpoint != nil { return false }
        if model == nil, let path = environment["SIGNBERT_CHECKPOINT"], !path.isEmpty { return false }
        let directory = model ?? environment["SIGNBERT_MODEL"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.bundledModelPath()
        let resolved = { (path: String) in URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path }
        return resolved(directory) == resolved(Self.bundledModelPath())
    }

    /// `models/demo-gestures` in the working directory, else beside the executable's install prefix
    /// (`<prefix>/bin/signbert` → `<prefix>/models/demo-gestures`, the image's layout).
    static func bundledModelPath() -> String {
        let relative = "models/demo-gestures"
        if FileManager.default.fileExists(atPath: relative) { return relative }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let prefix = executable.deletingLastPathComponent().deletingLastPathComponent()
        let installed = prefix.appendingPathComponent(relative).path
        return FileManager.default.fileExists(atPath: installed) ? installed : relative
    }
}

/// The companions of a checkpoint named as an argument (`inspect`, `convert`).
struct CheckpointFileOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The training run's config.yaml.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("label_mapping.json or labels.txt.", valueName: "file"))
    var labels: String?

    @Option(name: .long, help: "Attention heads (overrides config.yaml).")
    var numHeads: Int?

    @Option(name: .long, help: "Landmark normalisation: neck or mid-hip (default: the checkpoint's training commit).")
    var preprocessing: String?

    @Option(name: .long, help: "SignBERT v2's normalize_skeleton (a yaml's is ignored, as the training code ignored it).")
    var normalizeSkeleton: Bool?

    func validate() throws { _ = try skeletonCentre(preprocessing) }

    /// `path` as a checkpoint file, or as a model directory when it is one.
    func source(_ path: String) -> ModelSource {
        var isDirectory: ObjCBool = false
        let url = URL(fileURLWithPath: path)
        let labelsURL = labels.map { URL(fileURLWithPath: $0) }
        let overrides = ArchitectureOverrides(numHeads: numHeads, normalizeSkeleton: normalizeSkeleton)
        let centre = try? skeletonCentre(preprocessing)  // checked in validate()
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return ModelSource(modelDirectory: url, labels: labelsURL, overrides: overrides, preprocessing: centre)
        }
        return ModelSource(checkpoint: url, config: config.map { URL(fileURLWithPath: $0) }, labels: labelsURL,
                           overrides: overrides, preprocessing: centre)
    }
}

/// `--preprocessing neck|mid-hip` as given (checked in `validate`).
func skeletonCentre(_ text: String?) throws -> SkeletonCentre? {
    guard let text else { return nil }
    guard let centre = SkeletonCentre(rawValue: text) else {
        throw ValidationError("--preprocessing must be neck (commit 99e759a) or mid-hip (commit cf4dfbb), got \(text)")
    }
    return centre
}

/// What a loaded model's files left open or said in vain, one `warning: ...` line each on stderr
/// (`predict`, `serve`; `inspect` prints the same in its report).
func warnAboutAssumptions(_ loaded: LoadedModel) {
    var lines = loaded.warnings
    if let assumed = ModelDescription(loaded).assumptionWarning { lines.insert("assumed " + assumed, at: 0) }
    for line in lines { FileHandle.standardError.write(Data("warning: \(line)\n".utf8)) }
}

/// Runs a command body, turning any error into one `error: ...` line on stderr and exit code 1.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("error: \(String(describing: error))\n".utf8))
        throw ExitCode.failure
    }
}

func printJSON(_ bytes: [UInt8]) {
    FileHandle.standardOutput.write(Data(bytes + [0x0A]))
}
