public import Foundation
import Logging
public import SignBERTRuntime
import Synchronization

/// Where a server with `--model-repository` loads models from at run time (the load call, SIGHUP, the poll), and
/// how a loaded model gets its own service settings (batching and queue limits from its cost per clip).
public struct ModelRepositorySource: Sendable {
    public var directory: URL
    /// The settings of a model loaded from the repository (`modelName` is set to its folder's name afterwards).
    public var configure: @Sendable (LoadedModel) -> ServiceConfiguration
    public var load: @Sendable (ModelSource) throws -> LoadedModel

    public init(directory: URL, configure: @escaping @Sendable (LoadedModel) -> ServiceConfiguration,
                load: @escaping @Sendable (ModelSource) throws -> LoadedModel = { try ModelLoader.load($0) }) {
        self.directory = directory
        self.configure = configure
        self.load = load
    }
}

/// A model version to serve from the start (`serve --model` is a repository of one of these).
public struct InitialModel: Sendable {
    public var name: String
    public var version: Int
    public var loaded: LoadedModel
    public var configuration: ServiceConfiguration

    public init(name: String, version: Int = 1, loaded: LoadedModel, configuration: ServiceConfiguration) {
        self.name = name
        self.version = version
        self.loaded = loaded
        self.configuration = configuration
    }
}

/// A model or version the repository does not serve, with why (Triton's repository index shows the reason).
struct UnavailableModel: Sendable, Equatable {
    var name: String
    var version: Int?
    var reason: String
}

/// The models being served, by name and version, and the changes to them. Requests resolve a model here and hold
/// a lease on the version they got until answered; a load adds a version only once it is warm (so the highest
/// version changes in one step), and an unload takes versions out first and drains them after, so requests
/// already on a version finish on it. Loads and unloads run one at a time.
final class ModelRepository: Sendable {
    struct State {
        /// Name → version → the served version.
        var models: [String: [Int: ServedModel]] = [:]
        /// Names in the order they were first served: the first is the default model unless one is named.
        var order: [String] = []
        var unavailable: [UnavailableModel] = []
        /// The default model's last served version: what the server-wide routes (`/`, `/metrics`) are given when
        /// every model is unloaded.
        var fallback: ServedModel?
        /// When each refused version's folder was last modified: the poll and SIGHUP do not retry it unchanged.
        var refusedStamps: [String: Date] = [:]
    }

    enum LookupError: Error, Sendable {
        case unknownModel(String), unknownVersion(String)
        var message: String {
            switch self {
            case .unknownModel(let message), .unknownVersion(let message): message
            }
        }
    }

    private let state = Mutex(State())
    /// Serialises loads and unloads (a second load call waits for the first).
    private let operations = NSLock()
    /// Where the load and unload calls (REST, gRPC) run, one after another. Each call waiting its turn is a closure
    /// here, not a thread blocked on `operations`: Linux's global Dispatch queues grow by about one thread a second,
    /// so a few calls blocked there (a load warms its model for seconds, an unload drains) held up every
    /// connection's work behind them.
    private let changes = DispatchQueue(label: "signbert.repository.changes")
    /// Whether a `schedulePoll` poll waits on `changes`.
    private let pollQueued = Mutex(false)
    let source: ModelRepositorySource?
    let defaultName: String?
    private let logger: Logger
    typealias Factory = @Sendable (_ name: String, _ version: Int, LoadedModel, ServiceConfiguration) -> ServedModel
    /// Makes a served version (its routes, scheduler and metrics): set by the server once its shared parts exist
    /// (they hold this repository), cleared at shutdown.
    private let factory = Mutex<Factory?>(nil)
    private let drainTimeout: Duration

    init(source: ModelRepositorySource?, defaultName: String?, drainTimeout: Duration, logger: Logger) {
        self.source = source
        self.defaultName = defaultName
        self.drainTimeout = drainTimeout
        self.logger = logger
    }

    func setFactory(_ make: Factory?) { factory.withLock { $0 = make } }

    func make(_ name: String, _ version: Int, _ loaded: LoadedModel, _ configuration: ServiceConfiguration) -> ServedModel? {
        factory.withLock { $0 }?(name, version, loaded, configuration)
    }

