public import SignBERTRuntime

/// What a `/predict` request carries besides its clips: how many classes to rank (`top_k`), whether to return
/// the logits (`return_logits`), and whether a clip must already have the model's frame count (`"frames":
/// "exact"`) or is brought to it (`"sample"`, the default). Decoded on its own, once, by one set of checks, from
/// wherever a route takes it: the members of a JSON object (a `/predict` body, the `parameters` of an instances
/// body) or a query string (a `.pose` body's, or a JSON body's, whose own members then may not repeat them).
public struct PredictionOptions: Sendable, Equatable {
    public var topK: Int
    public var returnLogits: Bool
    public var exactFrames: Bool

    /// The option names, as a JSON member or a query parameter.
    public static let names = ["top_k", "return_logits", "frames"]

    public init(topK: Int, returnLogits: Bool, exactFrames: Bool) {
        self.topK = topK
        self.returnLogits = returnLogits
        self.exactFrames = exactFrames
    }

    /// The options a JSON object sets (members other than the options are not looked at); absent or null ones
    /// are the defaults: the top 5 classes (or all K when fewer), no logits, clips sampled.
    public init(json object: JSONValue, numClasses: Int) throws(RequestError) {
        try self.init(numClasses: numClasses) { object[$0] }
    }

    /// The options of a query string (a `.pose` body's): `top_k=3&return_logits=true&frames=exact`.
    public init(query: Query, numClasses: Int) throws(RequestError) {
        try self.init(json: .object(query.members), numClasses: numClasses)
    }

    /// The options of a JSON object and of a query string together (a JSON body's); one set in both is refused.
    public init(json object: JSONValue, query: Query, numClasses: Int) throws(RequestError) {
        try query.checkNotSet(in: object)
        let fromQuery = JSONValue.object(query.members)
        try self.init(numClasses: numClasses) { fromQuery[$0] ?? object[$0] }
    }

    /// The one set of checks, over the value each option has (nil when not given).
    init(numClasses: Int, member: (String) -> JSONValue?) throws(RequestError) {
        topK = try Self.topK(member("top_k"), numClasses: numClasses)
        switch member("return_logits") {
        case nil, .null?: returnLogits = false
        case .bool(let value)?: returnLogits = value
        case let other?: throw RequestError("\"return_logits\" must be true or false, got \(other.kindName)")
        }
        switch member("frames") {
        case nil, .null?, .string("sample")?: exactFrames = false
        case .string("exact")?: exactFrames = true
        case let other?:
            let shown = if case .string(let text) = other { "\"\(text)\"" } else { other.kindName }
            throw RequestError("\"frames\" must be \"sample\" (bring any clip length to the model's frames as its training loader did) or \"exact\", got \(shown)")
        }
    }

    static func topK(_ value: JSONValue?, numClasses: Int) throws(RequestError) -> Int {
        switch value {
        case nil, .null?:
            return min(PredictionRequest.defaultTopK, numClasses)
        case .number(let number)?:
            guard number == number.rounded(), number >= 1, number < 1e9 else {
                throw RequestError("\"top_k\" must be a whole number of at least 1, got \(number)")
            }
            // More than K is answered with all K classes, as top-k APIs usually do.
            return min(Int(number), numClasses)
        case let other?:
            throw RequestError("\"top_k\" must be a number, got \(other.kindName)")
        }
    }

    /// A query string's options as the JSON values they stand for (a number, a boolean, a string): checked for
    /// form when made (a name given twice or not known, a top_k that is not a number, ...), for value by the
    /// same checks as a body's.
    public struct Query: Sendable {
        let members: [(key: String, value: JSONValue)]

        public var isEmpty: Bool { members.isEmpty }

        public init(_ query: [(name: String, value: String)]) throws(RequestError) {
            var members: [(key: String, value: JSONValue)] = []
            for (name, value) in query {
                guard !members.contains(where: { $0.key == name }) else {
                    throw RequestError("query parameter \"\(name)\" is given twice")
                }
                switch name {
                case "top_k":
                    guard let number = Double(value) else { throw RequestError("query top_k must be a number, got \"\(value)\"") }
                    members.append((key: name, value: .number(number)))
                case "return_logits":
                    guard let flag = Bool(value) else { throw RequestError("query return_logits must be true or false, got \"\(value)\"") }
                    members.append((key: name, value: .bool(flag)))
                case "frames":
                    members.append((key: name, value: .string(value)))
                default:
                    throw RequestError("query parameter \"\(name)\" is not known; the options are top_k, return_logits and frames")
                }
            }
            self.members = members
        }

        /// Refuses an option that `object` (a JSON body) sets as well.
        public func checkNotSet(in object: JSONValue) throws(RequestError) {
            for option in members where object[option.key] != nil {
                throw RequestError("\"\(option.key)\" is set both in the query string and in the body; set it once")
            }
        }
    }
}
