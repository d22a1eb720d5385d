import SignBERTRuntime
import WireFormats

/// What the OpenAPI document says of one route (its path and method come from the route): OpenAPI 3.0
/// Operation Object fields as JSON values, mostly references to the bundled components.
struct OpenAPIOperation: Sendable {
    var id: String
    var summary: String
    var parameters: [JSONValue] = []
    var requestBody: JSONValue?
    var responses: [(status: String, response: JSONValue)]

    /// The Operation Object, fields in the order people read them.
    func json(security: Bool) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("summary", .string(summary)), ("operationId", .string(id))]
        if !parameters.isEmpty { members.append(("parameters", .array(parameters))) }
        if let requestBody { members.append(("requestBody", requestBody)) }
        var codes = responses.map { (key: $0.status, value: $0.response) }
        if security {
            codes.append(("401", OpenAPI.ref("responses/Error401")))
        }
        members.append(("responses", .object(codes)))
        if security { members.append(("security", .array([.object([("bearer", .array([]))])]))) }
        return .object(members)
    }
}

/// Small constructors for the document's values.
enum OpenAPI {
    /// `{"$ref": "#/components/<path>"}`.
    static func ref(_ path: String) -> JSONValue { .object([("$ref", .string("#/components/" + path))]) }

    /// A response with a JSON body of `schema` (a reference to a named schema, or an inline one).
    static func json(_ description: String, _ schema: JSONValue, headers: JSONValue? = nil) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("description", .string(description))]
        if let headers { members.append(("headers", headers)) }
        members.append(("content", .object([("application/json", .object([("schema", schema)]))])))
        return .object(members)
    }

    /// A response whose JSON body is the named schema.
    static func json(_ description: String, schema name: String) -> JSONValue {
        json(description, ref("schemas/" + name))
    }

    /// The failures of every prediction route: a bad body, too large, the wrong media type, overloaded, late.
    static func predictionFailures(notFound: Bool = false) -> [(status: String, response: JSONValue)] {
        (notFound ? ["400", "404", "413", "415", "503", "504"] : ["400", "413", "415", "503", "504"])
            .map { (status: $0, response: ref("responses/Error" + $0)) }
    }
}
