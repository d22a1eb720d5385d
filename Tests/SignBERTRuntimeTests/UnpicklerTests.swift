import Foundation
import XCTest
@testable import SignBERTRuntime

/// Hand-built pickles, one opcode family at a time, and hostile ones.
final class UnpicklerTests: XCTestCase {

    // MARK: - Building pickles by hand

    /// Opcode bytes and operands, little-endian where pickle is.
    private struct P {
        var bytes: [UInt8] = []
        init(proto: UInt8? = 2) { if let proto { bytes = [0x80, proto] } }
        mutating func op(_ code: UInt8, _ operand: [UInt8] = []) { bytes.append(code); bytes += operand }
        mutating func op(_ code: Character, _ operand: [UInt8] = []) { op(code.asciiValue ?? 0, operand) }
        mutating func text(_ code: Character, _ line: String) { op(code, Array(line.utf8) + [10]) }
        mutating func str(_ text: String) { op("X", le32(UInt32(text.utf8.count)) + Array(text.utf8)) }
        mutating func int(_ value: UInt8) { op("K", [value]) }
        mutating func global(_ module: String, _ name: String) { op("c", Array("\(module)\n\(name)\n".utf8)) }
        mutating func stop() { op(".") }
        func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        static func le64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    }

    private func load(_ pickle: P) throws -> PickleDocument {
        try Unpickler.unpickle(pickle.bytes)
    }

    private func loadRoot(_ build: (inout P) -> Void) throws -> (PickleDocument, PickleValue) {
        var pickle = P()
        build(&pickle)
        pickle.stop()
        let document = try load(pickle)
        return (document, document.root)
    }

    private func expectError(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line,
                             _ check: (UnpicklingError) -> Bool)
    {
        do {
            _ = try Unpickler.unpickle(bytes)
            XCTFail("expected an error", file: file, line: line)
        } catch {
            XCTAssertTrue(check(error), "unexpected error: \(error)", file: file, line: line)
        }
    }

    // MARK: - Scalars

    func testIntegerOpcodes() throws {
        func value(_ build: (inout P) -> Void) throws -> PickleValue { try loadRoot(build).1 }
        XCTAssertEqual(try value { $0.op("K", [200]) }, .int(200))
        XCTAssertEqual(try value { $0.op("M", [0x34, 0x12]) }, .int(0x1234))
        XCTAssertEqual(try value { $0.op("J", [0xFE, 0xFF, 0xFF, 0xFF]) }, .int(-2))
        XCTAssertEqual(try value { $0.op(0x8A, [0]) }, .int(0))
        XCTAssertEqual(try value { $0.op(0x8A, [2, 0x00, 0x80]) }, .int(-32768))
        XCTAssertEqual(try value { $0.op(0x8A, [9] + [UInt8](repeating: 0xFF, count: 9)) }, .int(-1))
        // torch's legacy magic number: 10 bytes, beyond Int64.
        let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
        XCTAssertEqual(try value { $0.op(0x8A, [10] + magic) },
                       .bigInt(PickleBigInt(littleEndianBytes: magic, decimal: nil)))
        XCTAssertEqual(try value { $0.op(0x8B, [3, 0, 0, 0, 1, 0, 0]) }, .int(1))
        XCTAssertEqual(try value { $0.text("I", "-42") }, .int(-42))
        XCTAssertEqual(try value { $0.text("I", "01") }, .bool(true))
        XCTAssertEqual(try value { $0.text("I", "00") }, .bool(false))
        XCTAssertEqual(try value { $0.text("L", "123L") }, .int(123))
        XCTAssertEqual(try value { $0.text("L", "-123456789012345678901234567890L") },
                       .bigInt(PickleBigInt(littleEndianBytes: [], decimal: "-123456789012345678901234567890")))
        XCTAssertEqual(try value { $0.op(0x88) }, .bool(true))
        XCTAssertEqual(try value { $0.op(0x89) }, .bool(false))
        XCTAssertEqual(try value { $0.op("N") }, PickleValue.none)
        expectError([0x80, 2, UInt8(ascii: "I")] + Array("12x\n.".utf8)) {
            if case .malformed = $0 { return true } else { return false }
        }
        expectError([0x80, 2, 0x8B, 0xFF, 0xFF, 0xFF, 0xFF, UInt8(ascii: ".")]) {
            if case .malformed = $0 { return true } else { return false }
        }
    }

