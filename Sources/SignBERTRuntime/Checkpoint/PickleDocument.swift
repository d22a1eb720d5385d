/// The result of unpickling: the root value and the heap of containers it refers to.
public struct PickleDocument: Sendable {
    public var root: PickleValue
    public var objects: [PickleObject]
    /// The PROTO opcode's version, or 0 when the pickle has none.
    public var protocolVersion: Int

    public func object(_ value: PickleValue) -> PickleObject? {
        guard case .object(let id) = value, objects.indices.contains(id.index) else { return nil }
        return objects[id.index]
    }

    public func dict(_ value: PickleValue) -> PickleDict? {
        guard case .dict(let dict)? = object(value) else { return nil }
        return dict
    }

    public func tensor(_ value: PickleValue) -> TorchTensorReference? {
        guard case .tensor(let tensor)? = object(value) else { return nil }
        return tensor
    }

    /// Items of a tuple or list, else nil.
    public func sequence(_ value: PickleValue) -> [PickleValue]? {
        switch object(value) {
        case .tuple(let items)?, .list(let items)?: return items
        default: return nil
        }
    }

    /// A short name for what a value is, for error messages ("a list", "an int").
    public func kindName(_ value: PickleValue) -> String {
        switch value {
        case .none: return "None"
        case .bool: return "a bool"
        case .int, .bigInt: return "an int"
        case .float: return "a float"
        case .string: return "a str"
        case .bytes: return "bytes"
        case .global: return "a class or function"
        case .object:
            switch object(value) {
            case .tuple?: return "a tuple"
            case .list?: return "a list"
            case .dict?: return "a dict"
            case .set?: return "a set"
            case .storage?: return "a storage"
            case .tensor?: return "a tensor"
            case .numpyDType?: return "a numpy dtype"
            case .numpyScalar?: return "a numpy scalar"
            case .opaque(let text)?: return text
            case nil: return "an unknown object"
            }
        }
    }
}
