/// Why a client's input was refused: a message that names the field and what is wrong with it (HTTP 400).
/// In the runtime because the preprocessing refuses input too (a clip that is not finite once preprocessed);
/// the request decoders of `WireFormats` throw it as well.
public struct RequestError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
