import Foundation
import HTTPServer
@testable import InferenceService
import SwiftProtobuf
import XCTest

/// ModelStreamInfer over a real HTTP/2 connection to a live server: each request message is answered while the
/// stream stays open, answers are gzip-compressed when the client asks so, a message over the limit ends the stream
/// RESOURCE_EXHAUSTED (and a unary upload over the body limit is RESOURCE_EXHAUSTED, not HTTP 413), and a client
/// that does not read its answers stops being read.
final class GRPCStreamTests: LiveInferenceTestCase {
    static let streamPath = "/inference.GRPCInferenceService/ModelStreamInfer"
    static let grpcHeaders = [("content-type", "application/grpc"), ("te", "trailers")]

    private func request(_ clip: [[Double]], id: String) throws -> [UInt8] {
        let call = Inference_ModelInferRequest.with { call in
            call.modelName = "signbert"
            call.id = id
            call.inputs = [.with {
                $0.name = "keypoints"
                $0.datatype = "FP32"
                $0.shape = [1, Int64(clip.count), Int64(clip[0].count)]
                $0.contents.fp32Contents = clip.flatMap { $0.map(Float.init) }
            }]
        }
        return try call.serializedBytes()
    }

    private func framed(_ message: [UInt8], gzip: Bool = false) throws -> [UInt8] {
        var out: [UInt8] = []
        if gzip {
            GRPCMessageFraming.frame(try XCTUnwrap(GzipCompression.compress(message)), compressed: true, into: &out)
        } else {
            GRPCMessageFraming.frame(message, into: &out)
        }
        return out
    }

    /// The stream answers in a response body so far, each decompressed when flagged.
    private func answers(_ body: [UInt8]) throws -> [Inference_ModelStreamInferResponse] {
        var result: [Inference_ModelStreamInferResponse] = []
        var offset = 0
        while body.count - offset >= 5 {
            let length = Int(body[offset + 1]) << 24 | Int(body[offset + 2]) << 16 | Int(body[offset + 3]) << 8 | Int(body[offset + 4])
            guard body.count - offset - 5 >= length else { break }
            var message = Array(body[(offset + 5)..<(offset + 5 + length)])
            if body[offset] == 1 { message = try BodyDecompression.inflate(message, .gzip, limit: 1 << 24) }
            result.append(try Inference_ModelStreamInferResponse(serializedBytes: message))
            offset += 5 + length
        }
        return result
    }

    private func logits(_ answer: Inference_ModelStreamInferResponse) -> [Float] {
        let raw = [UInt8](answer.inferResponse.rawOutputContents.first ?? Data())
        return stride(from: 0, to: raw.count - 3, by: 4).map { offset in
            Float(bitPattern: UInt32(raw[offset]) | UInt32(raw[offset + 1]) << 8 | UInt32(raw[offset + 2]) << 16 | UInt32(raw[offset + 3]) << 24)
        }
    }

    func testEachRequestIsAnsweredWhileTheStreamStaysOpen() throws {
        let (server, _) = try start()
        let (clips, expected, tolerance) = try Self.pytorchCase()
        let classes = expected.count / clips.count
        let client = try HTTP2TestClient(port: server.port)
        let id = client.submit("POST", Self.streamPath, headers: Self.grpcHeaders, body: [], openBody: true)
        for round in 0..<5 {
            let clip = round % clips.count
            client.sendMore(id, try framed(try request(clips[clip], id: "r\(round)")))
            // The next request is sent only once this one's answer is in: the old server answered at END_STREAM.
            try client.run(timeout: 10) { ((try? self.answers(client.response(id).body)) ?? []).count == round + 1 }
            let answer = try XCTUnwrap(answers(client.response(id).body).last)
            XCTAssertEqual(answer.errorMessage, "")
            XCTAssertEqual(answer.inferResponse.id, "r\(round)", "each answer carries its request's id")
            let got = logits(answer), want = Array(expected[(clip * classes)..<((clip + 1) * classes)])
            XCTAssertEqual(got.count, classes)
            XCTAssertLessThanOrEqual(maxAbsDifference(got, want), tolerance)
            XCTAssertNil(client.response(id).closeCode, "the stream stays open")
        }
        XCTAssertEqual(client.response(id).status, 200)
        XCTAssertEqual(client.response(id).headers["content-type"], "application/grpc")
        XCTAssertNotNil(client.response(id).headers["x-request-id"])
        XCTAssertNil(client.response(id).headers["grpc-encoding"], "not compressed unless asked")
        client.sendMore(id, [], end: true)
        try client.runUntilAllClosed(timeout: 10)
        XCTAssertEqual(client.response(id).headers["grpc-status"], "0")
        XCTAssertEqual(client.response(id).closeCode, 0)
    }