    func testFloatOpcodes() throws {
        let bits = (0.8125).bitPattern
        let bigEndian = (0..<8).map { UInt8(truncatingIfNeeded: bits >> (56 - 8 * UInt64($0))) }
        XCTAssertEqual(try loadRoot { $0.op("G", bigEndian) }.1, .float(0.8125))
        XCTAssertEqual(try loadRoot { $0.text("F", "1.5") }.1, .float(1.5))
        XCTAssertEqual(try loadRoot { $0.text("F", "-inf") }.1, .float(-.infinity))
        XCTAssertEqual(try loadRoot { $0.text("F", "1e-08") }.1, .float(1e-08))
    }

    func testStringAndBytesOpcodes() throws {
        func value(_ build: (inout P) -> Void) throws -> PickleValue { try loadRoot(build).1 }
        XCTAssertEqual(try value { $0.str("héllo") }, .string("héllo"))
        XCTAssertEqual(try value { $0.op(0x8C, [2] + Array("ab".utf8)) }, .string("ab"))
        XCTAssertEqual(try value { $0.op(0x8D, P.le64(3) + Array("abc".utf8)) }, .string("abc"))
        XCTAssertEqual(try value { $0.text("V", "caf\\u00e9 \\U0001F600") }, .string("café 😀"))
        XCTAssertEqual(try value { $0.op("T", [2, 0, 0, 0, 0x61, 0xE9]) }, .string("aé"))
        XCTAssertEqual(try value { $0.op("U", [1, 0x7A]) }, .string("z"))
        XCTAssertEqual(try value { $0.text("S", "'a\\nb\\x41'") }, .string("a\nbA"))
        XCTAssertEqual(try value { $0.op("B", [2, 0, 0, 0, 1, 2]) }, .bytes([1, 2]))
        XCTAssertEqual(try value { $0.op("C", [1, 9]) }, .bytes([9]))
        XCTAssertEqual(try value { $0.op(0x8E, P.le64(1) + [7]) }, .bytes([7]))
        XCTAssertEqual(try value { $0.op(0x96, P.le64(2) + [7, 8]) }, .bytes([7, 8]))
        // Protocol 2's bytes: _codecs.encode('\x00\xff', 'latin1')
        XCTAssertEqual(try value {
            $0.global("_codecs", "encode"); $0.str("\u{0}\u{FF}"); $0.str("latin1"); $0.op(0x86); $0.op("R")
        }, .bytes([0, 255]))
        // Empty bytes under protocol 2: __builtin__.bytes()
        XCTAssertEqual(try value { $0.global("__builtin__", "bytes"); $0.op(")"); $0.op("R") }, .bytes([]))
        expectError([0x80, 2, UInt8(ascii: "X"), 2, 0, 0, 0, 0xC3, 0x28, UInt8(ascii: ".")]) {
            if case .malformed = $0 { return true } else { return false }
        }
    }

    // MARK: - Containers

    func testTupleOpcodes() throws {
        let (document, root) = try loadRoot {
            $0.op("(")
            $0.op(")")                       // ()
            $0.int(1); $0.op(0x85)            // (1,)
            $0.int(1); $0.int(2); $0.op(0x86)  // (1, 2)
            $0.int(1); $0.int(2); $0.int(3); $0.op(0x87)
            $0.op("t")
        }
        let items = try XCTUnwrap(document.sequence(root))
        XCTAssertEqual(items.count, 4)
        XCTAssertEqual(items.map { document.sequence($0)?.count }, [0, 1, 2, 3])
        XCTAssertEqual(document.sequence(items[3]), [.int(1), .int(2), .int(3)])
    }

