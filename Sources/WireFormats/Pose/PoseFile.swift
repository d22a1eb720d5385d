public import SignBERTRuntime

/// A `.pose` file (the binary format of the sign-language-processing `pose-format` library) as read by
/// `PoseFileReader`: its header and the MediaPipe Holistic landmarks of its first person.
public struct PoseFile: Sendable {
    public struct Component: Sendable, Equatable {
        public var name: String
        /// The point format, e.g. "XYZC": the coordinates, then the confidence.
        public var format: String
        public var points: [String]
    }

    public struct Header: Sendable, Equatable {
        public var version: Float
        public var width: Int
        public var height: Int
        public var depth: Int
        public var components: [Component]
    }

    public var header: Header
    public var fps: Double
    /// People recorded per frame; only the first is read.
    public var people: Int
    public var clip: HolisticClip
}
