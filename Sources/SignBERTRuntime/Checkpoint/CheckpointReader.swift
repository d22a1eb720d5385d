public import Foundation

/// The one entry point for loading model weights: picks the reader by the file's content, not
/// its name. Every error it throws is a `CheckpointError`.
public enum CheckpointReader {
    public static func read(_ url: URL) throws -> StateDict {
        let file = try CheckpointFile(url)
        let head = try file.read(offset: 0, count: CheckpointFormat.headLength)
        switch CheckpointFormat.detect(head: head, pathExtension: url.pathExtension) {
        case .torchZip:
            return try TorchCheckpointReader.read(url)
        case .safetensors:
            return try SafeTensorsReader.read(url)
        case .legacyTorch:
            throw CheckpointError(path: url.path, kind: .legacyTorchFormat)
        case .plainPickle:
            throw CheckpointError(path: url.path, kind: .plainPickle)
        case .unknown:
            throw CheckpointError(path: url.path, kind: .notACheckpoint)
        }
    }
}