    func testListOpcodes() throws {
        let (document, root) = try loadRoot {
            $0.op("(")
            $0.op("("); $0.int(1); $0.op("l")            // LIST [1]
            $0.op("]"); $0.int(2); $0.op("a")            // EMPTY_LIST + APPEND [2]
            $0.op("]"); $0.op("("); $0.int(3); $0.int(4); $0.op("e")  // APPENDS [3, 4]
            $0.op("t")
        }
        let items = try XCTUnwrap(document.sequence(root))
        XCTAssertEqual(items.map { document.sequence($0) }, [[.int(1)], [.int(2)], [.int(3), .int(4)]])
    }

    func testDictOpcodesKeepInsertionOrderAndOverwrite() throws {
        let (document, root) = try loadRoot {
            $0.op("}")
            $0.str("b"); $0.int(1); $0.op("s")
            $0.op("("); $0.str("a"); $0.int(2); $0.str("b"); $0.int(3); $0.op("u")
        }
        let dict = try XCTUnwrap(document.dict(root))
        XCTAssertEqual(dict.keys, [.string("b"), .string("a")])
        XCTAssertEqual(dict[string: "b"], .int(3))
        XCTAssertEqual(dict[string: "a"], .int(2))

        let (document2, root2) = try loadRoot { $0.op("("); $0.str("k"); $0.op("N"); $0.op("d") }
        XCTAssertEqual(document2.dict(root2)?[string: "k"], PickleValue.none)
        expectError([0x80, 2, UInt8(ascii: "("), UInt8(ascii: "K"), 1, UInt8(ascii: "d"), UInt8(ascii: ".")]) {
            if case .malformed = $0 { return true } else { return false }
        }
    }

    func testSetOpcodes() throws {
        let (document, root) = try loadRoot {
            $0.op("(")
            $0.op(0x8F); $0.op("("); $0.int(1); $0.int(2); $0.op(0x90)  // EMPTY_SET + ADDITEMS
            $0.op("("); $0.int(5); $0.op(0x91)                          // FROZENSET
            $0.global("__builtin__", "set"); $0.op("]"); $0.int(7); $0.op("a"); $0.op(0x85); $0.op("R")
            $0.op("t")
        }
        let items = try XCTUnwrap(document.sequence(root))
        guard case .set(let first, frozen: false)? = document.object(items[0]),
              case .set(let second, frozen: true)? = document.object(items[1]),
              case .set(let third, frozen: false)? = document.object(items[2])
        else { return XCTFail("expected three sets") }
        XCTAssertEqual(first, [.int(1), .int(2)])
        XCTAssertEqual(second, [.int(5)])
        XCTAssertEqual(third, [.int(7)])
    }

    // MARK: - Memo and stack

    func testMemoSharesContainersAppendedAfterMemoizing() throws {
        // The list is memoized empty and filled later; the memo must see the filled list,
        // as Python does with its shared references.
        let (document, root) = try loadRoot {
            $0.op("(")
            $0.op("]"); $0.op("q", [0])
            $0.int(1); $0.op("a")
            $0.op("h", [0])                                  // BINGET
            $0.op("r", [0xFF, 0xFF, 0xFF, 0xFF])            // LONG_BINPUT at 2^32-1
            $0.op("j", [0xFF, 0xFF, 0xFF, 0xFF])            // LONG_BINGET
            $0.str("x"); $0.op(0x94); $0.op("h", [2])       // MEMOIZE stores at len(memo), here 2
            $0.text("p", "17"); $0.text("g", "17")          // PUT / GET
            $0.op("t")
        }
        let items = try XCTUnwrap(document.sequence(root))
        XCTAssertEqual(items.count, 6)
        guard items.count == 6 else { return }
        XCTAssertEqual(items[0], items[1])
        XCTAssertEqual(items[1], items[2])
        XCTAssertEqual(document.sequence(items[2]), [.int(1)])
        XCTAssertEqual(Array(items[3...]), [.string("x"), .string("x"), .string("x")])
        expectError([0x80, 2, UInt8(ascii: "h"), 3, UInt8(ascii: ".")]) {
            if case .malformed(let why, _) = $0 { return why.contains("memo") } else { return false }
        }
    }

