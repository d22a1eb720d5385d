public import Foundation

/// Class names in class-id order, from the training repo's `label_mapping.json` or a `labels.txt`.
public enum LabelFile {
    public static func load(from url: URL) throws(ModelLoadError) -> [String] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .labels("cannot read labels \(url.path): \(error.fileErrorDescription)")
        }
        if url.pathExtension.lowercased() == "json" { return try parseLabelMapping(data, source: url.path) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .labels("\(url.path) is not UTF-8 text (expected one label per line)")
        }
        return parseLines(text)
    }

    /// One label per line; surrounding blanks trimmed, trailing empty lines dropped.
    public static func parseLines(_ text: String) -> [String] {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        return lines
    }

    /// `{"label_to_folder": {"0": "ban", ...}, ...}`: ids must be exactly 0..<n.
    public static func parseLabelMapping(_ data: Data, source: String) throws(ModelLoadError) -> [String] {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let mapping = object["label_to_folder"] as? [String: Any] else {
            throw .labels("\(source) has no `label_to_folder` object (expected the training repo's label_mapping.json)")
        }
        var labels = [String?](repeating: nil, count: mapping.count)
        for (key, value) in mapping {
            guard let id = Int(key), id >= 0, id < mapping.count else {
                throw .labels("\(source): label id \"\(key)\" is not in 0..<\(mapping.count)")
            }
            guard let name = value as? String else { throw .labels("\(source): label \(key) is not a string") }
            labels[id] = name
        }
        return labels.enumerated().map { $0.element ?? "class_\($0.offset)" }
    }
}
