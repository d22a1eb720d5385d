import Foundation
import JSONText

/// What `signbert inspect` prints and `GET /` answers: architecture, size, cost, classes, provenance.
public struct ModelDescription: Sendable {
    public let loaded: LoadedModel

    public init(_ loaded: LoadedModel) { self.loaded = loaded }

    public var gflopsPerClip: Double { loaded.config.flopsPerClip / 1e9 }

    /// `extra` fields (server version, model name, ...) go first, as raw JSON values. With `fileNamesOnly`
    /// (what the server answers to anyone), the model's files are named without their directories: a client
    /// has no use for the server's file-system layout.
    public func json(extra: [(key: String, rawValue: String)] = [], fileNamesOnly: Bool = false) -> [UInt8] {
        let c = loaded.config
        func shown(_ path: String) -> String { fileNamesOnly ? URL(fileURLWithPath: path).lastPathComponent : path }
        var out = JSONWriter()
        out.raw("{")
        for (key, value) in extra {
            out.string(key)
            out.raw(":\(value),")
        }
        out.raw("\"architecture\":{\"name\":\"\(c.variant.name)\",\"num_joints\":\(c.numJoints),\"num_coords\":\(c.numCoords),")
        out.raw("\"num_frames\":\(c.numFrames),\"embed_dim\":\(c.embedDim),\"depth\":\(c.depth),\"num_heads\":\(c.numHeads),")
        out.raw("\"mlp_ratio\":")
        out.number(c.mlpRatio)
        out.raw(",\"num_classes\":\(c.numClasses)")
        if let flags = c.variant.v2Flags {
            out.raw(",\"use_cls_token\":\(flags.useClsToken),\"normalize_skeleton\":\(flags.normalizeSkeleton)")
            out.raw(",\"use_velocity\":\(flags.useVelocity),\"use_bone\":\(flags.useBone)")
        }
        out.raw(",\"tokens_per_clip\":\(c.maxTokens)},")
        let p = loaded.preparation
        out.raw("\"input_shape\":{\"clip\":[\(p.frames),\(c.numJoints),\(c.numCoords)],\"flat\":[\(p.frames),\(c.inputFeatures)]},")
        // What the server does to a clip before the model (spec steps 1-5), and why.
        out.raw("\"clip_preparation\":{\"frames\":\(p.frames),\"frames_source\":")
        out.string(p.framesSource)
        out.raw(",\"preprocessing\":")
        out.string(p.centre.rawValue)
        out.raw(",\"preprocessing_commit\":")
        out.string(p.centre.commit)
        out.raw(",\"preprocessing_source\":")
        out.string(p.centreSource)
        out.raw("},")
        out.raw("\"parameters\":\(c.parameterCount),\"gflop_per_clip\":")
        out.number((gflopsPerClip * 1000).rounded() / 1000)
        out.raw(",\"labels\":[")
        for (i, label) in loaded.labels.enumerated() {
            if i > 0 { out.raw(",") }
            out.string(label)
        }
        out.raw("],\"checkpoint\":{\"path\":")
        out.string(shown(loaded.checkpointPath))
        out.raw(",\"format\":")
        out.string(loaded.checkpointFormat)
        out.raw(",\"stored_dtypes\":{")
        for (i, (dtype, count)) in loaded.storedDTypes.sorted(by: { $0.key < $1.key }).enumerated() {
            if i > 0 { out.raw(",") }
            out.string(dtype)
            out.raw(":\(count)")
        }
        out.raw("},\"config\":")
        if let path = loaded.configPath { out.string(shown(path)) } else { out.raw("null") }
        out.raw(",\"labels\":")
        if let path = loaded.labelsPath { out.string(shown(path)) } else { out.raw("null") }
        out.raw(",\"ignored_entries\":")
        stringArray(loaded.ignoredEntries, &out)
        out.raw(",\"unexpected_keys\":")
        stringArray(loaded.unexpectedKeys, &out)
        out.raw(",\"assumed_defaults\":")
        stringArray(loaded.assumedDefaults, &out)
        out.raw(",\"warnings\":")
        stringArray(loaded.warnings, &out)
        out.raw(",\"metadata\":{")
        for (i, (key, value)) in loaded.metadata.sorted(by: { $0.key < $1.key }).enumerated() {
            if i > 0 { out.raw(",") }
            out.string(key)
            out.raw(":")
            out.string(value)
        }
        out.raw("}}}")
        return out.bytes
    }