    func testStackOpcodes() throws {
        let (document, root) = try loadRoot {
            $0.op("(")
            $0.int(1); $0.op("2")              // DUP
            $0.int(9); $0.op("0")              // POP
            $0.op("("); $0.int(8); $0.op("1")  // POP_MARK discards 8 and its mark
            $0.op("("); $0.op("0")             // POP on an empty frame pops the mark
            $0.op("t")
        }
        XCTAssertEqual(document.sequence(root), [.int(1), .int(1)])
        // A value below the last MARK is out of reach.
        expectError([0x80, 2, UInt8(ascii: "K"), 1, UInt8(ascii: "("), UInt8(ascii: "a"), UInt8(ascii: ".")]) {
            if case .malformed(let why, _) = $0 { return why.contains("underflow") } else { return false }
        }
        expectError([0x80, 2, UInt8(ascii: "t"), UInt8(ascii: ".")]) {
            if case .malformed(let why, _) = $0 { return why.contains("MARK") } else { return false }
        }
        expectError([0x80, 2, UInt8(ascii: ".")]) {
            if case .malformed(let why, _) = $0 { return why.contains("underflow") } else { return false }
        }
    }

    func testProtocolAndFrame() throws {
        var pickle = P(proto: 4)
        pickle.op(0x95, P.le64(3))
        pickle.int(5)
        pickle.stop()
        let document = try load(pickle)
        XCTAssertEqual(document.root, .int(5))
        XCTAssertEqual(document.protocolVersion, 4)

        expectError([0x80, 6, UInt8(ascii: "N"), UInt8(ascii: ".")]) { $0 == .unsupportedProtocol(6) }
        expectError([0x80, 4, 0x95] + P.le64(1 << 40) + [UInt8(ascii: "N"), UInt8(ascii: ".")]) {
            if case .truncated = $0 { return true } else { return false }
        }
    }

    // MARK: - Torch and numpy globals

    /// `_rebuild_tensor_v2(('storage', FloatStorage, '3', 'cpu', 12) persistent, 4, (2, 3), (3, 1), False, OrderedDict())`
    private func appendTensor(_ p: inout P, stackGlobal: Bool) {
        if stackGlobal {
            p.str("torch._utils"); p.str("_rebuild_tensor_v2"); p.op(0x93)
        } else {
            p.global("torch._utils", "_rebuild_tensor_v2")
        }
        p.op("(")
        p.op("("); p.str("storage"); p.global("torch", "FloatStorage"); p.str("3"); p.str("cpu"); p.int(12); p.op("t")
        p.op("Q")
        p.int(4)
        p.int(2); p.int(3); p.op(0x86)
        p.int(3); p.int(1); p.op(0x86)
        p.op(0x89)
        p.global("collections", "OrderedDict"); p.op(")"); p.op("R")
        p.op("t")
        p.op("R")
    }

    func testRebuildTensorBuildsAReferenceWithoutReadingAnything() throws {
        for stackGlobal in [false, true] {
            let (document, root) = try loadRoot { appendTensor(&$0, stackGlobal: stackGlobal) }
            let tensor = try XCTUnwrap(document.tensor(root))
            XCTAssertEqual(tensor.storage, TorchStorageReference(dtype: .float32, key: "3", location: "cpu",
                                                                 elementCount: 12))
            XCTAssertEqual(tensor.storageOffset, 4)
            XCTAssertEqual(tensor.shape, [2, 3])
            XCTAssertEqual(tensor.stride, [3, 1])
            XCTAssertTrue(tensor.isContiguous)
        }
        // nn.Parameter wraps the same tensor.
        let (document, root) = try loadRoot {
            $0.global("torch._utils", "_rebuild_parameter"); $0.op("(")
            appendTensor(&$0, stackGlobal: false)
            $0.op(0x88); $0.global("collections", "OrderedDict"); $0.op(")"); $0.op("R"); $0.op("t"); $0.op("R")
        }
        XCTAssertEqual(document.tensor(root)?.shape, [2, 3])
    }

