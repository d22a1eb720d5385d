public import Foundation

/// What a model repository directory (`serve --model-repository DIR`) holds, read from disk without loading
/// anything: each `DIR/NAME/` is one model, either a model itself (a model directory, or a training run's files)
/// served as version 1, or numbered version folders `DIR/NAME/1/`, `DIR/NAME/2/` of either (Triton's layout).
public enum ModelRepositoryLayout {
    /// One model of the repository: its versions' sources, or why none can be served.
    public struct Entry: Sendable {
        public var name: String
        /// Version number → where it is; empty when `problem` says why.
        public var versions: [Int: ModelSource]
        /// A version folder (or the model itself) that holds no model, one line each; the model's other versions
        /// are still served.
        public var problems: [String]
    }

    /// Names must be usable as a path segment of the V1/V2 routes.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128 && name != "." && name != ".."
            && name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || "0123456789-_.".unicodeScalars.contains($0) }
    }

    /// Every model folder of `directory`, sorted by name (hidden entries and plain files are skipped).
    public static func scan(_ directory: URL) throws(ModelLoadError) -> [Entry] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .file("the model repository \(directory.path) is not a directory")
        }
        let names = ((try? fm.contentsOfDirectory(atPath: directory.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        return names.compactMap { name in
            let folder = directory.appendingPathComponent(name)
            guard fm.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
            return entry(name: name, folder: folder)
        }
    }

    /// One model folder: numbered sub-folders are its versions; otherwise the folder itself is version 1.
    public static func entry(name: String, folder: URL) -> Entry {
        guard isValidName(name) else {
            return Entry(name: name, versions: [:], problems: [
                "\(folder.path): the model name \"\(name)\" must be at most 128 letters, digits, '-', '_' or '.'"])
        }
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let children = ((try? fm.contentsOfDirectory(atPath: folder.path)) ?? []).filter { !$0.hasPrefix(".") }
        let numbered = children.compactMap { child -> Int? in
            guard let number = Int(child), number > 0, String(number) == child,
                  fm.fileExists(atPath: folder.appendingPathComponent(child).path, isDirectory: &isDirectory),
                  isDirectory.boolValue else { return nil }
            return number
        }
        var entry = Entry(name: name, versions: [:], problems: [])
        if numbered.isEmpty {
            do { entry.versions[1] = try PlatformModelPath.source(at: folder.path, namedBy: "model \(name)") } catch {
                entry.problems.append(error.description)
            }
            return entry
        }
        for number in numbered.sorted() {
            let path = folder.appendingPathComponent(String(number)).path
            do { entry.versions[number] = try PlatformModelPath.source(at: path, namedBy: "model \(name) version \(number)") } catch {
                entry.problems.append(error.description)
            }
        }
        return entry
    }
}
