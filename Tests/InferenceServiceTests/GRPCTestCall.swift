import Foundation
import HTTPServer
@testable import InferenceService
import SwiftProtobuf
import XCTest

/// A gRPC call's answer as the server's responder chain gave it: the HTTP response, its `grpc-status` and
/// `grpc-message` trailers and its length-prefixed messages.
struct GRPCTestAnswer {
    var response: HTTPResponse
    var status: Int? { response.trailers?["grpc-status"].flatMap(Int.init) }
    var message: String { response.trailers?["grpc-message"] ?? "" }
    func messages() throws -> [[UInt8]] {
        try GRPCMessageFraming.messages(in: response.body, encoding: nil, maxMessageBytes: .max)
    }
}

extension XCTestCase {
    /// One call of `inference.GRPCInferenceService` through the server's responder chain (the one its listeners
    /// call), as an HTTP/2 request with `body` (length-prefixed messages), from a loopback client unless told.
    func grpcCall(_ server: InferenceServer, _ method: String, body: [UInt8], headers: [(String, String)] = [],
                  version: HTTPVersion = .http2, cancellation: RequestCancellation = RequestCancellation(),
                  remoteAddress: String = "127.0.0.1:50000", timeout: TimeInterval = 10) -> GRPCTestAnswer {
        let request = HTTPRequest(method: "POST", target: "/inference.GRPCInferenceService/" + method, version: version,
                                  headers: HTTPHeaders([("Content-Type", "application/grpc")] + headers), body: body,
                                  remoteAddress: remoteAddress, cancellation: cancellation)
        let done = expectation(description: method)
        nonisolated(unsafe) var answer: HTTPResponse?
        server.responder.respond(to: request) { response in
            answer = response
            done.fulfill()
        }
        wait(for: [done], timeout: timeout)
        return GRPCTestAnswer(response: answer ?? HTTPResponse(status: 0))
    }

    /// `grpcCall` with `messages` framed as the body.
    func grpcCall(_ server: InferenceServer, _ method: String, _ messages: [any SwiftProtobuf.Message],
                  headers: [(String, String)] = [], remoteAddress: String = "127.0.0.1:50000",
                  timeout: TimeInterval = 10) throws -> GRPCTestAnswer {
        var body: [UInt8] = []
        for message in messages { GRPCMessageFraming.frame(try message.serializedBytes(), into: &body) }
        return grpcCall(server, method, body: body, headers: headers, remoteAddress: remoteAddress, timeout: timeout)
    }
}