    func testContiguityRules() {
        let storage = TorchStorageReference(dtype: .float32, key: "0", location: "cpu", elementCount: 100)
        func ref(_ shape: [Int], _ stride: [Int]) -> TorchTensorReference {
            TorchTensorReference(storage: storage, storageOffset: 0, shape: shape, stride: stride)
        }
        XCTAssertTrue(ref([2, 3], [3, 1]).isContiguous)
        XCTAssertFalse(ref([3, 2], [1, 3]).isContiguous)  // a transpose
        XCTAssertTrue(ref([1, 4], [99, 1]).isContiguous)  // size-1 dims may carry any stride
        XCTAssertTrue(ref([], []).isContiguous)
        XCTAssertTrue(ref([0, 5], [7, 7]).isContiguous)
        XCTAssertFalse(ref([4], [2]).isContiguous)         // every other element
        XCTAssertNil(ref([1 << 40, 1 << 40], [1 << 40, 1]).elementCount)
    }

    /// numpy.dtype('f8', False, True) with BUILD state (3, byteorder, ...), then scalar(dtype, bytes).
    private func appendNumpyScalar(_ p: inout P, module: String, code: String, order: String, bytes: [UInt8]) {
        p.global(module, "scalar")
        p.global("numpy", "dtype"); p.str(code); p.op(0x89); p.op(0x88); p.op(0x87); p.op("R")
        p.op("("); p.int(3); p.str(order); p.op("N"); p.op("N"); p.op("N")
        p.op("J", [0xFF, 0xFF, 0xFF, 0xFF]); p.op("J", [0xFF, 0xFF, 0xFF, 0xFF]); p.int(0); p.op("t")
        p.op("b")
        p.op("C", [UInt8(bytes.count)] + bytes)
        p.op(0x86); p.op("R")
    }

    func testNumpyScalarsDecodeToText() throws {
        let f8 = withUnsafeBytes(of: (0.8125).bitPattern.littleEndian, Array.init)
        let cases: [(String, String, String, [UInt8], String)] = [
            ("numpy._core.multiarray", "f8", "<", f8, "0.8125"),
            ("numpy.core.multiarray", "f8", "<", f8, "0.8125"),
            ("numpy.core.multiarray", "f8", ">", f8.reversed(), "0.8125"),
            ("numpy._core.multiarray", "f4", "<", withUnsafeBytes(of: Float(0.625).bitPattern.littleEndian, Array.init),
             "0.625"),
            ("numpy._core.multiarray", "i8", "<", [0xF9, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], "-7"),
            ("numpy._core.multiarray", "b1", "|", [1], "True"),
        ]
        for (module, code, order, bytes, text) in cases {
            let (document, root) = try loadRoot {
                appendNumpyScalar(&$0, module: module, code: code, order: order, bytes: bytes)
            }
            XCTAssertEqual(root.scalarText(in: document), text, "\(module) \(code) \(order)")
        }
    }

    func testOrderedDictAcceptsTorchMetadataState() throws {
        let (document, root) = try loadRoot {
            $0.global("collections", "OrderedDict"); $0.op(")"); $0.op("R")
            $0.str("w"); $0.int(1); $0.op("s")
            $0.op("}"); $0.str("_metadata"); $0.op("}"); $0.op("s"); $0.op("b")  // BUILD: attributes
        }
        XCTAssertEqual(document.dict(root)?[string: "w"], .int(1))
    }

    func testHarmlessGlobalsBecomeData() throws {
        let (document, root) = try loadRoot {
            $0.op("(")
            $0.global("torch", "float32")
            $0.global("torch", "device"); $0.str("cpu"); $0.op(0x85); $0.op("R")
            $0.global("torch.torch_version", "TorchVersion"); $0.str("2.13.0"); $0.op(0x85); $0.op(0x81)  // NEWOBJ
            $0.global("__builtin__", "slice"); $0.int(1); $0.int(2); $0.op("N"); $0.op(0x87); $0.op("R")
            $0.op("t")
        }
        let items = try XCTUnwrap(document.sequence(root))
        XCTAssertEqual(items[0], .global(.torchDType(.float32)))
        XCTAssertEqual(document.kindName(items[1]), "torch.device('cpu')")
        XCTAssertEqual(items[2], .string("2.13.0"))
        XCTAssertEqual(document.kindName(items[3]), "a slice")
    }

