import CSystemZlib
import Foundation
@testable import InferenceService
import XCTest

/// `Content-Encoding: gzip` and `deflate` request bodies (as Triton's client sends them with request compression)
/// over real sockets: the same logits as the plain body, the decompressed size held to the body limit (413 for a
/// decompression bomb), malformed data a 400 and other codings a 415.
final class RequestCompressionTests: LiveInferenceTestCase {
    /// zlib's deflate with `windowBits` 15 + 16 (gzip), 15 (zlib, HTTP's "deflate") or -15 (raw deflate).
    static func compress(_ data: Data, windowBits: Int32) throws -> Data {
        var stream = z_stream()
        XCTAssertEqual(deflateInit2_(&stream, 6, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                                     Int32(MemoryLayout<z_stream>.size)), Z_OK)
        defer { deflateEnd(&stream) }
        var input = [UInt8](data)
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 64)
        let status = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = UInt32(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = UInt32(target.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        XCTAssertEqual(status, Z_STREAM_END)
        return Data(output[0..<Int(stream.total_out)])
    }

    private func predictBody() throws -> Data {
        let (clips, _, _) = try Self.pytorchCase()
        return try JSONSerialization.data(withJSONObject: ["inputs": clips, "return_logits": true])
    }

    private func logits(_ response: TestHTTPClient.Response) -> [Double] {
        ((response.json?["predictions"] as? [[String: Any]]) ?? []).flatMap { $0["logits"] as? [Double] ?? [] }
    }

    func testCompressedBodiesGiveTheSameLogits() throws {
        let (_, client) = try start()
        let body = try predictBody()
        let plain = try client.post("/predict", json: body)
        XCTAssertEqual(plain.status, 200)
        let expected = logits(plain)
        XCTAssertFalse(expected.isEmpty)
        let gzip = try Self.compress(body, windowBits: 31)
        let cases: [(String, Data)] = [
            ("gzip", gzip), ("x-gzip", gzip), ("GZIP", gzip),
            ("deflate", try Self.compress(body, windowBits: 15)),
            ("deflate", try Self.compress(body, windowBits: -15)),  // raw deflate, as some clients send it
            ("identity, gzip", gzip),
            ("gzip, gzip", try Self.compress(gzip, windowBits: 31)),
        ]
        for (coding, compressed) in cases {
            XCTAssertLessThan(compressed.count, body.count, coding)
            let response = try client.post("/predict", json: compressed,
                                           headers: ["Content-Type": "application/json", "Content-Encoding": coding])
            XCTAssertEqual(response.status, 200, "\(coding): \(String(decoding: response.body, as: UTF8.self))")
            XCTAssertEqual(logits(response), expected, coding)
        }
        // Two gzip members one after the other decode to their concatenation (RFC 1952 §2.2).
        let half = body.count / 2
        let members = try Self.compress(body[..<half], windowBits: 31) + Self.compress(body[half...], windowBits: 31)
        let response = try client.post("/predict", json: members,
                                       headers: ["Content-Type": "application/json", "Content-Encoding": "gzip"])
        XCTAssertEqual(logits(response), expected, "two gzip members")
    }

    func testOpenInferenceRouteTakesGzip() throws {
        let (_, client) = try start()
        let (clips, _, _) = try Self.pytorchCase()
        let config = Self.loaded.config
        let request: [String: Any] = ["inputs": [["name": "keypoints", "datatype": "FP32",
                                                  "shape": [clips.count, config.numFrames, config.inputFeatures],
                                                  "data": clips.flatMap { $0.flatMap { $0 } }]]]
        let body = try JSONSerialization.data(withJSONObject: request)
        let plain = try client.post("/v2/models/signbert/infer", json: body)
        XCTAssertEqual(plain.status, 200)
        let gzipped = try client.post("/v2/models/signbert/infer", json: Self.compress(body, windowBits: 31),
                                      headers: ["Content-Type": "application/json", "Content-Encoding": "gzip"])
        XCTAssertEqual(gzipped.status, 200)
        let outputs = { (r: TestHTTPClient.Response) in (r.json?["outputs"] as? [[String: Any]])?.first?["data"] as? [Double] }
        XCTAssertEqual(try XCTUnwrap(outputs(gzipped)), try XCTUnwrap(outputs(plain)))
    }

    func testBombsMalformedAndUnsupportedCodings() throws {
        let (_, client) = try start { _, http in http.maxBodyBytes = 1 << 20 }
        // 4 MiB of spaces gzip to a few KiB: within the body limit on the wire, four times over it decompressed.
        let bomb = try Self.compress(Data(repeating: 0x20, count: 4 << 20), windowBits: 31)
        XCTAssertLessThan(bomb.count, 16 * 1024)
        let tooLarge = try client.post("/predict", json: bomb,
                                       headers: ["Content-Type": "application/json", "Content-Encoding": "gzip"])
        XCTAssertEqual(tooLarge.status, 413)
        XCTAssertTrue((tooLarge.json?["error"] as? String ?? "").contains("decompresses to more than 1048576 bytes"),
                      "\(tooLarge.json ?? [:])")

        let body = try predictBody()
        let gzip = try Self.compress(body, windowBits: 31)
        for (coding, data, status, words) in [
            ("gzip", gzip[..<(gzip.count - 20)], 400, "truncated"),
            ("gzip", Data("not gzip at all".utf8), 400, "not valid compressed data"),
            ("deflate", try Self.compress(body, windowBits: 15) + Data([1, 2, 3]), 400, "after its end"),
            ("br", gzip, 415, "Content-Encoding br is not supported"),
            ("gzip, zstd", gzip, 415, "zstd"),
        ] as [(String, Data, Int, String)] {
            let response = try client.post("/predict", json: Data(data),
                                           headers: ["Content-Type": "application/json", "Content-Encoding": coding])
            XCTAssertEqual(response.status, status, coding)
            XCTAssertTrue((response.json?["error"] as? String ?? "").contains(words), "\(coding): \(response.json ?? [:])")
            if status == 415 { XCTAssertEqual(response.headers["accept-encoding"], "gzip, deflate") }
        }
        XCTAssertEqual(try client.get("/ready").status, 200, "the server keeps serving")
    }

    func testDecoderUnits() throws {
        XCTAssertEqual(try BodyDecompression.codings(" gzip , identity,deflate"), [.gzip, .deflate])
        XCTAssertThrowsError(try BodyDecompression.codings("compress"))
        let text = Data("hello, compressed world".utf8)
        XCTAssertEqual(try BodyDecompression.decode([UInt8](Self.compress(text, windowBits: 31)), contentEncoding: "gzip",
                                                    limit: text.count), [UInt8](text))
        XCTAssertThrowsError(try BodyDecompression.decode([UInt8](Self.compress(text, windowBits: 31)),
                                                          contentEncoding: "gzip", limit: text.count - 1)) { error in
            XCTAssertEqual(error as? BodyDecompression.Failure, .tooLarge(limit: text.count - 1))
        }
    }
}
