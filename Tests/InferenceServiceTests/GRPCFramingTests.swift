import Foundation
@testable import InferenceService
import XCTest

/// gRPC's length-prefixed messages, `grpc-timeout`, `grpc-message` encoding and the status of each inference
/// failure, without a server.
final class GRPCFramingTests: XCTestCase {
    private func framed(_ messages: [[UInt8]]) -> [UInt8] {
        var body: [UInt8] = []
        for message in messages { GRPCMessageFraming.frame(message, into: &body) }
        return body
    }

    private func refusal(_ body: [UInt8], encoding: String? = nil, limit: Int = 1024) -> GRPCStatus? {
        do {
            _ = try GRPCMessageFraming.messages(in: body, encoding: encoding, maxMessageBytes: limit)
            return nil
        } catch { return error }
    }

    func testPrefixIsFlagThenBigEndianLength() {
        XCTAssertEqual(framed([[7, 8, 9]]), [0, 0, 0, 0, 3, 7, 8, 9])
        XCTAssertEqual(Array(framed([Array(repeating: 1, count: 0x010203)]).prefix(5)), [0, 0, 0x01, 0x02, 0x03])
    }

    func testMessagesRoundTripIncludingEmptyOnes() throws {
        let messages: [[UInt8]] = [[1, 2, 3], [], Array(repeating: 0xAB, count: 300)]
        XCTAssertEqual(try GRPCMessageFraming.messages(in: framed(messages), encoding: nil, maxMessageBytes: 1024), messages)
        XCTAssertEqual(try GRPCMessageFraming.messages(in: [], encoding: "identity", maxMessageBytes: 1024), [])
    }

    func testTruncatedPrefixOrMessageIsInternal() {
        let body = framed([[1, 2, 3, 4]])
        for cut in 1..<body.count {
            XCTAssertEqual(refusal(Array(body.prefix(cut)))?.code, .internal, "cut at \(cut)")
        }
        XCTAssertTrue(refusal(Array(body.prefix(3)))?.message.contains("prefix") ?? false)
        XCTAssertTrue(refusal(Array(body.prefix(7)))?.message.contains("2 of its 4 bytes") ?? false)
    }

    func testFlagOtherThanZeroOrOneIsInternal() {
        XCTAssertEqual(refusal([2, 0, 0, 0, 0])?.code, .internal)
        XCTAssertEqual(refusal([0xFF, 0, 0, 0, 0])?.code, .internal)
    }

    func testCompressedFlagWithoutEncodingIsInternal() {
        XCTAssertEqual(refusal([1, 0, 0, 0, 1, 0])?.code, .internal)
        XCTAssertEqual(refusal([1, 0, 0, 0, 1, 0], encoding: "identity")?.code, .internal)
    }

    func testLengthOverTheLimitIsResourceExhaustedBeforeTheBytesArrive() {
        // 0x7FFFFFFF declared, 1 byte sent: refused from the prefix alone.
        XCTAssertEqual(refusal([0, 0x7F, 0xFF, 0xFF, 0xFF, 1], limit: 1024)?.code, .resourceExhausted)
        XCTAssertNil(refusal(framed([Array(repeating: 0, count: 1024)]), limit: 1024))
        XCTAssertEqual(refusal(framed([Array(repeating: 0, count: 1025)]), limit: 1024)?.code, .resourceExhausted)
    }

    func testGzipAndDeflateMessagesAreInflated() throws {
        let message = Array("a ModelInferRequest, say".utf8)
        for (encoding, bits) in [("gzip", Int32(31)), ("deflate", Int32(15))] {
            let compressed = [UInt8](try RequestCompressionTests.compress(Data(message), windowBits: bits))
            var body: [UInt8] = [1] + withUnsafeBytes(of: UInt32(compressed.count).bigEndian, Array.init) + compressed
            GRPCMessageFraming.frame([9], into: &body)  // an uncompressed message may follow a compressed one
            XCTAssertEqual(try GRPCMessageFraming.messages(in: body, encoding: encoding, maxMessageBytes: 1024), [message, [9]])
        }
    }

    func testGzipBombIsResourceExhaustedAtTheLimit() throws {
        let bomb = [UInt8](try RequestCompressionTests.compress(Data(count: 1 << 20), windowBits: 31))
        XCTAssertLessThan(bomb.count, 4096)
        let body: [UInt8] = [1] + withUnsafeBytes(of: UInt32(bomb.count).bigEndian, Array.init) + bomb
        let status = refusal(body, encoding: "gzip", limit: 64 * 1024)
        XCTAssertEqual(status?.code, .resourceExhausted)
        XCTAssertTrue(status?.message.contains("65536") ?? false)
    }

    func testMalformedGzipIsInternalAndUnknownEncodingUnimplemented() {
        XCTAssertEqual(refusal([1, 0, 0, 0, 3, 1, 2, 3], encoding: "gzip")?.code, .internal)
        XCTAssertEqual(refusal(framed([[1]]), encoding: "snappy")?.code, .unimplemented)
    }

    func testGRPCTimeoutUnits() {
        XCTAssertEqual(GRPCTimeout.parse("2H"), .seconds(7200))
        XCTAssertEqual(GRPCTimeout.parse("3M"), .seconds(180))
        XCTAssertEqual(GRPCTimeout.parse("10S"), .seconds(10))
        XCTAssertEqual(GRPCTimeout.parse("250m"), .milliseconds(250))
        XCTAssertEqual(GRPCTimeout.parse("99999999u"), .microseconds(99_999_999))
        XCTAssertEqual(GRPCTimeout.parse("5n"), .nanoseconds(5))
        for bad in ["", "S", "10", "10s", "123456789S", "-1S", "1.5S", " 1S"] {
            XCTAssertNil(GRPCTimeout.parse(bad), bad)
        }
    }

    func testGRPCMessageIsPercentEncoded() {
        XCTAssertEqual(GRPCStatus.percentEncoded("shape [1, 2] 100%"), "shape [1, 2] 100%25")
        XCTAssertEqual(GRPCStatus.percentEncoded("é\n"), "%C3%A9%0A")
        XCTAssertEqual(GRPCStatus(.invalidArgument, "x").trailers.map(\.0), ["grpc-status", "grpc-message"])
        XCTAssertEqual(GRPCStatus.ok.trailers.map(\.1), ["0"])
    }

    func testEachInferenceFailureHasItsGRPCStatus() {
        XCTAssertEqual(InferenceFailure.invalidInput("bad").grpcStatus, GRPCStatus(.invalidArgument, "bad"))
        XCTAssertEqual(InferenceFailure.overloaded(queuedClipLimit: 8).grpcStatus.code, .resourceExhausted)
        XCTAssertEqual(InferenceFailure.notReady.grpcStatus.code, .unavailable)
        XCTAssertEqual(InferenceFailure.shuttingDown.grpcStatus.code, .unavailable)
        XCTAssertEqual(InferenceFailure.timedOut.grpcStatus.code, .deadlineExceeded)
        XCTAssertEqual(InferenceFailure.cancelled.grpcStatus.code, .cancelled)
        XCTAssertEqual(InferenceFailure.overloaded(queuedClipLimit: 8).grpcStatus.message, InferenceFailure.overloaded(queuedClipLimit: 8).message)
    }
}
