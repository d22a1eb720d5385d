@testable import HTTPServer
import XCTest

/// A deterministic generator, so that a failing random split can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class HTTPRequestDecoderTests: XCTestCase {
    typealias Decoded = (head: HTTPRequestHead, body: [UInt8])

    let limits = HTTPRequestDecoder.Limits(maxHeaderBytes: 1024, maxHeaderCount: 10, maxBodyBytes: 100)

    /// Feeds `bytes` in pieces ending at `cuts`, collecting every complete request.
    func decode(_ bytes: [UInt8], cuts: [Int] = [], limits: HTTPRequestDecoder.Limits? = nil) throws(HTTPDecodingError) -> [Decoded] {
        var decoder = HTTPRequestDecoder(limits: limits ?? self.limits)
        var requests: [Decoded] = []
        var start = 0
        for end in cuts.sorted() + [bytes.count] where end >= start {
            decoder.append(bytes[start..<end])
            start = end
            while let event = try decoder.next() {
                if case .request(let head, let body) = event { requests.append((head, body)) }
            }
        }
        return requests
    }

    func decode(_ text: String, limits: HTTPRequestDecoder.Limits? = nil) throws(HTTPDecodingError) -> [Decoded] {
        try decode(Array(text.utf8), limits: limits)
    }

    func error(_ text: String, limits: HTTPRequestDecoder.Limits? = nil) -> HTTPDecodingError? {
        do {
            _ = try decode(text, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    /// Requests covering every decoder path, with what they must decode to.
    let corpus: [(String, [(method: String, path: String, body: String)])] = [
        ("GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", [("GET", "/a", "")]),
        ("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", [("POST", "/p", "hello")]),
        ("POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6 ; x\r\n world\r\n0\r\nTrailer: t\r\n\r\n",
         [("POST", "/c", "hello world")]),
        ("\r\nGET /1 HTTP/1.1\r\nHost: h\r\n\r\nPUT /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nabGET /3 HTTP/1.0\r\n\r\n",
         [("GET", "/1", ""), ("PUT", "/2", "ab"), ("GET", "/3", "")]),
        ("GET /lf HTTP/1.1\nHost: h\n\n", [("GET", "/lf", "")]),
    ]

    func check(_ decoded: [Decoded], _ expected: [(method: String, path: String, body: String)], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(decoded.map(\.head.method), expected.map(\.method), file: file, line: line)
        XCTAssertEqual(decoded.map(\.head.path), expected.map(\.path), file: file, line: line)
        XCTAssertEqual(decoded.map { String(decoding: $0.body, as: UTF8.self) }, expected.map(\.body), file: file, line: line)
    }

    func testCorpusWhole() throws {
        for (text, expected) in corpus { check(try decode(text), expected) }
    }

    func testCorpusSplitAtEveryByte() throws {
        for (text, expected) in corpus {
            let bytes = Array(text.utf8)
            check(try decode(bytes, cuts: Array(0...bytes.count)), expected)
        }
    }

    func testCorpusSplitAtEveryPoint() throws {
        for (text, expected) in corpus {
            let bytes = Array(text.utf8)
            for cut in 0...bytes.count { check(try decode(bytes, cuts: [cut]), expected) }
        }
    }

    func testCorpusSplitAtRandomPoints() throws {
        var random = SplitMix64(state: 42)
        for (text, expected) in corpus {
            let bytes = Array(text.utf8)
            for _ in 0..<200 {
                let cuts = (0..<Int.random(in: 1...6, using: &random)).map { _ in Int.random(in: 0...bytes.count, using: &random) }
                check(try decode(bytes, cuts: cuts), expected)
            }
        }
    }

    func testHeadFields() throws {
        let request = try XCTUnwrap(try decode("GET /a%20b/c?q=x+y&n=%41&flag HTTP/1.1\r\nHost: h\r\nX-A:  spaced \t\r\nx-a: 2\r\n\r\n").first)
        XCTAssertEqual(request.head.path, "/a b/c")
        XCTAssertEqual(request.head.target, "/a%20b/c?q=x+y&n=%41&flag")
        XCTAssertEqual(request.head.query.map(\.name), ["q", "n", "flag"])
        XCTAssertEqual(request.head.query.map(\.value), ["x y", "A", ""])
        XCTAssertEqual(request.head.headers.values("x-A"), ["spaced", "2"])
        XCTAssertEqual(request.head.version, .http1_1)
    }

    func testAbsoluteFormTarget() throws {
        XCTAssertEqual(try decode("GET http://example.com/x/y?z=1 HTTP/1.1\r\nHost: example.com\r\n\r\n").first?.head.path, "/x/y")
    }

    func testKeepAliveRules() throws {
        XCTAssertEqual(try decode("GET / HTTP/1.1\r\nHost: h\r\n\r\n").first?.head.keepAlive, true)
        XCTAssertEqual(try decode("GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n").first?.head.keepAlive, false)
        XCTAssertEqual(try decode("GET / HTTP/1.0\r\n\r\n").first?.head.keepAlive, false)
        XCTAssertEqual(try decode("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").first?.head.keepAlive, true)
        // A later 1.x minor version is served as 1.1.
        XCTAssertEqual(try decode("GET / HTTP/1.2\r\nHost: h\r\n\r\n").first?.head.version, .http1_1)
    }

    func testExpectContinueReportedWithHead() throws {
        var decoder = HTTPRequestDecoder(limits: limits)
        decoder.append(Array("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n".utf8))
        guard case .head(let head)? = try decoder.next() else { return XCTFail("no head") }
        XCTAssertTrue(head.expectsContinue)
        XCTAssertNil(try decoder.next())
        decoder.append(Array("abc".utf8))
        guard case .request(_, let body)? = try decoder.next() else { return XCTFail("no request") }
        XCTAssertEqual(body, Array("abc".utf8))
        XCTAssertTrue(decoder.isAtRequestBoundary)
    }

    func testPipelinedRequestStaysBufferedUntilAsked() throws {
        var decoder = HTTPRequestDecoder(limits: limits)
        decoder.append(Array("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n".utf8))
        _ = try decoder.next()  // head
        guard case .request(let first, _)? = try decoder.next() else { return XCTFail() }
        XCTAssertEqual(first.path, "/1")
        XCTAssertEqual(decoder.bufferedByteCount, 28)
        _ = try decoder.next()
        guard case .request(let second, _)? = try decoder.next() else { return XCTFail() }
        XCTAssertEqual(second.path, "/2")
        XCTAssertNil(try decoder.next())
    }

    func testMalformedRequestLines() {
        for line in ["GET /\r\n", "GET  / HTTP/1.1\r\n", "GET / HTTP/1.1 x\r\n", "G(T / HTTP/1.1\r\n", "GET / HTTP/1\r\n",
                     "GET / HTTPS/1.1\r\n", "GET /\u{1} HTTP/1.1\r\n", "GET x HTTP/1.1\r\n", "GET /%zz HTTP/1.1\r\n", " GET / HTTP/1.1\r\n"] {
            XCTAssertEqual(error(line + "Host: h\r\n\r\n")?.status, 400, line.debugDescription)
        }
    }

    func testUnsupportedVersionIs505() {
        XCTAssertEqual(error("GET / HTTP/2.0\r\nHost: h\r\n\r\n")?.status, 505)
        XCTAssertEqual(error("GET / HTTP/0.9\r\nHost: h\r\n\r\n")?.status, 505)
    }

    func testMalformedHeaderFields() {
        // The last one is a second Host field (RFC 9112 §3.2).
        for field in ["NoColon", "Bad Name: x", "Name : x", " folded: x", "X: a\u{0}b", "X: a\rb", ": empty-name", "Host: b"] {
            XCTAssertEqual(error("GET / HTTP/1.1\r\nHost: h\r\n\(field)\r\n\r\n")?.status, 400, field.debugDescription)
        }
        XCTAssertEqual(error("GET / HTTP/1.1\r\n\r\n")?.status, 400, "HTTP/1.1 without Host")
    }

    func testFramingErrors() {
        let base = "POST / HTTP/1.1\r\nHost: h\r\n"
        XCTAssertEqual(error(base + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")?.status, 400)
        for value in ["-5", "abc", "", "1 2", "0x10", "+3", "3, 4"] {
            XCTAssertEqual(error(base + "Content-Length: \(value)\r\n\r\n")?.status, 400, value)
        }
        XCTAssertEqual(error(base + "Content-Length: 3\r\nContent-Length: 4\r\n\r\n")?.status, 400)
        XCTAssertEqual(try decode(base + "Content-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc").first?.body.count, 3)
        XCTAssertEqual(error(base + "Transfer-Encoding: gzip\r\n\r\n")?.status, 400, "chunked not final")
        XCTAssertEqual(error(base + "Transfer-Encoding: gzip, chunked\r\n\r\n")?.status, 501)
        XCTAssertEqual(error(base + "Transfer-Encoding: chunked, chunked\r\n\r\n")?.status, 400)
        XCTAssertEqual(error("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")?.status, 400)
    }

    func testChunkErrors() {
        let base = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        for body in ["zz\r\n", "\r\n", "5x\r\nhello\r\n0\r\n\r\n", "5\r\nhelloXX\r\n", "-1\r\n"] {
            XCTAssertEqual(error(base + body)?.status, 400, body.debugDescription)
        }
        XCTAssertEqual(error(base + "1;" + String(repeating: "e", count: 5000) + "\r\n")?.status, 400, "endless chunk extension")
    }

    func testHeaderLimits() {
        let big = "GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "a", count: 2000)
        XCTAssertEqual(error(big + "\r\n\r\n")?.status, 431)
        XCTAssertEqual(error(big)?.status, 431, "checked before the line ends")
        XCTAssertEqual(error("GET /" + String(repeating: "a", count: 2000))?.status, 431, "long request line")
        let fields = (0..<11).map { "X-\($0): v\r\n" }.joined()
        XCTAssertEqual(error("GET / HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n")?.status, 431)
        XCTAssertNotNil(try? decode("GET / HTTP/1.1\r\n" + (0..<10).map { "H\($0): v\r\n" }.joined().replacingOccurrences(of: "H0", with: "Host") + "\r\n"))
        XCTAssertEqual(error(String(repeating: "\r\n", count: 600))?.status, 431, "endless blank lines")
    }

    func testBodyLimits() {
        let base = "POST / HTTP/1.1\r\nHost: h\r\n"
        // Refused from the header alone: no body byte has been sent.
        XCTAssertEqual(error(base + "Content-Length: 101\r\n\r\n")?.status, 413)
        XCTAssertEqual(error(base + "Content-Length: 99999999999999999999999999\r\n\r\n")?.status, 413)
        XCTAssertEqual(try decode(base + "Content-Length: 100\r\n\r\n" + String(repeating: "a", count: 100)).first?.body.count, 100)
        let chunked = base + "Transfer-Encoding: chunked\r\n\r\n"
        XCTAssertEqual(error(chunked + "40\r\n" + String(repeating: "a", count: 64) + "\r\n40\r\n")?.status, 413)
        XCTAssertEqual(error(chunked + "ffffffffffffffffffffffff\r\n")?.status, 413)
        let trailers = (0..<11).map { "T\($0): v\r\n" }.joined()
        XCTAssertEqual(error(chunked + "0\r\n" + trailers + "\r\n")?.status, 431)
    }

    func testRequestLineKeptForErrorReports() throws {
        var decoder = HTTPRequestDecoder(limits: limits)
        decoder.append(Array("POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n".utf8))
        XCTAssertThrowsError(try decoder.next())
        XCTAssertEqual(decoder.requestLine?.method, "POST")
        XCTAssertEqual(decoder.head?.path, "/up")
        // The error sticks: the stream is in an unknown state.
        XCTAssertThrowsError(try decoder.next()) { XCTAssertEqual(($0 as? HTTPDecodingError)?.status, 413) }
    }

    /// A small fuzz: mutated corpus requests, fed in random pieces, either decode or fail
    /// with one of the statuses the server uses; nothing traps.
    func testMutatedRequestsNeverTrap() {
        var random = SplitMix64(state: 7)
        let statuses: Set<Int> = [400, 413, 431, 501, 505]
        for _ in 0..<3000 {
            var bytes = Array(corpus[Int.random(in: 0..<corpus.count, using: &random)].0.utf8)
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes.remove(at: index)
                default: bytes.insert(Array("\r\n:; 0a-".utf8).randomElement(using: &random) ?? 0, at: index)
                }
                if bytes.isEmpty { bytes = [0x0A] }
            }
            let cuts = (0..<3).map { _ in Int.random(in: 0...bytes.count, using: &random) }
            do {
                _ = try decode(bytes, cuts: cuts)
            } catch {
                XCTAssertTrue(statuses.contains(error.status), "\(error)")
            }
        }
    }

    func testLargeBodyFedByteByByteIsLinear() throws {
        let body = String(repeating: "z", count: 200_000)
        let text = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        var decoder = HTTPRequestDecoder(limits: .init(maxBodyBytes: 1 << 20))
        var got: [UInt8]?
        for byte in text.utf8 {
            decoder.append(CollectionOfOne(byte))
            while let event = try decoder.next() {
                if case .request(_, let bytes) = event { got = bytes }
            }
        }
        XCTAssertEqual(got?.count, 200_000)
    }
}