    /// Adds a version before the server starts (its scheduler is started with the others).
    func register(_ served: ServedModel) {
        state.withLock { state in Self.insert(served, into: &state) }
    }

    func noteUnavailable(_ entry: UnavailableModel) {
        state.withLock { $0.unavailable.append(entry) }
    }

    private static func insert(_ served: ServedModel, into state: inout State) {
        if state.models[served.name] == nil, !state.order.contains(served.name) { state.order.append(served.name) }
        state.models[served.name, default: [:]][served.version] = served
        state.unavailable.removeAll { $0.name == served.name && ($0.version == nil || $0.version == served.version) }
    }

    // MARK: Lookup

    /// Every served version, by name then version.
    var served: [ServedModel] {
        state.withLock { state in
            state.order.flatMap { name in (state.models[name] ?? [:]).sorted { $0.key < $1.key }.map(\.value) }
        }
    }

    /// The served names, the default first.
    var names: [String] {
        state.withLock { state in
            let names = state.order.filter { state.models[$0]?.isEmpty == false }
            guard let first = Self.defaultModelName(state, defaultName) else { return names }
            return [first] + names.filter { $0 != first }
        }
    }

    private static func defaultModelName(_ state: State, _ named: String?) -> String? {
        if let named, state.models[named]?.isEmpty == false { return named }
        return state.order.first { state.models[$0]?.isEmpty == false }
    }

    /// The version a request names (the highest when it names none; the default model when it names no
    /// model), with a lease the caller must `release()` once answered.
    func acquire(name: String?, version: String?) -> Result<ServedModel, LookupError> {
        state.withLock { state in
            guard let name = name ?? Self.defaultModelName(state, defaultName), let versions = state.models[name],
                  !versions.isEmpty else {
                let served = state.order.filter { state.models[$0]?.isEmpty == false }
                return .failure(.unknownModel("unknown model \"\(name ?? "")\"; this server serves "
                    + (served.isEmpty ? "no model" : served.map { "\"\($0)\"" }.joined(separator: ", "))))
            }
            let chosen: ServedModel?
            if let version { chosen = Int(version).flatMap { versions[$0] } } else { chosen = versions.max { $0.key < $1.key }?.value }
            guard let chosen else {
                let known = versions.keys.sorted().map { "\"\($0)\"" }
                return .failure(.unknownVersion("unknown version \"\(version ?? "")\" of model \"\(name)\"; it has "
                    + (known.count == 1 ? "version " : "versions ") + known.joined(separator: ", ")))
            }
            chosen.lease()
            return .success(chosen)
        }
    }

    /// The default model's highest version (or the last one served), leased, for the server-wide routes.
    func acquireDefaultOrFallback() -> ServedModel? {
        if case .success(let served) = acquire(name: nil, version: nil) { return served }
        return state.withLock { state in
            state.fallback?.lease()
            return state.fallback
        }
    }

    // MARK: Repository index

    struct IndexEntry: Sendable, Equatable {
        var name: String
        var version: String
        var state: String
        var reason: String
    }

    /// Triton's repository index: every served version (READY), every refused or unloaded one (UNAVAILABLE with
    /// the reason), and the repository's other folders (not loaded).
    func index() -> [IndexEntry] {
        var entries: [IndexEntry] = []
        let (models, order, unavailable) = state.withLock { ($0.models, $0.order, $0.unavailable) }
        var names = order
        if let directory = source?.directory, let scanned = try? ModelRepositoryLayout.scan(directory) {
            names += scanned.map(\.name).filter { !names.contains($0) }
        }
        for name in names.sorted() {
            for version in (models[name] ?? [:]).keys.sorted() {
                entries.append(IndexEntry(name: name, version: String(version), state: "READY", reason: ""))
            }
            let down = unavailable.filter { $0.name == name }
            for entry in down { entries.append(IndexEntry(name: name, version: entry.version.map(String.init) ?? "", state: "UNAVAILABLE", reason: entry.reason)) }
            if models[name]?.isEmpty != false && down.isEmpty {
                entries.append(IndexEntry(name: name, version: "", state: "UNAVAILABLE", reason: "not loaded"))
            }
        }
        return entries
    }

