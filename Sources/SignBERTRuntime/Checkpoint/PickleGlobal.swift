/// The only Python globals a checkpoint may name. Each is interpreted by the unpickler as plain
/// data; none is ever imported or called. Everything else is refused by name.
public enum PickleGlobal: Hashable, Sendable {
    case rebuildTensorV2            // torch._utils._rebuild_tensor_v2
    case rebuildTensor              // torch._utils._rebuild_tensor (older writers)
    case rebuildParameter           // torch._utils._rebuild_parameter
    case rebuildParameterWithState  // torch._utils._rebuild_parameter_with_state
    case storageType(TorchDType)    // torch.FloatStorage, ..., torch.UntypedStorage
    case torchDType(TorchDType)     // torch.float32, ... as plain values
    case torchDevice                // torch.device('cpu')
    case torchVersion               // torch.torch_version.TorchVersion, a str subclass
    case orderedDict                // collections.OrderedDict
    case numpyScalar                // numpy.core.multiarray.scalar / numpy._core.multiarray.scalar
    case numpyDType                 // numpy.dtype
    case codecsEncode               // _codecs.encode: how protocol 2 spells bytes
    case set, frozenset, slice, complex, bytes, bytearray  // builtins

    /// Resolves `module.name`, or nil when it is not on the allow-list.
    public init?(module: String, name: String) {
        // Protocol 2 writes Python 3's `builtins` under its Python 2 name.
        let module = module == "__builtin__" ? "builtins" : module
        switch (module, name) {
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor"): self = .rebuildTensor
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): self = .rebuildParameterWithState
        case ("torch", "device"): self = .torchDevice
        case ("torch.torch_version", "TorchVersion"): self = .torchVersion
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"): self = .numpyScalar
        case ("numpy", "dtype"): self = .numpyDType
        case ("_codecs", "encode"): self = .codecsEncode
        case ("builtins", "set"): self = .set
        case ("builtins", "frozenset"): self = .frozenset
        case ("builtins", "slice"): self = .slice
        case ("builtins", "complex"): self = .complex
        case ("builtins", "bytes"): self = .bytes
        case ("builtins", "bytearray"): self = .bytearray
        case ("torch", _), ("torch.storage", _):
            if let dtype = TorchDType(storageClassName: name) {
                self = .storageType(dtype)
            } else if module == "torch", let dtype = TorchDType(torchAttributeName: name) {
                self = .torchDType(dtype)
            } else {
                return nil
            }
        default:
            return nil
        }
    }
}
