@testable import HTTPServer
import XCTest

/// SHA-1 against the test vectors of RFC 3174 §7.3 / FIPS 180 (one block, two blocks, a million bytes), and the
/// handshake's accept value against RFC 6455 §1.3's worked example.
final class SHA1Tests: XCTestCase {
    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func testFIPSVectors() {
        XCTAssertEqual(hex(SHA1.digest(Array("abc".utf8))), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(hex(SHA1.digest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        XCTAssertEqual(hex(SHA1.digest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))),
                       "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        XCTAssertEqual(hex(SHA1.digest([])), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        // RFC 3174's fourth test: "01234567" repeated 80 times (640 bytes, many blocks).
        XCTAssertEqual(hex(SHA1.digest(Array(String(repeating: "0123456701234567012345670123456701234567012345670123456701234567", count: 10).utf8))),
                       "dea356a2cddd90c7a7ecedc5ebb563934f460452")
    }

    func testPaddingBoundaries() {
        // 55, 56 and 64 bytes: the length field fits in the block, just does not, and a whole block of message.
        XCTAssertEqual(hex(SHA1.digest([UInt8](repeating: 0x61, count: 55))), "c1c8bbdc22796e28c0e15163d20899b65621d65a")
        XCTAssertEqual(hex(SHA1.digest([UInt8](repeating: 0x61, count: 56))), "c2db330f6083854c99d4b5bfb6e8f29f201be699")
        XCTAssertEqual(hex(SHA1.digest([UInt8](repeating: 0x61, count: 64))), "0098ba824b5c16427bd7a1122a5a442a25ec644d")
    }

    func testAcceptValueOfRFC6455Example() {
        XCTAssertEqual(WebSocketHandshake.acceptValue(key: "dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    func testBase64() {
        XCTAssertEqual(Base64.encode(Array("f".utf8)), "Zg==")
        XCTAssertEqual(Base64.encode(Array("fo".utf8)), "Zm8=")
        XCTAssertEqual(Base64.encode(Array("foobar".utf8)), "Zm9vYmFy")
        XCTAssertEqual(Base64.decodedCount("dGhlIHNhbXBsZSBub25jZQ=="), 16)
        XCTAssertNil(Base64.decodedCount("dGhlIHNhbXBsZSBub25jZQ="))
        XCTAssertNil(Base64.decodedCount("dGhl!HNhbXBsZSBub25jZQ=="))
    }
}