    func testGzipRequestsGetGzipAnswers() throws {
        let (server, _) = try start()
        let (clips, _, _) = try Self.pytorchCase()
        let client = try HTTP2TestClient(port: server.port)
        let gzipHeaders = Self.grpcHeaders + [("grpc-encoding", "gzip"), ("grpc-accept-encoding", "identity,deflate,gzip")]
        let streamed = client.submit("POST", Self.streamPath, headers: gzipHeaders,
                                     body: try framed(try request(clips[0], id: "z"), gzip: true), openBody: true)
        try client.run(timeout: 10) { client.response(streamed).body.count > 5 }
        let unary = client.submit("POST", "/inference.GRPCInferenceService/ModelInfer", headers: gzipHeaders,
                                  body: try framed(try request(clips[1], id: "u"), gzip: true))
        // Compressed, but the client does not list gzip as accepted: answered plain.
        let plain = client.submit("POST", "/inference.GRPCInferenceService/ModelInfer",
                                  headers: Self.grpcHeaders + [("grpc-encoding", "gzip")],
                                  body: try framed(try request(clips[1], id: "p"), gzip: true))
        client.sendMore(streamed, [], end: true)
        try client.runUntilAllClosed(timeout: 10)
        for id in [streamed, unary] {
            let response = client.response(id)
            XCTAssertEqual(response.headers["grpc-encoding"], "gzip", "stream \(id)")
            XCTAssertEqual(response.body.first, 1, "stream \(id): the compressed flag")
            XCTAssertEqual(response.headers["grpc-status"], "0")
        }
        XCTAssertEqual(try answers(client.response(streamed).body).first?.inferResponse.id, "z")
        let unaryBody = client.response(unary).body
        let inflated = try BodyDecompression.inflate(Array(unaryBody.dropFirst(5)), .gzip, limit: 1 << 24)
        XCTAssertEqual(try Inference_ModelInferResponse(serializedBytes: inflated).id, "u")
        XCTAssertNil(client.response(plain).headers["grpc-encoding"])
        XCTAssertEqual(client.response(plain).body.first, 0)
        XCTAssertEqual(client.response(plain).headers["grpc-status"], "0")
    }

    func testMessagesOverTheLimitAreResourceExhausted() throws {
        let (server, _) = try start { _, http in http.maxBodyBytes = 256 * 1024 }
        let client = try HTTP2TestClient(port: server.port)
        // In a stream: refused from the 5-byte prefix, before the message's bytes.
        let streamed = client.submit("POST", Self.streamPath, headers: Self.grpcHeaders,
                                     body: [0, 0, 0x10, 0, 0] + [UInt8](repeating: 0, count: 1000), openBody: true)
        // Unary: the body crosses the HTTP/2 layer's 256 KiB limit, which used to answer HTTP 413.
        let unary = client.submit("POST", "/inference.GRPCInferenceService/ModelInfer", headers: Self.grpcHeaders,
                                  body: [0, 0, 0x05, 0, 0] + [UInt8](repeating: 0, count: 0x50000))
        try client.run(timeout: 10) { client.response(streamed).closeCode != nil && client.response(unary).closeCode != nil }
        for id in [streamed, unary] {
            let response = client.response(id)
            XCTAssertEqual(response.status, 200, "stream \(id): gRPC statuses travel with HTTP 200")
            XCTAssertEqual(response.headers["grpc-status"], "8", "stream \(id): RESOURCE_EXHAUSTED")
            XCTAssertTrue(response.body.isEmpty)
        }
        XCTAssertTrue(client.response(streamed).headers["grpc-message"]?.contains("exceeds the limit of 262144 bytes") == true)
    }

    func testAnIdleStreamEndsDeadlineExceededAtTheStreamIdleTimeout() throws {
        let (server, _) = try start { _, http in
            http.bodyIdleTimeout = .milliseconds(200)
            http.bodyStreamIdleTimeout = .milliseconds(800)
        }
        let (clips, _, _) = try Self.pytorchCase()
        let client = try HTTP2TestClient(port: server.port)
        let id = client.submit("POST", Self.streamPath, headers: Self.grpcHeaders,
                               body: try framed(try request(clips[0], id: "a")), openBody: true)
        try client.run(timeout: 10) { ((try? self.answers(client.response(id).body)) ?? []).count == 1 }
        // Idle well past the body idle timeout: the stream still takes a request.
        Thread.sleep(forTimeInterval: 0.5)
        client.sendMore(id, try framed(try request(clips[1], id: "b")))
        try client.run(timeout: 10) { ((try? self.answers(client.response(id).body)) ?? []).count == 2 }
        XCTAssertNil(client.response(id).closeCode)
        try client.run(timeout: 5) { client.response(id).closeCode != nil }
        XCTAssertEqual(client.response(id).headers["grpc-status"], "4", "DEADLINE_EXCEEDED after the stream idle timeout")
        XCTAssertEqual(try answers(client.response(id).body).map(\.inferResponse.id), ["a", "b"])
    }

    func testAClientThatDoesNotReadStopsBeingRead() throws {
        let (server, _) = try start { _, http in http.maxBodyBytes = 64 * 1024 }
        let (clips, _, _) = try Self.pytorchCase()
        // A window of 0: the server can send the client no answer at all.
        let client = try HTTP2TestClient(port: server.port, initialWindow: 0)
        let message = try framed(try request(clips[0], id: "b"))
        let count = 60
        let id = client.submit("POST", Self.streamPath, headers: Self.grpcHeaders,
                               body: Array([[UInt8]](repeating: message, count: count).joined()), openBody: true)
        try? client.run(timeout: 3) { false }
        // At most 16 requests taken (answers pending) plus one 64 KiB stream window of unread ones.
        let bound = GRPCStreamCall.maxPendingAnswers * message.count + 64 * 1024 + 16 * 1024  // + one DATA frame
        XCTAssertLessThanOrEqual(client.uploaded(id), bound, "\(message.count)-byte messages")
        XCTAssertLessThan(client.uploaded(id), count * message.count)
        XCTAssertNil(client.response(id).closeCode, "held back, not reset (within the write timeout)")
        XCTAssertTrue(client.response(id).body.isEmpty)
    }
}