    // MARK: - Hostile input

    func testRefusesOsSystemInEveryForm() {
        let sentinel = FileManager.default.temporaryDirectory.appendingPathComponent("signbert-unpickler-\(UUID())")
        let command = "touch \(sentinel.path)"
        var global = P()
        global.global("os", "system"); global.str(command); global.op(0x85); global.op("R"); global.stop()
        var stackGlobal = P(proto: 4)
        stackGlobal.str("os"); stackGlobal.str("system"); stackGlobal.op(0x93)
        stackGlobal.str(command); stackGlobal.op(0x85); stackGlobal.op("R"); stackGlobal.stop()
        // Hidden inside a state dict, the way a booby-trapped checkpoint would carry it.
        var nested = P()
        nested.op("}"); nested.str("model_state_dict")
        nested.global("posix", "system"); nested.str(command); nested.op(0x85); nested.op("R")
        nested.op("s"); nested.stop()
        var instance = P(proto: nil)
        instance.op("("); instance.str(command); instance.op("i", Array("subprocess\nPopen\n".utf8)); instance.stop()
        var evaluate = P()
        evaluate.global("__builtin__", "eval"); evaluate.str("1"); evaluate.op(0x85); evaluate.op("R"); evaluate.stop()

        for (pickle, name) in [(global, "os.system"), (stackGlobal, "os.system"), (nested, "posix.system"),
                               (instance, "subprocess.Popen"), (evaluate, "__builtin__.eval")] {
            expectError(pickle.bytes) { $0 == .refusedGlobal(name) }
            do {
                _ = try Unpickler.unpickle(pickle.bytes)
            } catch {
                XCTAssertEqual(error.description,
                               "refers to \(name), which is not a tensor or plain data; refusing to load it")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: sentinel.path))
    }

    func testRefusesUnlistedCallsOnListedNames() {
        // Allow-listed names are data; calling one as something it is not is an error, not a call.
        var storageCall = P()
        storageCall.global("torch", "FloatStorage"); storageCall.op(")"); storageCall.op("R"); storageCall.stop()
        expectError(storageCall.bytes) { if case .malformed = $0 { return true } else { return false } }
        var callString = P()
        callString.str("os.system"); callString.op(")"); callString.op("R"); callString.stop()
        expectError(callString.bytes) { if case .malformed = $0 { return true } else { return false } }
        var buildList = P()
        buildList.op("]"); buildList.op("}"); buildList.op("b"); buildList.stop()
        expectError(buildList.bytes) { if case .malformed = $0 { return true } else { return false } }
    }

    func testRefusedOpcodes() {
        for (opcode, name) in [(UInt8(0x82), "EXT1"), (0x97, "NEXT_BUFFER"), (0x98, "READONLY_BUFFER")] {
            expectError([0x80, 5, opcode, 1, UInt8(ascii: ".")]) {
                if case .unsupportedOpcode(let text, _) = $0 { return text.contains(name) } else { return false }
            }
        }
        expectError([0x80, 2, 0xFF]) { $0 == .unknownOpcode(0xFF, offset: 2) }
        expectError([0x80, 2] + Array("P0\n.".utf8)) {
            if case .malformed(let why, _) = $0 { return why.contains("persistent id") } else { return false }
        }
        // A persistent id that is not torch's storage tuple.
        var pid = P()
        pid.str("storage"); pid.op(0x85); pid.op("Q"); pid.stop()
        expectError(pid.bytes) { if case .malformed = $0 { return true } else { return false } }
    }

