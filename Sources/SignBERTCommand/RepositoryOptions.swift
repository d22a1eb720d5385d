import ArgumentParser
import Foundation
import InferenceService
import Logging
import SignBERTRuntime

/// `serve --model-repository DIR`: several models, each `DIR/NAME/` a model directory, a training run's files, or
/// numbered version folders of either (Triton's layout).
struct RepositoryOptions: ParsableArguments {
    @Option(name: .customLong("model-repository"), help: ArgumentHelp(
        "Serve every model of this directory: DIR/NAME/ is a model directory, a training run's files, or version folders DIR/NAME/1/, DIR/NAME/2/ of either.",
        valueName: "dir"))
    var directory: String?

    @Option(name: .customLong("default-model"), help: "The repository's model that /predict, /invocations and /stream use (default: the first by name).")
    var defaultModel: String?

    @Option(name: .customLong("repository-poll"), help: "Seconds between looks at the model repository for new or removed models and versions (default: only on SIGHUP and the load call).")
    var pollSeconds: Double?

    func directory(environment: [String: String]) -> String? {
        directory ?? environment["SIGNBERT_MODEL_REPOSITORY"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// The models a repository serves from the start, and those refused (with their log lines already written).
struct RepositoryStart {
    var models: [InitialModel] = []
    var refused: [(name: String, version: Int?, reason: String)] = []

    /// Loads every version of every model of `directory`; a folder or version that fails is logged and skipped.
    /// Throws when none loads: a server with nothing to serve is refused at start.
    static func load(_ directory: String, settings: ServeSettings, preprocessing: SkeletonCentre?,
                     logger: Logger) throws -> RepositoryStart {
        let entries = try ModelRepositoryLayout.scan(URL(fileURLWithPath: directory))
        var start = RepositoryStart()
        for entry in entries {
            for problem in entry.problems {
                logger.error("model version refused", metadata: ["model": "\(entry.name)", "reason": "\(problem)"])
                start.refused.append((entry.name, nil, problem))
            }
            for (version, var source) in entry.versions.sorted(by: { $0.key < $1.key }) {
                source.preprocessing = preprocessing
                do {
                    let loaded = try ModelLoader.load(source)
                    if let warning = ModelDescription(loaded).assumptionWarning { logger.warning("assumed \(warning)", metadata: ["model": "\(entry.name)"]) }
                    for warning in loaded.warnings { logger.warning("\(warning)", metadata: ["model": "\(entry.name)"]) }
                    start.models.append(InitialModel(name: entry.name, version: version, loaded: loaded,
                                                     configuration: settings.configuration(for: loaded)))
                } catch {
                    logger.error("model version refused", metadata: ["model": "\(entry.name)", "version": "\(version)", "reason": "\(error)"])
                    start.refused.append((entry.name, version, "\(error)"))
                }
            }
        }
        guard !start.models.isEmpty else {
            let reasons = start.refused.map(\.reason)
            throw ModelLoadError.file("the model repository \(directory) has no model that loads"
                                      + (reasons.isEmpty ? " (it has no model folder)" : ": " + reasons.joined(separator: "; ")))
        }
        return start
    }
}

extension ServeSettings {
    /// A repository model's settings: the server's, with the batch and queue limits from this model's cost per
    /// clip unless given as flags.
    func configuration(for loaded: LoadedModel) -> ServiceConfiguration {
        var settings = self
        settings.applyModelCost(loaded.config)
        settings.service.maxQueuedClips = max(settings.service.maxBatchSize, explicitQueue ?? min(settings.service.maxQueuedClips, budget?.maxQueuedClips ?? settings.service.maxQueuedClips))
        settings.service.maxClipsPerRequest = explicitClipsPerRequest ?? max(settings.service.maxBatchSize, min(256, settings.service.maxQueuedClips))
        return settings.service
    }
}
