/// Why a model could not be assembled from its files. Each description is one line, fit for `error: ...`.
public enum ModelLoadError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(String)
    case contradiction(parameter: String, checkpoint: String, other: String, source: String)
    case stateDictMismatch(missing: [String], mismatched: [String], architecture: String = "SignBERT v1")
    case labels(String)
    case file(String)
    /// A v2 flag stated in config.yaml disagrees with a tensor's shape: names the flag and the shape.
    case flagContradiction(flag: String, stated: Bool, shape: String, source: String)

    public var description: String {
        switch self {
        case .invalidConfig(let message):
            return "invalid model configuration: \(message)"
        case .contradiction(let parameter, let checkpoint, let other, let source):
            return "\(source) says \(parameter) = \(other) but the checkpoint's tensors say \(parameter) = \(checkpoint)"
        case .stateDictMismatch(let missing, let mismatched, let architecture):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing keys: \(missing.joined(separator: ", "))") }
            if !mismatched.isEmpty { parts.append("wrong shapes: \(mismatched.joined(separator: "; "))") }
            return "checkpoint does not fit \(architecture): " + parts.joined(separator: "; ")
        case .flagContradiction(let flag, let stated, let shape, let source):
            return "\(source) says \(flag) = \(stated) but the checkpoint's tensors say otherwise: \(shape)"
        case .labels(let message):
            return message
        case .file(let message):
            return message
        }
    }
}
