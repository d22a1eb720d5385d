import Foundation
import SignBERTRuntime
import WireFormats

/// Writes small `.pose` files (spec v0.1 / v0.2 layout) for the reader's tests, so each field can be set wrong.
struct PoseFileBuilder {
    struct Component {
        var name: String
        var format = "XYZC"
        var points: [String]
        var limbs = 1
        var colors = 1
    }

    var version: Float = 0.1
    var components: [Component]
    var frames = 3
    var people = 1
    var declaredFrames: Int?
    /// Every point of every person and frame: (x, y, confidence).
    var point: (_ frame: Int, _ person: Int, _ index: Int) -> (Float, Float, Float) = { frame, person, index in
        (Float(100 + index + frame), Float(200 + person), 0.5)
    }

    /// A Holistic file: the full pose, both hands, a small face between them.
    static func holistic() -> PoseFileBuilder {
        PoseFileBuilder(components: [
            Component(name: "POSE_LANDMARKS", points: PoseFileReader.poseLandmarkNames),
            Component(name: "FACE_LANDMARKS", points: ["0", "1"]),
            Component(name: "LEFT_HAND_LANDMARKS", points: PoseFileReader.handLandmarkNames),
            Component(name: "RIGHT_HAND_LANDMARKS", points: PoseFileReader.handLandmarkNames)])
    }

    var totalPoints: Int { components.reduce(0) { $0 + $1.points.count } }

    func bytes() -> [UInt8] {
        var out: [UInt8] = []
        func u16(_ value: Int) { withUnsafeBytes(of: UInt16(truncatingIfNeeded: value).littleEndian) { out += $0 } }
        func u32(_ value: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian) { out += $0 } }
        func f32(_ value: Float) { withUnsafeBytes(of: value.bitPattern.littleEndian) { out += $0 } }
        func string(_ text: String) { u16(text.utf8.count); out += Array(text.utf8) }
        f32(version)
        u16(1280); u16(720); u16(0)
        u16(components.count)
        for component in components {
            string(component.name); string(component.format)
            u16(component.points.count); u16(component.limbs); u16(component.colors)
            component.points.forEach(string)
            for _ in 0..<component.limbs { u16(0); u16(1) }
            for _ in 0..<component.colors { u16(255); u16(0); u16(0) }
        }
        if version > 0.15 { f32(25); u32(declaredFrames ?? frames) } else { u16(25); u16(declaredFrames ?? frames) }
        u16(people)
        let dims = (components.map(\.format.count).max() ?? 1) - 1
        for frame in 0..<frames { for person in 0..<people { for index in 0..<totalPoints {
            let (x, y, _) = point(frame, person, index)
            f32(x); f32(y)
            for _ in 2..<max(dims, 2) { f32(0.25) }
        } } }
        for frame in 0..<frames { for person in 0..<people { for index in 0..<totalPoints {
            f32(point(frame, person, index).2)
        } } }
        return out
    }
}