    // MARK: Changes

    enum ChangeError: Error, Sendable { case notFound(String), failed(String) }

    /// Loads the versions of `name` in the repository that are not served yet (each warmed before it is served,
    /// so the highest version switches in one step), and unloads the served versions whose folders are gone.
    /// A version that fails to load is refused with a log line; the served ones keep serving. `retryRefused`:
    /// false for the poll and SIGHUP, which leave an unchanged refused folder alone.
    func load(_ name: String, retryRefused: Bool = true) -> Result<Void, ChangeError> {
        operations.lock()
        defer { operations.unlock() }
        guard let source else {
            if state.withLock({ $0.models[name]?.isEmpty == false }) { return .success(()) }
            return .failure(.failed("this server serves a single model (--model or --checkpoint); "
                                    + "start it with --model-repository to load models at run time"))
        }
        let folder = source.directory.appendingPathComponent(name)
        var isDirectory: ObjCBool = false
        guard ModelRepositoryLayout.isValidName(name),
              FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return .failure(.notFound("no model folder \"\(name)\" in the model repository \(source.directory.path)"))
        }
        let entry = ModelRepositoryLayout.entry(name: name, folder: folder)
        let servedVersions = state.withLock { Set(($0.models[name] ?? [:]).keys) }
        var failures: [String] = []
        for problem in entry.problems {
            // The poll meets the same broken folder every time: logged once loudly, then at debug.
            logger.log(level: retryRefused ? .error : .debug, "model version refused", metadata: ["model": "\(name)", "reason": "\(problem)"])
            failures.append(problem)
        }
        for (version, modelSource) in entry.versions.sorted(by: { $0.key < $1.key }) where !servedVersions.contains(version) {
            let versionFolder = Self.versionFolder(folder, version: version, layout: entry)
            let stamp = Self.modificationDate(versionFolder)
            let key = "\(name)/\(version)"
            if !retryRefused, let refused = state.withLock({ $0.refusedStamps[key] }), refused == stamp { continue }
            do {
                let loaded = try source.load(modelSource)
                var configuration = source.configure(loaded)
                configuration.modelName = name
                for warning in loaded.warnings { logger.warning("\(warning)", metadata: ["model": "\(name)", "version": "\(version)"]) }
                guard let served = make(name, version, loaded, configuration) else { return .failure(.failed("the server is stopping")) }
                let warm = DispatchSemaphore(value: 0)
                served.scheduler.start { warm.signal() }
                warm.wait()
                state.withLock { state in
                    Self.insert(served, into: &state)
                    state.refusedStamps[key] = nil
                }
                logger.info("model loaded", metadata: [
                    "model": "\(name)", "version": "\(version)", "path": "\(loaded.checkpointPath)",
                    "architecture": "\(loaded.config.variant.name)", "classes": "\(loaded.config.numClasses)",
                    "max_batch_size": "\(configuration.maxBatchSize)", "memory_bytes": "\(served.memoryBytes)"])
            } catch {
                let reason = "version \(version) of model \(name) (\(versionFolder.path)): \(error)"
                logger.error("model version refused", metadata: ["model": "\(name)", "version": "\(version)", "reason": "\(error)"])
                failures.append(reason)
                state.withLock { state in
                    state.refusedStamps[key] = stamp
                    state.unavailable.removeAll { $0.name == name && $0.version == version }
                    state.unavailable.append(UnavailableModel(name: name, version: version, reason: reason))
                }
            }
        }
        // Versions whose folder was removed are unloaded (a folder that fails to load is left serving).
        let gone = servedVersions.filter { version in
            !FileManager.default.fileExists(atPath: Self.versionFolder(folder, version: version, layout: entry).path)
        }
        if !gone.isEmpty { unloadVersions(name, Set(gone), reason: "its version folder was removed") }
        let servesNow = state.withLock { $0.models[name]?.isEmpty == false }
        if !servesNow {
            return .failure(.failed("failed to load model \"\(name)\": " + (failures.isEmpty ? "no version to load" : failures.joined(separator: "; "))))
        }
        return .success(())
    }

    /// A version's folder: `NAME/N/`, or the model's folder itself when it has no numbered folders (version 1).
    private static func versionFolder(_ folder: URL, version: Int, layout: ModelRepositoryLayout.Entry) -> URL {
        let numbered = folder.appendingPathComponent(String(version))
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: numbered.path, isDirectory: &isDirectory), isDirectory.boolValue { return numbered }
        return version == 1 && layout.versions.keys.allSatisfy({ $0 == 1 }) && !layout.problems.contains(where: { $0.contains("version") })
            ? folder : numbered
    }

    private static func modificationDate(_ url: URL) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date
    }

    /// `load(name)` or `unload(name)` on the queue of changes, then `done` with the result (on that queue).
    func change(_ name: String, load: Bool, done: @escaping @Sendable (Result<Void, ChangeError>) -> Void) {
        changes.async { done(load ? self.load(name) : self.unload(name)) }
    }

    /// `poll()` on the queue of changes, unless a poll already waits there (SIGHUP and the poll timer: polls that
    /// come faster than they run do not pile up).
    func schedulePoll() {
        let queuesOne = pollQueued.withLock { queued in
            if queued { return false }
            queued = true
            return true
        }
        guard queuesOne else { return }
        changes.async {
            self.pollQueued.withLock { $0 = false }
            self.poll()
        }
    }

    /// Takes every version of `name` out, then drains them (requests already on them are answered). Refused for
    /// a single-model server (no repository to load it from again).
    func unload(_ name: String) -> Result<Void, ChangeError> {
        operations.lock()
        defer { operations.unlock() }
        let versions = state.withLock { Set(($0.models[name] ?? [:]).keys) }
        guard !versions.isEmpty else { return .failure(.notFound("model \"\(name)\" is not loaded")) }
        // Without a repository nothing could bring the model back: the server would serve nothing until restarted.
        guard source != nil else {
            return .failure(.failed("this server serves a single model (--model or --checkpoint), which cannot be unloaded; "
                                    + "start it with --model-repository to load and unload models at run time"))
        }
        unloadVersions(name, versions, reason: "unloaded")
        return .success(())
    }

    private func unloadVersions(_ name: String, _ versions: Set<Int>, reason: String) {
        let taken: [ServedModel] = state.withLock { state in
            var taken: [ServedModel] = []
            for version in versions.sorted() {
                guard let served = state.models[name]?.removeValue(forKey: version) else { continue }
                taken.append(served)
                state.unavailable.append(UnavailableModel(name: name, version: version, reason: reason))
                if name == Self.defaultModelName(state, defaultName) || state.fallback == nil || state.fallback?.name == name {
                    state.fallback = served
                }
            }
            return taken
        }
        for served in taken {
            let clean = served.drain(timeout: drainTimeout)
            logger.info("model unloaded", metadata: ["model": "\(name)", "version": "\(served.version)", "reason": "\(reason)",
                                                     "clean": "\(clean)"])
        }
    }

    /// Brings the served models in line with the repository on disk: new models and versions are loaded,
    /// removed ones unloaded (SIGHUP and `--repository-poll`). Refused folders are retried only once changed.
    func poll() {
        guard let directory = source?.directory else { return }
        let entries: [ModelRepositoryLayout.Entry]
        do { entries = try ModelRepositoryLayout.scan(directory) } catch {
            logger.error("model repository poll failed", metadata: ["reason": "\(error)"])
            return
        }
        let onDisk = Set(entries.map(\.name))
        for entry in entries { _ = load(entry.name, retryRefused: false) }
        for name in state.withLock({ $0.order }) where !onDisk.contains(name) && state.withLock({ $0.models[name]?.isEmpty == false }) {
            _ = unload(name)
        }
    }

    /// Every served version's scheduler, stopped (server shutdown); the repository then holds nothing, so the
    /// versions and their routes are freed.
    func removeAll() -> [ServedModel] {
        setFactory(nil)
        return state.withLock { state in
            let all = state.models.values.flatMap(\.values) + (state.fallback.map { [$0] } ?? [])
            state.models = [:]
            state.fallback = nil
            return all
        }
    }
}
