import Foundation

/// Where the hosting platforms put a model for an image they start without arguments: Vertex AI names it in
/// `AIP_STORAGE_URI`, SageMaker unpacks it into `/opt/ml/model`. Consulted by `serve` when no flag and no
/// `SIGNBERT_MODEL` / `SIGNBERT_CHECKPOINT` names a model; `AIP_STORAGE_URI` first (it is stated, the folder
/// may just exist), then the SageMaker folder when it exists and is not empty.
public enum PlatformModelPath {
    public static let sageMakerDirectory = "/opt/ml/model"

    /// The model the platform gave, or nil when it gave none (the caller serves its default).
    /// Throws one line when it gave one that cannot be served: a remote URI, a missing path, a folder with no model.
    public static func source(environment: [String: String],
                              sageMakerDirectory: String = sageMakerDirectory) throws(ModelLoadError) -> ModelSource? {
        if let uri = environment["AIP_STORAGE_URI"], !uri.isEmpty {
            let path = try localPath(storageURI: uri)
            return try source(at: path, namedBy: "AIP_STORAGE_URI=\(uri)")
        }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: sageMakerDirectory),
              !entries.isEmpty else { return nil }
        return try source(at: sageMakerDirectory, namedBy: sageMakerDirectory)
    }

    /// `AIP_STORAGE_URI` as a local path: a plain path or a `file://` URI. Vertex AI sets a `gs://` URI,
    /// which this server does not fetch (it holds no cloud credentials or client): the user mounts it.
    static func localPath(storageURI uri: String) throws(ModelLoadError) -> String {
        if uri.hasPrefix("file://") {
            return String(uri.dropFirst("file://".count))
        }
        if let scheme = uri.range(of: "://") {
            throw .file("AIP_STORAGE_URI=\(uri) is a remote \(uri[..<scheme.lowerBound]):// URI, and signbert "
                        + "serves models only from a local path: mount the bucket into the container (e.g. Cloud "
                        + "Storage FUSE) and set AIP_STORAGE_URI or SIGNBERT_MODEL to the mounted model directory")
        }
        return uri
    }

    /// The model in a folder the platform filled: a model directory (`config.json` + `model.safetensors`),
    /// else a training run's checkpoint (`checkpoint_best.pth`, or its only checkpoint file) with the
    /// `config.yaml` and labels beside it; a folder holding just one folder (an archive with a top folder,
    /// as SageMaker unpacks `model.tar.gz`) is looked into.
    static func source(at path: String, namedBy origin: String) throws(ModelLoadError) -> ModelSource {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .file("\(origin): \(path) does not exist")
        }
        let url = URL(fileURLWithPath: path)
        guard isDirectory.boolValue else { return ModelSource(checkpoint: url) }
        let entries = ((try? fm.contentsOfDirectory(atPath: path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        if entries.contains("config.json") && entries.contains("model.safetensors") {
            return ModelSource(modelDirectory: url)
        }
        if entries.contains("checkpoint_best.pth") {
            return ModelSource(checkpoint: url.appendingPathComponent("checkpoint_best.pth"))
        }
        let checkpoints = entries.filter { name in [".pth", ".pt", ".bin", ".safetensors"].contains { name.hasSuffix($0) } }
        if checkpoints.count == 1 {
            return ModelSource(checkpoint: url.appendingPathComponent(checkpoints[0]))
        }
        if entries.count == 1, fm.fileExists(atPath: url.appendingPathComponent(entries[0]).path, isDirectory: &isDirectory),
           isDirectory.boolValue {
            return try source(at: url.appendingPathComponent(entries[0]).path, namedBy: origin)
        }
        let found = checkpoints.isEmpty ? "no checkpoint" : "\(checkpoints.count) checkpoints (\(checkpoints.joined(separator: ", ")))"
        throw .file("\(origin): \(path) holds no model to serve: want a model directory (config.json and "
                    + "model.safetensors) or one training checkpoint (checkpoint_best.pth, or a single .pth/.pt/.bin/"
                    + ".safetensors), found \(found)")
    }
}
