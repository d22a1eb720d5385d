/// How the unpickler reads allow-listed globals: REDUCE, NEWOBJ, BUILD and persistent ids are
/// interpreted as the plain data they would produce. Nothing is imported or called.
extension Unpickler {
    func resolve(module: String, name: String) throws(UnpicklingError) -> PickleGlobal {
        guard let global = PickleGlobal(module: module, name: name) else {
            // Bounded so a megabyte-long name cannot become a megabyte-long error line.
            throw .refusedGlobal(String("\(module).\(name)".prefix(200)))
        }
        return global
    }

    /// What calling an allow-listed global would produce, built as data.
    mutating func call(_ callable: PickleValue, arguments: [PickleValue]) throws(UnpicklingError)
        -> PickleValue
    {
        guard case .global(let global) = callable else {
            throw .malformed("call of \(kindName(callable)), not a class or function", offset: opcodeStart)
        }
        switch global {
        case .rebuildTensorV2, .rebuildTensor:
            return newObject(.tensor(try tensorReference(arguments)))
        case .rebuildParameter, .rebuildParameterWithState:
            guard let data = arguments.first, let id = objectID(data), case .tensor = objects[id] else {
                throw .malformed("_rebuild_parameter of something that is not a tensor", offset: opcodeStart)
            }
            return data
        case .orderedDict:
            guard let pairs = arguments.first else { return newObject(.dict(PickleDict())) }
            guard let id = objectID(pairs), case .list(let items) = objects[id] else {
                throw .malformed("OrderedDict of something that is not a list of pairs", offset: opcodeStart)
            }
            var dict = PickleDict()
            for item in items {
                guard let pairID = objectID(item), case .tuple(let pair) = objects[pairID], pair.count == 2 else {
                    throw .malformed("OrderedDict item is not a pair", offset: opcodeStart)
                }
                dict.set(pair[1], for: pair[0])
            }
            return newObject(.dict(dict))
        case .numpyDType:
            guard case .string(let code)? = arguments.first else {
                throw .malformed("numpy.dtype without a type code", offset: opcodeStart)
            }
            return newObject(.numpyDType(NumpyDType(code: code, byteOrder: "=")))
        case .numpyScalar:
            guard arguments.count == 2, let id = objectID(arguments[0]), case .numpyDType(let dtype) = objects[id],
                  case .bytes(let bytes) = arguments[1]
            else { throw .malformed("numpy scalar that is not (dtype, bytes)", offset: opcodeStart) }
            return newObject(.numpyScalar(NumpyScalar(dtype: dtype, bytes: bytes)))
        case .codecsEncode:
            return .bytes(try encode(arguments))
        case .bytes, .bytearray:
            if arguments.isEmpty { return .bytes([]) }
            if case .bytes(let bytes) = arguments[0] { return .bytes(bytes) }
            if arguments.count == 2, case .string = arguments[0] { return .bytes(try encode(arguments)) }
            guard let id = objectID(arguments[0]), case .list(let items) = objects[id] else {
                throw .malformed("bytes() of an unsupported argument", offset: opcodeStart)
            }
            var bytes: [UInt8] = []
            for item in items {
                guard case .int(let value) = item, let byte = UInt8(exactly: value) else {
                    throw .malformed("bytes() item out of range", offset: opcodeStart)
                }
                bytes.append(byte)
            }
            return .bytes(bytes)
        case .set, .frozenset:
            var members: [PickleValue] = []
            if let source = arguments.first {
                guard let id = objectID(source) else {
                    throw .malformed("set() of something that is not iterable", offset: opcodeStart)
                }
                switch objects[id] {
                case .list(let items), .tuple(let items), .set(let items, _): members = items
                default: throw .malformed("set() of something that is not iterable", offset: opcodeStart)
                }
            }
            return newObject(.set(members, frozen: global == .frozenset))
        case .torchVersion:
            guard case .string(let version)? = arguments.first else {
                throw .malformed("TorchVersion without a version string", offset: opcodeStart)
            }
            return .string(version)
        case .torchDevice:
            let text = arguments.compactMap { value -> String? in
                switch value {
                case .string(let text): return text
                case .int(let number): return String(number)
                default: return nil
                }
            }.joined(separator: ":")
            return newObject(.opaque("torch.device('\(text.prefix(40))')"))
        case .slice:
            return newObject(.opaque("a slice"))
        case .complex:
            return newObject(.opaque("a complex number"))
        case .storageType(let dtype):
            throw .malformed("call of the storage class for \(dtype.rawValue)", offset: opcodeStart)
        case .torchDType(let dtype):
            throw .malformed("call of torch.\(dtype.rawValue)", offset: opcodeStart)
        }
    }

