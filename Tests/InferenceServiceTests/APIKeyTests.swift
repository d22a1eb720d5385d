import Foundation
import Glibc
import XCTest

/// Bearer-token authentication over real sockets: prediction routes need the key, probes stay open.
final class APIKeyTests: LiveInferenceTestCase {
    private func body() throws -> Data {
        let (clips, _, _) = try Self.pytorchCase()
        return try JSONSerialization.data(withJSONObject: ["inputs": [clips[0]]])
    }

    func testPredictionRoutesNeedTheKeyAndProbesStayOpen() throws {
        let (_, client) = try start { service, _ in service.apiKeys = ["s3cret-key", "next-key"] }
        let body = try body()
        for path in ["/predict", "/invocations", "/v1/models/signbert:predict", "/v2/models/signbert/infer", "/no-such-route"] {
            let response = try client.post(path, json: body)
            XCTAssertEqual(response.status, 401, path)
            XCTAssertEqual(response.headers["www-authenticate"], "Bearer realm=\"signbert\"", path)
            XCTAssertNotNil(response.json?["error"] as? String, path)
        }
        for header in ["Bearer wrong-key", "Bearer s3cret-ke", "Bearer s3cret-key2", "Basic czNjcmV0LWtleQ==", "s3cret-key", "Bearer "] {
            let response = try client.post("/predict", json: body, headers: ["Content-Type": "application/json", "Authorization": header])
            XCTAssertEqual(response.status, 401, header)
        }
        for key in ["s3cret-key", "next-key"] {
            for scheme in ["Bearer", "bearer"] {
                let response = try client.post("/predict", json: body, headers: ["Content-Type": "application/json",
                                                                                 "Authorization": "\(scheme) \(key)"])
                XCTAssertEqual(response.status, 200, "\(scheme) \(key)")
            }
        }
        for path in ["/health", "/ready", "/metrics", "/", "/ping", "/v2/health/ready", "/v2/models/signbert", "/openapi.json"] {
            XCTAssertEqual(try client.get(path).status, 200, path)
        }
    }

    /// The key is checked from the head: a request without one is answered 401 before its body is read, and
    /// before `100 Continue` (which would invite the client to upload a body that will never run).
    func testMissingKeyIsRefusedBeforeTheBodyAndBefore100Continue() throws {
        let (_, client) = try start { service, _ in service.apiKeys = ["s3cret-key"] }
        for path in ["/predict", "/v2/models/signbert/infer"] {
            let head = "POST \(path) HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n"
                + "Expect: 100-continue\r\nX-Request-Id: probe-1\r\n\r\n"
            let response = try client.exchange(Data(head.utf8))  // no body is ever sent
            XCTAssertEqual(response.status, 401, path)
            XCTAssertEqual(response.headers["www-authenticate"], "Bearer realm=\"signbert\"", path)
            XCTAssertEqual(response.headers["x-request-id"], "probe-1", path)
            XCTAssertEqual(response.headers["connection"], "close", path)
        }
        // With the key, the same head gets 100 Continue.
        let head = "POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n"
            + "Authorization: Bearer s3cret-key\r\nExpect: 100-continue\r\n\r\n"
        let fd = try client.connectSocket()
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        XCTAssertEqual(Array(head.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }, head.utf8.count)
        var buffer = [UInt8](repeating: 0, count: 256)
        let received = recv(fd, &buffer, buffer.count, 0)
        XCTAssertEqual(String(decoding: buffer[0..<max(0, received)], as: UTF8.self), "HTTP/1.1 100 Continue\r\n\r\n")
    }

    /// The head checks reach through every layer the server stacks: with CORS and request decompression in
    /// front of the key check and the routes, a request without the key, or with a content type the route does
    /// not take, is still refused from its head (no 100 Continue, no body read), and a listed origin can read
    /// the refusal. (Those layers once hid the inner checks, so the body was read first.)
    func testHeadChecksReachThroughTheCORSAndDecompressionLayers() throws {
        let (_, client) = try start { service, _ in
            service.apiKeys = ["s3cret-key"]
            service.corsOrigins = ["https://app.example"]
        }
        let unauthenticated = "POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            + "Content-Length: 100000\r\nContent-Encoding: gzip\r\nOrigin: https://app.example\r\nExpect: 100-continue\r\n\r\n"
        let refused = try client.exchange(Data(unauthenticated.utf8))  // no body is ever sent
        XCTAssertEqual(refused.status, 401)
        XCTAssertEqual(refused.headers["connection"], "close")
        XCTAssertEqual(refused.headers["access-control-allow-origin"], "https://app.example")
        let wrongType = "POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n"
            + "Authorization: Bearer s3cret-key\r\nContent-Encoding: gzip\r\nExpect: 100-continue\r\n\r\n"
        let unsupported = try client.exchange(Data(wrongType.utf8))
        XCTAssertEqual(unsupported.status, 415)
        XCTAssertEqual(unsupported.headers["connection"], "close")
    }

    func testProtectedMetrics() throws {
        let (_, client) = try start { service, _ in
            service.apiKeys = ["k"]
            service.protectMetrics = true
        }
        XCTAssertEqual(try client.get("/metrics").status, 401)
        let document = try XCTUnwrap(client.get("/openapi.json").json)
        let paths = try XCTUnwrap(document["paths"] as? [String: [String: Any]])
        let predict = try XCTUnwrap(paths["/predict"]?["post"] as? [String: Any])
        XCTAssertEqual((predict["security"] as? [[String: [String]]])?.first?.keys.first, "bearer")
        XCTAssertNotNil((predict["responses"] as? [String: Any])?["401"])
        XCTAssertNotNil((paths["/metrics"]?["get"] as? [String: Any])?["security"])
        XCTAssertNil((paths["/ready"]?["get"] as? [String: Any])?["security"])
        XCTAssertEqual(try client.send("GET", "/metrics", headers: ["Authorization": "Bearer k"]).status, 200)
        XCTAssertEqual(try client.get("/ready").status, 200)
    }
}
