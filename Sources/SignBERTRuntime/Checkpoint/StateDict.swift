import Foundation

/// One tensor of a checkpoint, converted to float32 once at load.
public struct Tensor: Sendable, Equatable {
    /// Row-major shape, as PyTorch reports it (`[out, in]` for a Linear weight).
    public var shape: [Int]
    /// `shape.reduce(1, *)` values, row-major.
    public var values: [Float]
    /// The dtype the file stored ("F32", "F16", "BF16", ...), for `inspect`.
    public var storedDType: String

    public init(shape: [Int], values: [Float], storedDType: String = "F32") {
        self.shape = shape
        self.values = values
        self.storedDType = storedDType
    }

    public var count: Int { shape.reduce(1, *) }
}

/// The model's tensors as a checkpoint file holds them, with what was left aside.
public struct StateDict: Sendable {
    /// Tensors by key, a `module.` or `_orig_mod.` prefix already stripped.
    public var tensors: [String: Tensor]
    /// The keys in the order the file saved them.
    public var order: [String]
    /// "pytorch" (torch.save zip archive) or "safetensors".
    public var format: String
    /// Top-level entries of a training-run dict that were not read (`optimizer_state_dict`, ...).
    public var ignoredEntries: [String]
    /// Plain values worth showing (`epoch`, `best_val_acc`, safetensors `__metadata__`), as text.
    public var metadata: [String: String]

    public init(tensors: [String: Tensor], order: [String], format: String,
                ignoredEntries: [String] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.order = order
        self.format = format
        self.ignoredEntries = ignoredEntries
        self.metadata = metadata
    }
}
