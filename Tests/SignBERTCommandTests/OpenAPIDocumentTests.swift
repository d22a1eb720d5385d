import Foundation
import XCTest

/// docs/openapi.json is the document `signbert serve` publishes for the bundled model; it must not drift.
final class OpenAPIDocumentTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardized

    func testTheCommittedDocumentIsTheOneTheServerPublishes() throws {
        let result = try SignBERTProcess.run(["serve", "--model", Self.repository.appendingPathComponent("models/demo-gestures").path,
                                              "--print-openapi"], environment: [:])
        XCTAssertEqual(result.status, 0, String(decoding: result.stderr, as: UTF8.self))
        let committed = try Data(contentsOf: Self.repository.appendingPathComponent("docs/openapi.json"))
        XCTAssertEqual(String(decoding: result.stdout, as: UTF8.self), String(decoding: committed, as: UTF8.self),
                       "regenerate: signbert serve --model models/demo-gestures --print-openapi > docs/openapi.json")
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: committed) as? [String: Any])
        XCTAssertEqual(document["openapi"] as? String, "3.0.3")
    }
}
