/// Bounds on what a pickle may make the unpickler hold. Everything else it builds is at most
/// proportional to the input's length, because every opcode consumes input.
public struct UnpicklerLimits: Sendable {
    /// Open MARKs at once: the nesting depth of containers being built.
    public var maxMarkDepth: Int = 10_000
    /// Values on the stack at once.
    public var maxStackDepth: Int = 4_000_000
    /// Memo entries.
    public var maxMemoEntries: Int = 4_000_000

    public init() {}
}

/// A pickle VM for protocols 0 to 5 that never executes anything. Globals resolve only to the
/// allow-list in `PickleGlobal`; REDUCE, NEWOBJ and BUILD on them are interpreted as data.
/// It runs in a loop over the input with no recursion, so no input can exhaust the call stack.
public struct Unpickler {
    private let input: [UInt8]
    let limits: UnpicklerLimits
    var position = 0
    /// Where the opcode being run starts, for error messages.
    var opcodeStart = 0
    var stack: [PickleValue] = []
    /// Stack heights at each open MARK.
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]
    var objects: [PickleObject] = []
    var protocolVersion = 0

    public static func unpickle(_ bytes: [UInt8], limits: UnpicklerLimits = UnpicklerLimits()) throws(UnpicklingError)
        -> PickleDocument
    {
        var machine = Unpickler(input: bytes, limits: limits)
        return try machine.run()
    }

    private init(input: [UInt8], limits: UnpicklerLimits) {
        self.input = input
        self.limits = limits
    }

    // MARK: - The loop

    mutating func run() throws(UnpicklingError) -> PickleDocument {
        while true {
            opcodeStart = position
            let opcode = try readByte()
            if opcode == Op.stop {
                let root = try pop()
                return PickleDocument(root: root, objects: objects, protocolVersion: protocolVersion)
            }
            try step(opcode)
        }
    }

    private enum Op {
        static let stop = UInt8(ascii: ".")
    }

    // One opcode. The byte values are pickle's own (see CPython's pickletools for the table).
    mutating func step(_ opcode: UInt8) throws(UnpicklingError) {
        switch opcode {
        // Framing and protocol
        case 0x80:  // PROTO
            let version = Int(try readByte())
            guard version <= 5 else { throw .unsupportedProtocol(version) }
            protocolVersion = version
        case 0x95:  // FRAME: a length hint only; the data follows inline.
            let length = try readUInt64()
            guard length <= UInt64(input.count - position) else { throw .truncated(offset: opcodeStart) }

        // Stack and marks
        case UInt8(ascii: "("):  // MARK
            guard marks.count < limits.maxMarkDepth else {
                throw .limitExceeded("containers nested deeper than \(limits.maxMarkDepth)", offset: opcodeStart)
            }
            marks.append(stack.count)
        case UInt8(ascii: "0"):  // POP: an empty frame pops its mark instead, as CPython does
            if stack.count == (marks.last ?? 0), !marks.isEmpty {
                _ = try popMark()
            } else {
                _ = try pop()
            }
        case UInt8(ascii: "1"):  // POP_MARK
            _ = try popMark()
        case UInt8(ascii: "2"):  // DUP
            try push(try top())

        // Constants and numbers
        case UInt8(ascii: "N"): try push(.none)
        case 0x88: try push(.bool(true))  // NEWTRUE
        case 0x89: try push(.bool(false))  // NEWFALSE
        case UInt8(ascii: "K"): try push(.int(Int64(try readByte())))  // BININT1
        case UInt8(ascii: "M"): try push(.int(Int64(try readUInt16())))  // BININT2
        case UInt8(ascii: "J"): try push(.int(Int64(Int32(bitPattern: try readUInt32()))))  // BININT
        case 0x8A:  // LONG1
            let count = Int(try readByte())
            try push(Self.integer(littleEndian: try readBytes(count)))
        case 0x8B:  // LONG4
            let count = Int32(bitPattern: try readUInt32())
            guard count >= 0 else { throw .malformed("negative LONG4 length", offset: opcodeStart) }
            try push(Self.integer(littleEndian: try readBytes(Int(count))))
        case UInt8(ascii: "G"):  // BINFLOAT, big-endian
            let bits = try readBytes(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            try push(.float(Double(bitPattern: bits)))
        case UInt8(ascii: "I"):  // INT (text); "00"/"01" are protocol 0's False/True
            let line = try readLine()
            if line == "00" { try push(.bool(false)) } else if line == "01" { try push(.bool(true)) } else {
                try push(try parseDecimal(line))
            }
        case UInt8(ascii: "L"):  // LONG (text)
            var line = try readLine()
            if line.hasSuffix("L") { line.removeLast() }
            try push(try parseDecimal(line))
        case UInt8(ascii: "F"):  // FLOAT (text)
            let line = try readLine()
            guard let number = Double(Self.trimmingSpaces(line)) else {
                throw .malformed("FLOAT operand '\(line.prefix(40))' is not a number", offset: opcodeStart)
            }
            try push(.float(number))

        // Strings and bytes
        case UInt8(ascii: "X"):  // BINUNICODE
            try push(.string(try utf8(try readBytes(Int(try readUInt32())))))
        case 0x8C:  // SHORT_BINUNICODE
            try push(.string(try utf8(try readBytes(Int(try readByte())))))
        case 0x8D:  // BINUNICODE8
            try push(.string(try utf8(try readBytes(try length64()))))
        case UInt8(ascii: "V"):  // UNICODE (raw-unicode-escape text)
            try push(.string(try rawUnicodeEscape(try readLineBytes())))
        case UInt8(ascii: "T"):  // BINSTRING: Python 2 str, decoded as latin-1
            let count = Int32(bitPattern: try readUInt32())
            guard count >= 0 else { throw .malformed("negative BINSTRING length", offset: opcodeStart) }
            try push(.string(Self.latin1(try readBytes(Int(count)))))
        case UInt8(ascii: "U"):  // SHORT_BINSTRING
            try push(.string(Self.latin1(try readBytes(Int(try readByte())))))
        case UInt8(ascii: "S"):  // STRING (quoted text)
            try push(.string(Self.latin1(try quotedString(try readLineBytes()))))
        case UInt8(ascii: "B"):  // BINBYTES
            try push(.bytes(try readBytes(Int(try readUInt32()))))
        case UInt8(ascii: "C"):  // SHORT_BINBYTES
            try push(.bytes(try readBytes(Int(try readByte()))))
        case 0x8E, 0x96:  // BINBYTES8, BYTEARRAY8
            try push(.bytes(try readBytes(try length64())))

        // Containers
        case UInt8(ascii: ")"): try push(newObject(.tuple([])))  // EMPTY_TUPLE
        case 0x85: try push(newObject(.tuple(try popMany(1))))  // TUPLE1
        case 0x86: try push(newObject(.tuple(try popMany(2))))  // TUPLE2
        case 0x87: try push(newObject(.tuple(try popMany(3))))  // TUPLE3
        case UInt8(ascii: "t"): try push(newObject(.tuple(try popMark())))  // TUPLE
        case UInt8(ascii: "]"): try push(newObject(.list([])))  // EMPTY_LIST
        case UInt8(ascii: "l"): try push(newObject(.list(try popMark())))  // LIST
        case UInt8(ascii: "}"): try push(newObject(.dict(PickleDict())))  // EMPTY_DICT
        case UInt8(ascii: "d"):  // DICT
            let items = try popMark()
            try push(newObject(.dict(try makeDict(items))))
        case 0x8F: try push(newObject(.set([], frozen: false)))  // EMPTY_SET
        case 0x91: try push(newObject(.set(try popMark(), frozen: true)))  // FROZENSET
        case UInt8(ascii: "a"):  // APPEND
            let item = try pop()
            try appendToList([item])
        case UInt8(ascii: "e"):  // APPENDS
            try appendToList(try popMark())
        case UInt8(ascii: "s"):  // SETITEM
            let value = try pop()
            let key = try pop()
            try setItems([key, value])
        case UInt8(ascii: "u"):  // SETITEMS
            try setItems(try popMark())
        case 0x90:  // ADDITEMS
            try addToSet(try popMark())

        // Memo
        case UInt8(ascii: "p"):  // PUT
            try memoize(at: try parseIndex(try readLine()))
        case UInt8(ascii: "q"): try memoize(at: Int(try readByte()))  // BINPUT
        case UInt8(ascii: "r"): try memoize(at: Int(try readUInt32()))  // LONG_BINPUT
        case 0x94: try memoize(at: memo.count)  // MEMOIZE
        case UInt8(ascii: "g"): try push(try recall(try parseIndex(try readLine())))  // GET
        case UInt8(ascii: "h"): try push(try recall(Int(try readByte())))  // BINGET
        case UInt8(ascii: "j"): try push(try recall(Int(try readUInt32())))  // LONG_BINGET

        // Globals and object building: data only, never a call
        case UInt8(ascii: "c"):  // GLOBAL
            let module = try readLine()
            let name = try readLine()
            try push(.global(try resolve(module: module, name: name)))
        case 0x93:  // STACK_GLOBAL
            let nameValue = try pop()
            let moduleValue = try pop()
            guard case .string(let module) = moduleValue, case .string(let name) = nameValue else {
                throw .malformed("STACK_GLOBAL needs two strings", offset: opcodeStart)
            }
            try push(.global(try resolve(module: module, name: name)))
        case UInt8(ascii: "R"):  // REDUCE
            let arguments = try pop()
            let callable = try pop()
            try push(try call(callable, arguments: try tupleItems(arguments, role: "REDUCE arguments")))
        case 0x81:  // NEWOBJ
            let arguments = try pop()
            let cls = try pop()
            try push(try call(cls, arguments: try tupleItems(arguments, role: "NEWOBJ arguments")))
        case 0x92:  // NEWOBJ_EX
            let keywords = try pop()
            let arguments = try pop()
            let cls = try pop()
            guard let kwargs = dictValue(keywords), kwargs.count == 0 else {
                throw .malformed("NEWOBJ_EX with keyword arguments", offset: opcodeStart)
            }
            try push(try call(cls, arguments: try tupleItems(arguments, role: "NEWOBJ_EX arguments")))
        case UInt8(ascii: "i"):  // INST: protocol 0's class + arguments from the mark
            let module = try readLine()
            let name = try readLine()
            let cls = PickleValue.global(try resolve(module: module, name: name))
            try push(try call(cls, arguments: try popMark()))
        case UInt8(ascii: "o"):  // OBJ: class and arguments from the mark
            var items = try popMark()
            guard !items.isEmpty else { throw .malformed("OBJ without a class", offset: opcodeStart) }
            let cls = items.removeFirst()
            try push(try call(cls, arguments: items))
        case UInt8(ascii: "b"):  // BUILD
            let state = try pop()
            try build(try top(), state: state)
        case UInt8(ascii: "Q"):  // BINPERSID
            let pid = try pop()
            try push(try persistentLoad(pid))
        case UInt8(ascii: "P"):  // PERSID: a text id, which torch.save never writes
            let line = try readLine()
            throw .malformed("persistent id '\(line.prefix(40))' is not a torch storage", offset: opcodeStart)

        // Real opcodes a checkpoint has no business using
        case 0x82, 0x83, 0x84:
            throw .unsupportedOpcode("EXT1/EXT2/EXT4 (copyreg extension registry)", offset: opcodeStart)
        case 0x97:
            throw .unsupportedOpcode("NEXT_BUFFER (out-of-band buffer)", offset: opcodeStart)
        case 0x98:
            throw .unsupportedOpcode("READONLY_BUFFER (out-of-band buffer)", offset: opcodeStart)
        default:
            throw .unknownOpcode(opcode, offset: opcodeStart)
        }
    }

    // MARK: - Input

    mutating func readByte() throws(UnpicklingError) -> UInt8 {
        guard position < input.count else { throw .truncated(offset: position) }
        defer { position += 1 }
        return input[position]
    }

    /// `count` bytes, checked against what is left before anything is allocated.
    mutating func readBytes(_ count: Int) throws(UnpicklingError) -> [UInt8] {
        guard count >= 0, count <= input.count - position else { throw .truncated(offset: opcodeStart) }
        defer { position += count }
        return Array(input[position..<position + count])
    }

    mutating func readUInt16() throws(UnpicklingError) -> UInt16 {
        let bytes = try readBytes(2)
        return UInt16(bytes[0]) | UInt16(bytes[1]) << 8
    }

    mutating func readUInt32() throws(UnpicklingError) -> UInt32 {
        let bytes = try readBytes(4)
        return bytes.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    mutating func readUInt64() throws(UnpicklingError) -> UInt64 {
        let bytes = try readBytes(8)
        return bytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// An 8-byte length, checked before it becomes an Int.
    mutating func length64() throws(UnpicklingError) -> Int {
        let length = try readUInt64()
        guard length <= UInt64(input.count - position) else { throw .truncated(offset: opcodeStart) }
        return Int(length)
    }

    mutating func readLineBytes() throws(UnpicklingError) -> [UInt8] {
        guard let end = input[position...].firstIndex(of: UInt8(ascii: "\n")) else {
            throw .truncated(offset: opcodeStart)
        }
        defer { position = end + 1 }
        return Array(input[position..<end])
    }

    mutating func readLine() throws(UnpicklingError) -> String {
        var bytes = try readLineBytes()
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return try utf8(bytes)
    }

    func utf8(_ bytes: [UInt8]) throws(UnpicklingError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .malformed("string is not valid UTF-8", offset: opcodeStart)
        }
        return text
    }

    // MARK: - Stack

    mutating func push(_ value: PickleValue) throws(UnpicklingError) {
        guard stack.count < limits.maxStackDepth else {
            throw .limitExceeded("more than \(limits.maxStackDepth) values on the stack", offset: opcodeStart)
        }
        stack.append(value)
    }

    /// Pops within the current mark frame: a value below the last MARK is not reachable.
    mutating func pop() throws(UnpicklingError) -> PickleValue {
        guard stack.count > (marks.last ?? 0) else {
            throw .malformed("stack underflow", offset: opcodeStart)
        }
        return stack.removeLast()
    }

    func top() throws(UnpicklingError) -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.last else {
            throw .malformed("stack underflow", offset: opcodeStart)
        }
        return value
    }

    mutating func popMany(_ count: Int) throws(UnpicklingError) -> [PickleValue] {
        guard stack.count - (marks.last ?? 0) >= count else {
            throw .malformed("stack underflow", offset: opcodeStart)
        }
        defer { stack.removeLast(count) }
        return Array(stack.suffix(count))
    }

    mutating func popMark() throws(UnpicklingError) -> [PickleValue] {
        guard let mark = marks.popLast() else { throw .malformed("no MARK to pop to", offset: opcodeStart) }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    // MARK: - Memo

    mutating func memoize(at index: Int) throws(UnpicklingError) {
        let value = try top()
        if memo[index] == nil, memo.count >= limits.maxMemoEntries {
            throw .limitExceeded("more than \(limits.maxMemoEntries) memo entries", offset: opcodeStart)
        }
        memo[index] = value
    }

    func recall(_ index: Int) throws(UnpicklingError) -> PickleValue {
        guard let value = memo[index] else {
            throw .malformed("memo entry \(index) was never stored", offset: opcodeStart)
        }
        return value
    }

    // MARK: - Containers

    mutating func newObject(_ object: PickleObject) -> PickleValue {
        objects.append(object)
        return .object(PickleObjectID(index: objects.count - 1))
    }

    func objectID(_ value: PickleValue) -> Int? {
        guard case .object(let id) = value else { return nil }
        return id.index
    }

    func dictValue(_ value: PickleValue) -> PickleDict? {
        guard let id = objectID(value), case .dict(let dict) = objects[id] else { return nil }
        return dict
    }

    func tupleItems(_ value: PickleValue, role: String) throws(UnpicklingError) -> [PickleValue] {
        guard let id = objectID(value), case .tuple(let items) = objects[id] else {
            throw .malformed("\(role) are not a tuple", offset: opcodeStart)
        }
        return items
    }

    func makeDict(_ items: [PickleValue]) throws(UnpicklingError) -> PickleDict {
        guard items.count % 2 == 0 else { throw .malformed("odd number of dict items", offset: opcodeStart) }
        var dict = PickleDict()
        for pair in stride(from: 0, to: items.count, by: 2) { dict.set(items[pair + 1], for: items[pair]) }
        return dict
    }

    // Each mutator takes the container out of the heap while it changes it, so the array is
    // uniquely referenced and grows in place rather than being copied per item.

    mutating func appendToList(_ items: [PickleValue]) throws(UnpicklingError) {
        guard let id = objectID(try top()), case .list(var list) = objects[id] else {
            throw .malformed("APPEND target is not a list", offset: opcodeStart)
        }
        objects[id] = .opaque("")
        list.append(contentsOf: items)
        objects[id] = .list(list)
    }

    mutating func setItems(_ items: [PickleValue]) throws(UnpicklingError) {
        guard items.count % 2 == 0 else { throw .malformed("odd number of dict items", offset: opcodeStart) }
        guard let id = objectID(try top()), case .dict(var dict) = objects[id] else {
            throw .malformed("SETITEM target is not a dict", offset: opcodeStart)
        }
        objects[id] = .opaque("")
        for pair in stride(from: 0, to: items.count, by: 2) { dict.set(items[pair + 1], for: items[pair]) }
        objects[id] = .dict(dict)
    }

    mutating func addToSet(_ items: [PickleValue]) throws(UnpicklingError) {
        guard let id = objectID(try top()), case .set(var members, frozen: false) = objects[id] else {
            throw .malformed("ADDITEMS target is not a set", offset: opcodeStart)
        }
        objects[id] = .opaque("")
        members.append(contentsOf: items)
        objects[id] = .set(members, frozen: false)
    }

    func kindName(_ value: PickleValue) -> String {
        PickleDocument(root: .none, objects: objects, protocolVersion: protocolVersion).kindName(value)
    }
}
