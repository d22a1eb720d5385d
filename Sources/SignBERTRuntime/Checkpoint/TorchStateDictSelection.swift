/// Finds the model's tensors in an unpickled torch.save document, the way the training code's
/// own loader does: `model_state_dict`, else `state_dict`, else `model`, else the dict itself.
struct TorchStateDictSelection {
    var tensors: [(name: String, reference: TorchTensorReference)] = []
    var ignoredEntries: [String] = []
    var metadata: [String: String] = [:]

    /// Wrapper keys holding the state dict, in the order they are tried.
    static let wrapperKeys = ["model_state_dict", "state_dict", "model"]
    /// Prefixes that wrappers add to every key: DataParallel and torch.compile.
    static let wrapperPrefixes = ["module.", "_orig_mod."]
    /// Longest metadata text kept; a checkpoint can hold arbitrarily long strings.
    static let maxMetadataLength = 500

    static func select(from document: PickleDocument) throws(CheckpointError.Kind) -> TorchStateDictSelection {
        guard let root = document.dict(document.root) else {
            throw .noStateDict("the checkpoint holds \(document.kindName(document.root)), not a dict")
        }
        var selection = TorchStateDictSelection()
        var chosen: (key: String?, dict: PickleDict)?
        for key in wrapperKeys {
            if let value = root[string: key], let inner = document.dict(value), hasTensor(inner, document) {
                chosen = (key, inner)
                break
            }
        }
        if chosen == nil, hasTensor(root, document) {
            chosen = (nil, root)
        }
        guard let (chosenKey, stateDict) = chosen else {
            let keys = root.keys.prefix(12).map { keyText($0) }.joined(separator: ", ")
            throw .noStateDict("no tensors under model_state_dict, state_dict or model, nor at the top level"
                + " (top-level keys: \(keys.isEmpty ? "none" : keys))")
        }

        for (key, value) in stateDict.entries {
            if case .string(let name) = key, let tensor = document.tensor(value) {
                selection.tensors.append((name, tensor))
            } else if let chosenKey {
                selection.ignoredEntries.append("\(chosenKey).\(keyText(key))")
            } else {
                selection.record(key: key, value: value, document: document)
            }
        }
        if let chosenKey {
            for (key, value) in root.entries where key != .string(chosenKey) {
                selection.record(key: key, value: value, document: document)
            }
        }
        selection.stripWrapperPrefixes()
        return selection
    }

    private static func hasTensor(_ dict: PickleDict, _ document: PickleDocument) -> Bool {
        dict.values.contains { document.tensor($0) != nil }
    }

    private static func keyText(_ key: PickleValue) -> String {
        switch key {
        case .string(let text): return String(text.prefix(100))
        case .int(let number): return String(number)
        default: return "<non-string key>"
        }
    }

    /// Plain scalars become metadata text; anything else is only named as ignored.
    private mutating func record(key: PickleValue, value: PickleValue, document: PickleDocument) {
        let name = Self.keyText(key)
        if case .string = key, var text = value.scalarText(in: document) {
            if text.count > Self.maxMetadataLength { text = String(text.prefix(Self.maxMetadataLength)) + "..." }
            metadata[name] = text
        } else {
            ignoredEntries.append(name)
        }
    }

    /// Strips `module.` / `_orig_mod.` when every key carries it (both may be stacked).
    private mutating func stripWrapperPrefixes() {
        var changed = true
        while changed, !tensors.isEmpty {
            changed = false
            for prefix in Self.wrapperPrefixes where tensors.allSatisfy({ $0.name.hasPrefix(prefix) }) {
                tensors = tensors.map { (String($0.name.dropFirst(prefix.count)), $0.reference) }
                changed = true
            }
        }
    }
}
