import Foundation
import SignBERTRuntime
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
}
