import Foundation
import HTTPServer
@testable import InferenceService
import SignBERTRuntime
import XCTest

/// The route table is the one place a route is declared: an entry added to it, and nothing else, is routed,
/// documented in /openapi.json, labelled in the metrics by its pattern and guarded by its own API-key rule.
final class RouteTableTests: LiveInferenceTestCase {
    private func start(extraRoutes: [ServiceRoute], apiKeys: [String]) throws -> TestHTTPClient {
        try start(extraRoutes: extraRoutes) { service, _ in service.apiKeys = apiKeys }.1
    }

    /// Two entries whose auth rules go against the fallback for routes outside the table (POST needs a key,
    /// GET does not), so the rule observed can only have come from the entries.
    private let extraRoutes = [
        ServiceRoute("POST", "/echo/{word}", access: .open, OpenAPIOperation(
            id: "echo", summary: "Echoes a word",
            responses: [("200", OpenAPI.json("The word", .object([("type", .string("string"))])))])
        ) { _, _, parameters, respond in respond(.text(parameters["word"] ?? "")) },
        ServiceRoute("GET", "/secret", access: .key, OpenAPIOperation(
            id: "secret", summary: "Needs the key", responses: [("200", .object([("description", .string("The secret"))]))])
        ) { _, _, _, respond in respond(.text("s3cret")) },
    ]

    func testAnEntryIsRoutedDocumentedLabelledAndGuarded() throws {
        let client = try start(extraRoutes: extraRoutes, apiKeys: ["k"])

        // Routed (with its parameter), and open although it is a POST.
        let echoed = try client.send("POST", "/echo/hello")
        XCTAssertEqual(echoed.status, 200)
        XCTAssertEqual(String(decoding: echoed.body, as: UTF8.self), "hello")
        XCTAssertEqual(try client.send("POST", "/echo").status, 401, "outside the table, a POST needs the key")
        // Guarded although it is a GET.
        XCTAssertEqual(try client.get("/secret").status, 401)
        let secret = try client.send("GET", "/secret", headers: ["Authorization": "Bearer k"])
        XCTAssertEqual(secret.status, 200)
        XCTAssertEqual(String(decoding: secret.body, as: UTF8.self), "s3cret")

        // Labelled by its pattern, not by the client's path.
        let metrics = String(decoding: try client.get("/metrics").body, as: UTF8.self)
        XCTAssertTrue(metrics.contains("route=\"/echo/{word}\""), metrics)
        XCTAssertTrue(metrics.contains("route=\"/secret\""), metrics)
        XCTAssertFalse(metrics.contains("hello"), metrics)

        // Documented: its operation, its path parameter, and the bearer scheme exactly where the key is needed.
        let document = try XCTUnwrap(client.get("/openapi.json").json)
        let paths = try XCTUnwrap(document["paths"] as? [String: [String: Any]])
        let echo = try XCTUnwrap(paths["/echo/{word}"])
        let echoOperation = try XCTUnwrap(echo["post"] as? [String: Any])
        XCTAssertEqual(echoOperation["operationId"] as? String, "echo")
        XCTAssertNil(echoOperation["security"])
        XCTAssertEqual((echo["parameters"] as? [[String: Any]])?.first?["name"] as? String, "word")
        let secretOperation = try XCTUnwrap(paths["/secret"]?["get"] as? [String: Any])
        XCTAssertEqual(secretOperation["operationId"] as? String, "secret")
        XCTAssertNotNil(secretOperation["security"])
        XCTAssertNotNil((secretOperation["responses"] as? [String: Any])?["401"])
    }

    /// The metric label comes from the target the router matched, parsed once: a request with an encoded "/"
    /// inside a segment is labelled with the route that answered it, and an escaped escape that no route takes
    /// is "other". (The access log matched the decoded path again: the first was "other", the second "/secret".)
    func testAnOddTargetIsLabelledWithTheRouteThatAnsweredIt() throws {
        let client = try start(extraRoutes: extraRoutes, apiKeys: [])
        let echoed = try client.send("POST", "/echo/a%2Fb")
        XCTAssertEqual(echoed.status, 200)
        XCTAssertEqual(String(decoding: echoed.body, as: UTF8.self), "a/b")
        XCTAssertEqual(try client.get("/secre%2574").status, 404)
        let metrics = String(decoding: try client.get("/metrics").body, as: UTF8.self)
        XCTAssertTrue(metrics.contains("route=\"/echo/{word}\""), metrics)
        XCTAssertFalse(metrics.contains("route=\"/secret\""), metrics)
        XCTAssertTrue(metrics.contains("route=\"other\""), metrics)
    }

    /// Without the entries, the same requests meet no route: nothing outside the table answers them.
    func testWithoutTheEntriesThePathsAreNotRouted() throws {
        let client = try start(extraRoutes: [], apiKeys: [])
        XCTAssertEqual(try client.send("POST", "/echo/hello").status, 404)
        XCTAssertEqual(try client.get("/secret").status, 404)
        let paths = try XCTUnwrap(client.get("/openapi.json").json?["paths"] as? [String: Any])
        XCTAssertNil(paths["/echo/{word}"])
    }

    /// Every entry of the service's own table is documented once, under its own operation id, and is guarded in
    /// the document exactly when its rule needs a key.
    func testTheDocumentHasOneOperationPerEntry() throws {
        var configuration = ServiceConfiguration()
        configuration.apiKeys = ["k"]
        configuration.vertexPredictRoute = "/vertex/predict"
        configuration.vertexHealthRoute = "/vertex/health"
        let table = InferenceRoutes.table(configuration)
        let bytes = OpenAPIDocument.served(config: LiveInferenceTestCase.loaded.config,
                                           preparation: LiveInferenceTestCase.loaded.preparation,
                                           configuration: configuration, routes: table)
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let paths = try XCTUnwrap(document["paths"] as? [String: [String: Any]])
        var operations: [String: [String: Any]] = [:]
        for item in paths.values {
            for case let (method, operation as [String: Any]) in item where method != "parameters" {
                operations[operation["operationId"] as? String ?? "?"] = operation
            }
        }
        XCTAssertEqual(operations.count, table.count)
        for route in table {
            let operation = try XCTUnwrap(operations[route.operation.id], route.operation.id)
            XCTAssertEqual(operation["security"] != nil, route.access.needsKey(protectMetrics: false), route.operation.id)
        }
    }
}
