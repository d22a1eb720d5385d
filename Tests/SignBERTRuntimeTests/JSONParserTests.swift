import Foundation
import SignBERTRuntime
import WireFormats
import XCTest

final class JSONParserTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Data(text.utf8)) }

    func testScalarsObjectsAndStrings() throws {
        let value = try parse(#" {"a": [true, false, null], "b": "x\"y\u00e9\ud83d\ude00", "c": -1.5e2, "d": {}} "#)
        XCTAssertEqual(value["a"], .array([.bool(true), .bool(false), .null]))
        XCTAssertEqual(value["b"], .string("x\"yé😀"))
        XCTAssertEqual(value["c"], .number(-150))
        XCTAssertEqual(value["d"], .object([]))
    }

    func testRectangularNumberArraysBecomeTensors() throws {
        XCTAssertEqual(try parse("[[1,2,3],[4,5,6]]"), .tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]))
        XCTAssertEqual(try parse("[ [ [0.5] ] ]"), .tensor(shape: [1, 1, 1], values: [0.5]))
        // Ragged or mixed arrays stay general arrays.
        XCTAssertEqual(try parse("[[1,2],[3]]"), .array([.tensor(shape: [2], values: [1, 2]), .tensor(shape: [1], values: [3])]))
        XCTAssertEqual(try parse("[1,\"a\"]"), .array([.number(1), .string("a")]))
        XCTAssertEqual(try parse("[]"), .array([]))
    }

    func testNumbersAreCorrectlyRounded() throws {
        for text in ["0.1", "123456.789", "-0.000123", "1e-7", "3.4028234663852886e38", "2.2250738585072014e-308",
                     "0.30000000000000004", "12345678901234567890", "1.7976931348623157e308", "9007199254740993"] {
            XCTAssertEqual(try parse(text), .number(Double(text)!), text)
        }
    }

    func testMalformedInputIsRejectedWithPosition() {
        for text in ["", "{", "[1,]", "{\"a\":1,}", "NaN", "Infinity", "[01]", "1.", "-", "\"abc", "[1 2]",
                     "{\"a\" 1}", "tru", "\"\\x\"", "\"\\ud800\"", "{} x", "[1e]", "\"\u{01}\""] {
            XCTAssertThrowsError(try parse(text), "accepted \(text)") { error in
                XCTAssertTrue(String(describing: error).hasPrefix("invalid JSON at byte"), "\(error)")
            }
        }
    }

    func testNestingIsBounded() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertThrowsError(try parse(deep))
        let deepObjects = String(repeating: "{\"a\":", count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        XCTAssertThrowsError(try parse(deepObjects))
        XCTAssertNoThrow(try parse(String(repeating: "[", count: 60) + String(repeating: "]", count: 60)))
    }

    // MARK: Memory bound

    /// Documents whose parsed form would be many times their size (issue 15: 781 KB of `[[0],[0],...,"x"]`
    /// took 767 MB) are refused once they pass the bound, and the process's peak RSS grows by little.
    func testHostileDocumentsAreRefusedWithinTheMemoryBound() throws {
        func repeated(_ item: String, _ count: Int) -> String { Array(repeating: item, count: count).joined(separator: ",") }
        var bombs: [String] = []
        bombs.append("{\"inputs\": [" + repeated("[0]", 195_000) + ",\"x\"]}")
        bombs.append("[" + repeated("0", 390_000) + ",\"x\"]")
        bombs.append("[" + repeated("{}", 260_000) + "]")
        bombs.append("[" + repeated("[[],[0]]", 90_000) + "]")
        bombs.append("[" + repeated("\"abcdefghijklmnop\"", 40_000) + "]")
        for (index, bomb) in bombs.enumerated() {
            let bytes = Array(bomb.utf8)
            try resetPeakRSS()
            let before = try memoryField("VmRSS")
            let parserBound: Int = JSONParser.memoryBytesPerInputByte * bytes.count + JSONParser.memoryAllowance
            do {
                let value = try JSONParser.parse(bytes)
                // Valid JSON may be accepted, but only within the bound.
                XCTAssertGreaterThan(index, 1, "the classic bombs must be refused")
                XCTAssertLessThanOrEqual(value.structureBytes, parserBound)
            } catch {
                XCTAssertTrue("\(error)".contains("bytes of memory per byte of JSON"), "\(error)")
            }
            let growth = try memoryField("VmHWM") - before
            // The parser's bound, with room for malloc's rounding and an array's buffer while it grows.
            let bound: Int = 2 * parserBound + 2 * 1024 * 1024
            XCTAssertLessThan(growth, bound, "\(bytes.count) bytes of \(bomb.prefix(20))...: peak RSS +\(growth / 1024) KB")
        }
    }

    /// What the bound must let through: rectangular number arrays, even of the shortest numbers, and the
    /// structures requests use; their parsed structure stays within the bound.
    func testOrdinaryDocumentsFitTheBound() throws {
        func repeated(_ item: String, _ count: Int) -> String { Array(repeating: item, count: count).joined(separator: ",") }
        let row: String = "[" + repeated("0", 81) + "]"
        let zeros: String = "[" + repeated(row, 2000) + "]"
        let clip: String = "{\"inputs\": [" + repeated(zeros, 2) + "], \"top_k\": 5}"
        let pose: String = repeated("[0.51,0.42,-0.1,0.99]", 33)
        let hand: String = repeated("[0.5,0.4,0.1]", 21)
        let frame: String = "{\"pose\": [" + pose + "], \"left_hand\": null, \"right_hand\": [" + hand + "]}"
        let landmarks: String = "{\"inputs\": [{\"image_width\": 640, \"image_height\": 480, \"frames\": [" + repeated(frame, 300) + "]}]}"
        // The object form of landmarks at its shortest: the densest structure per byte that requests use.
        let landmark: String = "{\"x\":0,\"y\":0,\"z\":0,\"visibility\":0}"
        let objectFrame: String = "{\"pose\": [" + repeated(landmark, 33) + "], \"left_hand\": [" + repeated(landmark, 21) + "]}"
        let objects: String = "{\"inputs\": [{\"image_width\": 640, \"image_height\": 480, \"frames\": [" + repeated(objectFrame, 300) + "]}]}"
        for text in [zeros, clip, landmarks, objects] {
            let bytes = Array(text.utf8)
            let value = try JSONParser.parse(bytes)
            let bound: Int = JSONParser.memoryBytesPerInputByte * bytes.count + JSONParser.memoryAllowance
            XCTAssertLessThanOrEqual(value.structureBytes, bound)
        }
        guard case .tensor(let shape, let values) = try JSONParser.parse(Array(zeros.utf8)) else { return XCTFail("not a tensor") }
        XCTAssertEqual(shape, [2000, 81])
        XCTAssertLessThanOrEqual(values.capacity - values.count, 2, "the values' buffer is sized to the numbers, not grown by doubling")
    }

    private func resetPeakRSS() throws {
        try "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    private func memoryField(_ name: String) throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix(name + ":") })
        return try XCTUnwrap(line.split(separator: " ").dropFirst().first.flatMap { Int($0) }) * 1024
    }
}
