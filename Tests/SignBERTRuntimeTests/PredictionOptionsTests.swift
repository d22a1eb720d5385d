import SignBERTRuntime
import WireFormats
import XCTest

/// `/predict`'s options are decoded on their own, by one set of checks, whether they come as a JSON object's members
/// or as a query string.
final class PredictionOptionsTests: XCTestCase {
    private func json(_ members: [(key: String, value: JSONValue)], classes: Int = 10) throws(RequestError) -> PredictionOptions {
        try PredictionOptions(json: .object(members), numClasses: classes)
    }

    private func query(_ items: [(name: String, value: String)], classes: Int = 10) throws(RequestError) -> PredictionOptions {
        try PredictionOptions(query: PredictionOptions.Query(items), numClasses: classes)
    }

    private func message(_ decode: () throws(RequestError) -> PredictionOptions) -> String {
        do { _ = try decode(); return "accepted" } catch { return error.message }
    }

    func testDefaultsAndTheSameOptionsFromJSONAndFromAQuery() throws {
        XCTAssertEqual(try json([]), PredictionOptions(topK: 5, returnLogits: false, exactFrames: false))
        XCTAssertEqual(try json([], classes: 3).topK, 3, "the default top 5, capped at K")
        let fromJSON = try json([(key: "top_k", value: .number(20)), (key: "return_logits", value: .bool(true)),
                                 (key: "frames", value: .string("exact"))])
        let fromQuery = try query([(name: "top_k", value: "20"), (name: "return_logits", value: "true"),
                                   (name: "frames", value: "exact")])
        XCTAssertEqual(fromJSON, PredictionOptions(topK: 10, returnLogits: true, exactFrames: true))
        XCTAssertEqual(fromQuery, fromJSON)
    }

    func testAValueIsRefusedWithTheSameMessageFromEitherPlace() {
        XCTAssertEqual(message { () throws(RequestError) in try json([(key: "top_k", value: .number(0))]) },
                       message { () throws(RequestError) in try query([(name: "top_k", value: "0")]) })
        XCTAssertEqual(message { () throws(RequestError) in try json([(key: "frames", value: .string("all"))]) },
                       "\"frames\" must be \"sample\" (bring any clip length to the model's frames as its training loader did) or \"exact\", got \"all\"")
        XCTAssertEqual(message { () throws(RequestError) in try query([(name: "frames", value: "all")]) },
                       message { () throws(RequestError) in try json([(key: "frames", value: .string("all"))]) })
        XCTAssertEqual(message { () throws(RequestError) in try json([(key: "return_logits", value: .string("yes"))]) },
                       "\"return_logits\" must be true or false, got a string")
        // The query's own mistakes of form.
        XCTAssertEqual(message { () throws(RequestError) in try query([(name: "top_k", value: "x")]) },
                       "query top_k must be a number, got \"x\"")
        XCTAssertEqual(message { () throws(RequestError) in try query([(name: "top_k", value: "1"), (name: "top_k", value: "2")]) },
                       "query parameter \"top_k\" is given twice")
        XCTAssertEqual(message { () throws(RequestError) in try query([(name: "k", value: "1")]) },
                       "query parameter \"k\" is not known; the options are top_k, return_logits and frames")
    }

    func testABodyAndAQueryTogetherEachSetTheirOwn() throws {
        let body = JSONValue.object([(key: "top_k", value: .number(2))])
        let both = try PredictionOptions(json: body, query: PredictionOptions.Query([(name: "return_logits", value: "true")]),
                                         numClasses: 10)
        XCTAssertEqual(both, PredictionOptions(topK: 2, returnLogits: true, exactFrames: false))
        XCTAssertEqual(message { () throws(RequestError) in
            try PredictionOptions(json: body, query: PredictionOptions.Query([(name: "top_k", value: "3")]), numClasses: 10)
        }, "\"top_k\" is set both in the query string and in the body; set it once")
    }
}