    public func text() -> String {
        let c = loaded.config
        var lines = [
            "checkpoint:   \(loaded.checkpointPath) (\(loaded.checkpointFormat))",
            "config:       \(loaded.configPath ?? "none (shapes and defaults)")",
            "labels:       \(loaded.labelsPath ?? "none (class_0 ... class_\(c.numClasses - 1))")",
            "architecture: \(variantText): \(c.depth) blocks, embed_dim \(c.embedDim), \(c.numHeads) heads "
                + "(head_dim \(c.headDim)), mlp_ratio \(c.mlpRatio), \(c.numClasses) classes, \(c.maxTokens) tokens per clip",
            "input:        [\(loaded.preparation.frames) frames][\(c.numJoints) joints][\(c.numCoords) coords] "
                + "or [\(loaded.preparation.frames)][\(c.inputFeatures)]",
            "clip length:  \(loaded.preparation.frames) frames (\(loaded.preparation.framesSource)): arrays are centre-cropped "
                + "or their last frame repeated to it, as the training loader did",
            "preprocess:   \(loaded.preparation.centre.rawValue)-centred landmarks, commit \(loaded.preparation.centre.commit) "
                + "(\(loaded.preparation.centreSource))",
            "parameters:   \(c.parameterCount) (\(String(format: "%.2f", Double(c.parameterCount) / 1e6)) M)",
            "cost:         \(String(format: "%.3f", gflopsPerClip)) GFLOP per clip",
            "dtypes:       " + loaded.storedDTypes.sorted(by: { $0.key < $1.key }).map { "\($0.key) x\($0.value)" }
                .joined(separator: ", "),
            "classes:      " + loaded.labels.enumerated().map { "\($0.offset)=\($0.element)" }.joined(separator: " "),
        ]
        if let warning = assumptionWarning {
            lines.append("assumed:      \(warning)")
        }
        for warning in loaded.warnings {
            lines.append("warning:      \(warning)")
        }
        if !loaded.ignoredEntries.isEmpty {
            lines.append("ignored:      \(loaded.ignoredEntries.joined(separator: ", ")) (not read)")
        }
        if !loaded.unexpectedKeys.isEmpty {
            lines.append("unexpected:   \(loaded.unexpectedKeys.joined(separator: ", ")) (not used by the model)")
        }
        for (key, value) in loaded.metadata.sorted(by: { $0.key < $1.key }) {
            lines.append("metadata:     \(key) = \(value)")
        }
        return lines.joined(separator: "\n")
    }

    /// "SignBERT v1", or "SignBERT v2 (use_cls_token=true ...)".
    var variantText: String {
        guard let flags = loaded.config.variant.v2Flags else { return "SignBERT v1" }
        return "SignBERT v2 (\(flags.summary))"
    }

    /// A sentence for what was assumed, or nil when every hyper-parameter was given or read.
    public var assumptionWarning: String? {
        guard !loaded.assumedDefaults.isEmpty else { return nil }
        let c = loaded.config
        let flags = c.variant.v2Flags
        let values = loaded.assumedDefaults.map { name in
            switch name {
            case "num_heads": return "num_heads = \(c.numHeads)"
            case "num_coords": return "num_coords = \(c.numCoords)"
            case "normalize_skeleton": return "normalize_skeleton = \(flags?.normalizeSkeleton ?? true)"
            case "use_velocity/use_bone":
                return "use_velocity = \(flags?.useVelocity ?? true), use_bone = \(flags?.useBone ?? true)"
            default: return "\(name) = \(c.numJoints) x \(c.numCoords)"
            }
        }
        return values.joined(separator: ", ") + " (the training code's defaults: the checkpoint cannot tell; "
            + "give the training run's config.yaml or the flags if they differ, or the logits will be wrong)"
    }

    private func stringArray(_ values: [String], _ out: inout JSONWriter) {
        out.raw("[")
        for (i, value) in values.enumerated() {
            if i > 0 { out.raw(",") }
            out.string(value)
        }
        out.raw("]")
    }
}
