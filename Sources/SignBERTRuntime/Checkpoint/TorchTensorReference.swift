/// A storage as a torch.save persistent id names it: archive member `data/<key>`.
public struct TorchStorageReference: Hashable, Sendable {
    public var dtype: TorchDType
    public var key: String
    public var location: String
    /// Element count the pickle declares; checked against the member's size before use.
    public var elementCount: Int
}

/// A tensor as `_rebuild_tensor_v2(storage, offset, size, stride, ...)` describes it. Building it
/// reads nothing: only the tensors of the chosen state dict are ever materialized.
public struct TorchTensorReference: Hashable, Sendable {
    public var storage: TorchStorageReference
    /// In elements, not bytes.
    public var storageOffset: Int
    public var shape: [Int]
    public var stride: [Int]

    /// Element count, or nil when the product overflows Int.
    public var elementCount: Int? {
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            if overflow { return nil }
            count = product
        }
        return count
    }

    /// Whether the elements are laid out row-major without gaps. Dims of size 1 may carry any
    /// stride (PyTorch leaves them arbitrary), and an empty tensor is trivially contiguous.
    public var isContiguous: Bool {
        guard let count = elementCount else { return false }
        if count == 0 { return true }
        var expected = 1
        for axis in shape.indices.reversed() {
            let dim = shape[axis]
            if dim != 1 && stride[axis] != expected { return false }
            expected *= dim  // cannot overflow: bounded by `count`
        }
        return true
    }
}
