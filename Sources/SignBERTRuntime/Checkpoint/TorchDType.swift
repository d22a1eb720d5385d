/// Element types a checkpoint can declare, with their byte sizes and names in both formats.
public enum TorchDType: String, Hashable, Sendable, CaseIterable {
    case float64, float32, float16, bfloat16
    case int64, int32, int16, int8, uint8, bool
    case complex64, complex128

    public var itemSize: Int {
        switch self {
        case .float64, .int64, .complex64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        case .complex128: return 16
        }
    }

    /// The safetensors spelling, also what `Tensor.storedDType` records.
    public var safetensorsName: String {
        switch self {
        case .float64: return "F64"
        case .float32: return "F32"
        case .float16: return "F16"
        case .bfloat16: return "BF16"
        case .int64: return "I64"
        case .int32: return "I32"
        case .int16: return "I16"
        case .int8: return "I8"
        case .uint8: return "U8"
        case .bool: return "BOOL"
        case .complex64: return "C64"
        case .complex128: return "C128"
        }
    }

    /// Whether the value converts to Float without losing its meaning (complex does not).
    public var convertsToFloat: Bool {
        self != .complex64 && self != .complex128
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float64, .float32, .float16, .bfloat16: return true
        default: return false
        }
    }

    /// `FloatStorage` -> float32, as torch.save names a tensor's storage class.
    init?(storageClassName name: String) {
        switch name {
        case "DoubleStorage": self = .float64
        case "FloatStorage": self = .float32
        case "HalfStorage": self = .float16
        case "BFloat16Storage": self = .bfloat16
        case "LongStorage": self = .int64
        case "IntStorage": self = .int32
        case "ShortStorage": self = .int16
        case "CharStorage": self = .int8
        case "ByteStorage", "UntypedStorage": self = .uint8
        case "BoolStorage": self = .bool
        case "ComplexFloatStorage": self = .complex64
        case "ComplexDoubleStorage": self = .complex128
        default: return nil
        }
    }

    /// `torch.float32` and its aliases (`torch.float`, `torch.half`, ...).
    init?(torchAttributeName name: String) {
        switch name {
        case "float64", "double": self = .float64
        case "float32", "float": self = .float32
        case "float16", "half": self = .float16
        case "bfloat16": self = .bfloat16
        case "int64", "long": self = .int64
        case "int32", "int": self = .int32
        case "int16", "short": self = .int16
        case "int8": self = .int8
        case "uint8": self = .uint8
        case "bool": self = .bool
        case "complex64", "cfloat": self = .complex64
        case "complex128", "cdouble": self = .complex128
        default: return nil
        }
    }

    /// The safetensors spelling (`F32`, ...).
    init?(safetensorsName name: String) {
        guard let match = TorchDType.allCases.first(where: { $0.safetensorsName == name }) else { return nil }
        self = match
    }
}