    func testEveryTruncationFailsCleanly() throws {
        var pickle = P()
        pickle.op("}"); pickle.str("model_state_dict")
        appendTensor(&pickle, stackGlobal: false)
        pickle.op("s"); pickle.str("acc")
        appendNumpyScalar(&pickle, module: "numpy._core.multiarray", code: "f8", order: "<", bytes: [0, 0, 0, 0, 0, 0, 0xE0, 0x3F])
        pickle.op("s"); pickle.stop()
        XCTAssertNoThrow(try load(pickle))
        for length in 0..<pickle.bytes.count {
            XCTAssertThrowsError(try Unpickler.unpickle(Array(pickle.bytes.prefix(length))), "prefix \(length)")
        }
    }

    func testLengthsBeyondTheInputAreRejectedBeforeAllocating() {
        let stop = UInt8(ascii: ".")
        let cases: [[UInt8]] = [
            [0x80, 2, UInt8(ascii: "X"), 0xFF, 0xFF, 0xFF, 0xFF, stop],
            [0x80, 4, 0x8D] + P.le64(UInt64(1) << 62) + [stop],
            [0x80, 4, 0x8E] + P.le64(.max) + [stop],
            [0x80, 2, UInt8(ascii: "B"), 0xFF, 0xFF, 0xFF, 0x7F, stop],
            [0x80, 2, 0x8B, 0xFF, 0xFF, 0xFF, 0x7F, stop],
            [0x80, 2, UInt8(ascii: "c")] + Array("os".utf8),  // GLOBAL line never ends
        ]
        for bytes in cases {
            expectError(bytes) { if case .truncated = $0 { return true } else { return false } }
        }
    }

    func testDeepNestingIsBoundedOrFlat() throws {
        // A million MARKs: refused at the nesting limit.
        expectError([0x80, 2] + [UInt8](repeating: UInt8(ascii: "("), count: 1_000_000)) {
            if case .limitExceeded = $0 { return true } else { return false }
        }
        // A million nested tuples and lists: built and dropped without recursion.
        var tuples = P()
        tuples.op(")")
        tuples.bytes += [UInt8](repeating: 0x85, count: 1_000_000)
        tuples.stop()
        let document = try load(tuples)
        XCTAssertEqual(document.objects.count, 1_000_001)

        var lists = P()
        lists.bytes += [UInt8](repeating: UInt8(ascii: "]"), count: 500_000)
        lists.bytes += [UInt8](repeating: UInt8(ascii: "a"), count: 499_999)
        lists.stop()
        XCTAssertEqual(try load(lists).objects.count, 500_000)

        var small = UnpicklerLimits()
        small.maxStackDepth = 100
        expectError2(try Unpickler.unpickle([0x80, 2, UInt8(ascii: "N")] + [UInt8](repeating: UInt8(ascii: "2"), count: 200),
                                            limits: small))
    }

    private func expectError2<T>(_ expression: @autoclosure () throws -> T, file: StaticString = #filePath,
                                 line: UInt = #line)
    {
        XCTAssertThrowsError(try expression(), file: file, line: line) { error in
            guard case .limitExceeded? = error as? UnpicklingError else {
                return XCTFail("expected limitExceeded, got \(error)", file: file, line: line)
            }
        }
    }

    func testRandomCorruptionNeverCrashes() throws {
        var pickle = P(proto: 4)
        pickle.op("}"); pickle.op(0x94); pickle.str("model_state_dict"); pickle.op(0x94)
        appendTensor(&pickle, stackGlobal: true)
        pickle.op("s"); pickle.str("acc")
        appendNumpyScalar(&pickle, module: "numpy._core.multiarray", code: "f8", order: "<", bytes: [0, 0, 0, 0, 0, 0, 0xE0, 0x3F])
        pickle.op("s"); pickle.stop()
        // A fixed-seed generator, so a failure reproduces.
        var state: UInt64 = 0x9E3779B97F4A7C15
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var failures = 0
        for _ in 0..<3000 {
            var bytes = pickle.bytes
            for _ in 0..<(1 + next() % 4) {
                bytes[next() % bytes.count] = UInt8(truncatingIfNeeded: next())
            }
            do { _ = try Unpickler.unpickle(bytes) } catch { failures += 1 }
        }
        XCTAssertGreaterThan(failures, 0)
    }
}
