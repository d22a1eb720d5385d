/// A `.pose` file that cannot be read: a one-line message saying where and why.
public struct PoseFileError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
