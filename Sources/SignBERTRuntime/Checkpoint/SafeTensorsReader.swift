public import Foundation

/// Reads a `.safetensors` file: memory-mapped, header validated first, then every tensor
/// converted to Float once. `__metadata__` becomes `StateDict.metadata`; keys keep the file's
/// data order and lose a `module.` / `_orig_mod.` prefix as torch files do.
public enum SafeTensorsReader {
    public static func read(_ url: URL) throws -> StateDict {
        _ = try CheckpointFile(url)  // one-line errors for a missing file or a directory
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw CheckpointError(path: url.path, kind: .unreadable(error.fileErrorDescription))
        }
        return try read(data: data, path: url.path)
    }

    /// A safetensors file already in memory (the bytes-level entry the fuzz targets use); `path` only
    /// names it in errors.
    public static func read(data: Data, path: String = "<memory>") throws(CheckpointError) -> StateDict {
        do {
            return try parse(data)
        } catch let kind {
            throw CheckpointError(path: path, kind: kind)
        }
    }

    static func parse(_ data: Data) throws(CheckpointError.Kind) -> StateDict {
        let result: Result<StateDict, CheckpointError.Kind> = data.withUnsafeBytes { bytes in
            do throws(CheckpointError.Kind) {
                let header = try SafeTensorsHeader(file: bytes)
                var tensors: [String: Tensor] = [:]
                var order: [String] = []
                for entry in header.entries {
                    let values = ElementConversion.floats(from: bytes, byteOffset: header.dataStart + entry.begin,
                                                          count: entry.elementCount, dtype: entry.dtype)
                    tensors[entry.name] = Tensor(shape: entry.shape, values: values,
                                                 storedDType: entry.dtype.safetensorsName)
                    order.append(entry.name)
                }
                return .success(StateDict(tensors: tensors, order: order, format: "safetensors",
                                          metadata: header.metadata))
            } catch {
                return .failure(error)
            }
        }
        var stateDict = try result.get()
        stripWrapperPrefixes(&stateDict)
        return stateDict
    }

    private static func stripWrapperPrefixes(_ stateDict: inout StateDict) {
        var changed = true
        while changed, !stateDict.order.isEmpty {
            changed = false
            for prefix in TorchStateDictSelection.wrapperPrefixes
            where stateDict.order.allSatisfy({ $0.hasPrefix(prefix) }) {
                let renamed = stateDict.order.map { String($0.dropFirst(prefix.count)) }
                var tensors: [String: Tensor] = [:]
                for (old, new) in zip(stateDict.order, renamed) { tensors[new] = stateDict.tensors[old] }
                stateDict.order = renamed
                stateDict.tensors = tensors
                changed = true
            }
        }
    }
}
