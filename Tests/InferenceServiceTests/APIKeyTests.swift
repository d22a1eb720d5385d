import Foundation
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
