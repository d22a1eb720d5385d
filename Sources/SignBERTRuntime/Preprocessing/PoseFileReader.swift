/// Reads `.pose` files (pose-format spec v0.1, and v0.2 which the current library writes).
public import Foundation

public enum PoseFileReader {
    /// The MediaPipe Holistic landmarks of the file's first person, in the spec's array form.
    public static func read(_ bytes: some ContiguousBytes,
                            maxFrames: Int = PredictionRequest.defaultMaxFrames) throws(PoseFileError) -> HolisticClip {
        try readFile(bytes, maxFrames: maxFrames).clip
    }

    /// The header and the Holistic landmarks of the first person.
    public static func readFile(_ bytes: some ContiguousBytes,
                                maxFrames: Int = PredictionRequest.defaultMaxFrames) throws(PoseFileError) -> PoseFile {
        throw PoseFileError("not yet")
    }
}