    /// `_codecs.encode(text, encoding)`: how protocol 2 writes Python 3 bytes.
    func encode(_ arguments: [PickleValue]) throws(UnpicklingError) -> [UInt8] {
        guard case .string(let text)? = arguments.first else {
            throw .malformed("_codecs.encode of something that is not a str", offset: opcodeStart)
        }
        var encoding = "utf-8"
        if arguments.count > 1 {
            guard case .string(let name) = arguments[1] else {
                throw .malformed("_codecs.encode with a non-string encoding", offset: opcodeStart)
            }
            encoding = name.lowercased()
        }
        switch encoding {
        case "latin1", "latin-1", "iso-8859-1", "iso8859-1":
            var bytes: [UInt8] = []
            bytes.reserveCapacity(text.unicodeScalars.count)
            for scalar in text.unicodeScalars {
                guard let byte = UInt8(exactly: scalar.value) else {
                    throw .malformed("_codecs.encode: character beyond latin-1", offset: opcodeStart)
                }
                bytes.append(byte)
            }
            return bytes
        case "utf-8", "utf8":
            return Array(text.utf8)
        default:
            throw .malformed("_codecs.encode with encoding '\(encoding.prefix(40))'", offset: opcodeStart)
        }
    }

    /// `(storage, storage_offset, size, stride, ...)`; the rest (requires_grad, hooks,
    /// metadata) does not change the values.
    func tensorReference(_ arguments: [PickleValue]) throws(UnpicklingError) -> TorchTensorReference {
        func ints(_ value: PickleValue) -> [Int]? {
            guard let id = objectID(value) else { return nil }
            switch objects[id] {
            case .tuple(let items), .list(let items):
                var result: [Int] = []
                for item in items {
                    guard case .int(let number) = item, let exact = Int(exactly: number) else { return nil }
                    result.append(exact)
                }
                return result
            default:
                return nil
            }
        }
        guard arguments.count >= 4, let storageID = objectID(arguments[0]),
              case .storage(let storage) = objects[storageID],
              case .int(let offset) = arguments[1], let storageOffset = Int(exactly: offset), storageOffset >= 0,
              let shape = ints(arguments[2]), let stride = ints(arguments[3]), shape.count == stride.count,
              shape.allSatisfy({ $0 >= 0 })
        else {
            throw .malformed("_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, ...)",
                             offset: opcodeStart)
        }
        return TorchTensorReference(storage: storage, storageOffset: storageOffset, shape: shape, stride: stride)
    }

    /// torch.save's persistent id: `('storage', storage_type, key, location, numel)`.
    mutating func persistentLoad(_ pid: PickleValue) throws(UnpicklingError) -> PickleValue {
        guard let id = objectID(pid), case .tuple(let items) = objects[id], items.count == 5,
              case .string("storage") = items[0]
        else { throw .malformed("persistent id is not a torch storage tuple", offset: opcodeStart) }
        let dtype: TorchDType
        switch items[1] {
        case .global(.storageType(let storageDType)), .global(.torchDType(let storageDType)): dtype = storageDType
        default: throw .malformed("persistent id names no storage type", offset: opcodeStart)
        }
        let key: String
        switch items[2] {
        case .string(let text): key = text
        case .int(let number): key = String(number)
        default: throw .malformed("persistent id has no storage key", offset: opcodeStart)
        }
        guard case .string(let location) = items[3], case .int(let numel) = items[4],
              let count = Int(exactly: numel), count >= 0
        else { throw .malformed("persistent id has no location or element count", offset: opcodeStart) }
        return newObject(.storage(TorchStorageReference(dtype: dtype, key: key, location: location,
                                                        elementCount: count)))
    }

    /// BUILD sets an object's state. Only states that carry no behaviour are accepted.
    mutating func build(_ target: PickleValue, state: PickleValue) throws(UnpicklingError) {
        guard let id = objectID(target) else {
            throw .malformed("BUILD on \(kindName(target))", offset: opcodeStart)
        }
        switch objects[id] {
        case .numpyDType(var dtype):
            // numpy's state: (version, byteorder, subarray, names, fields, elsize, alignment, flags)
            guard let stateID = objectID(state), case .tuple(let items) = objects[stateID], items.count >= 2,
                  case .string(let order) = items[1]
            else { throw .malformed("numpy.dtype state is not a tuple with a byte order", offset: opcodeStart) }
            dtype.byteOrder = order
            objects[id] = .numpyDType(dtype)
        case .dict, .tensor, .opaque:
            // Attributes on an OrderedDict (torch's `_metadata`) or a parameter: nothing to keep.
            break
        default:
            throw .malformed("BUILD on \(kindName(target))", offset: opcodeStart)
        }
    }
}
