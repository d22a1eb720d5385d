import Foundation
import HTTPServer
@testable import InferenceService
import SwiftProtobuf
import XCTest

/// Model control (the repository's load and unload, REST and gRPC) on a server without API keys: loopback callers
/// only, unless `--model-control any`; with keys, the key decides wherever the caller is. Requests from elsewhere
/// go through the server's responder chain (the one its listeners call) with the address a socket would give.
extension ModelRepositoryTests {
    private static let elsewhere = "192.0.2.7:41000"  // TEST-NET-1: never this host

    func testModelControlLoopbackAddresses() {
        for address in ["127.0.0.1:5", "127.255.1.2:80", "[::1]:9", "[0:0:0:0:0:0:0:1]:9", "[::ffff:127.0.0.1]:4"] {
            XCTAssertTrue(ModelControlAccess.isLoopback(address), address)
        }
        for address in ["10.0.0.1:5", "192.0.2.7:41000", "[::2]:1", "[fe80::1]:3", "[::ffff:10.0.0.1]:4", "1270.0.0.1:3",
                        "127.0.0:1", "127.0.0.256:1", "[::1", "", "fuzz"] {
            XCTAssertFalse(ModelControlAccess.isLoopback(address), address)
        }
    }

    /// REST's load and unload: 403 with a JSON error from elsewhere, from the head already (nothing of a body is
    /// read), and the model keeps serving; other routes stay open from elsewhere; from loopback the calls work.
    func testWithoutAKeyModelControlIsLoopbackOnly() throws {
        let (server, client) = try start(try makeRepository())
        for path in ["/v2/repository/models/v2/unload", "/v2/repository/models/v2/load"] {
            let head = HTTPRequest(method: "POST", target: path, remoteAddress: Self.elsewhere)
            let refused = try XCTUnwrap(server.responder.admit(head), path)
            XCTAssertEqual(refused.status, 403, path)
            let answer = respondInProcess(server, HTTPRequest(method: "POST", target: path, body: [], remoteAddress: Self.elsewhere))
            XCTAssertEqual(answer.status, 403, path)
            let error = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])
            XCTAssertTrue((error["error"] as? String ?? "").contains("--model-control any"), "\(error)")
        }
        XCTAssertEqual(try ModelRepositoryTests.index(client), ["demo/1/READY", "demo/2/READY", "v1/1/READY", "v2/1/READY"])
        XCTAssertEqual(respondInProcess(server, HTTPRequest(method: "POST", target: "/v2/repository/index", remoteAddress: Self.elsewhere)).status,
                       200, "the index is not model control")
        XCTAssertNil(server.responder.admit(HTTPRequest(method: "POST", target: "/v2/models/v2/infer", remoteAddress: Self.elsewhere)))

        // gRPC: PERMISSION_DENIED from elsewhere, the model still listed READY; from loopback the unload works.
        let unload = Inference_RepositoryModelUnloadRequest.with { $0.modelName = "v2" }
        let denied = try grpcCall(server, "RepositoryModelUnload", [unload], remoteAddress: Self.elsewhere)
        XCTAssertEqual(denied.status, 7, denied.message)
        XCTAssertTrue(denied.message.contains("loopback"), denied.message)
        let load = try grpcCall(server, "RepositoryModelLoad", [Inference_RepositoryModelLoadRequest.with { $0.modelName = "v2" }],
                                remoteAddress: "[::1]:5000")
        XCTAssertEqual(load.status, 0, load.message)
        XCTAssertEqual(try ModelRepositoryTests.index(client), ["demo/1/READY", "demo/2/READY", "v1/1/READY", "v2/1/READY"])
        XCTAssertEqual(try grpcCall(server, "RepositoryModelUnload", [unload]).status, 0, "loopback")
        XCTAssertEqual(try client.post("/v2/repository/models/v2/load", json: Data()).status, 200, "loopback socket")
        XCTAssertEqual(try ModelRepositoryTests.index(client, readyOnly: true), ["demo/1/READY", "demo/2/READY", "v1/1/READY", "v2/1/READY"])
    }

    /// `--model-control any` opens it to every caller; with API keys the key decides, from anywhere.
    func testModelControlAnyAndWithAKey() throws {
        let directory = try makeRepository()
        let (open, _) = try start(directory) { $0.modelControl = .any }
        XCTAssertEqual(respondInProcess(open, HTTPRequest(method: "POST", target: "/v2/repository/models/v2/unload", remoteAddress: Self.elsewhere)).status, 200)
        XCTAssertEqual(try grpcCall(open, "RepositoryModelLoad", [Inference_RepositoryModelLoadRequest.with { $0.modelName = "v2" }],
                                    remoteAddress: Self.elsewhere).status, 0)

        let (keyed, _) = try start(directory) { $0.apiKeys = ["secret"] }
        let path = "/v2/repository/models/v1/unload"
        XCTAssertEqual(respondInProcess(keyed, HTTPRequest(method: "POST", target: path, remoteAddress: Self.elsewhere)).status, 401)
        XCTAssertEqual(respondInProcess(keyed, HTTPRequest(method: "POST", target: path, remoteAddress: "127.0.0.1:9")).status, 401,
                       "with keys, loopback needs the key too")
        XCTAssertEqual(respondInProcess(keyed, HTTPRequest(method: "POST", target: path, headers: ["Authorization": "Bearer secret"],
                                                  remoteAddress: Self.elsewhere)).status, 200)
        let unload = Inference_RepositoryModelUnloadRequest.with { $0.modelName = "demo" }
        XCTAssertEqual(try grpcCall(keyed, "RepositoryModelUnload", [unload], remoteAddress: Self.elsewhere).status, 16)
        XCTAssertEqual(try grpcCall(keyed, "RepositoryModelUnload", [unload], headers: [("authorization", "Bearer secret")],
                                    remoteAddress: Self.elsewhere).status, 0)
    }

    private func respondInProcess(_ server: InferenceServer, _ request: HTTPRequest) -> HTTPResponse {
        let done = expectation(description: request.path)
        nonisolated(unsafe) var answer: HTTPResponse?
        server.responder.respond(to: request) { response in
            answer = response
            done.fulfill()
        }
        wait(for: [done], timeout: 30)
        return answer ?? HTTPResponse(status: 0)
    }
}
