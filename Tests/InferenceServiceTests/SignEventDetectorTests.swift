@testable import InferenceService
import XCTest

/// The sign-event rule on hand-made window sequences: runs of a label above the threshold become events once
/// they end, short runs and low or no-sign windows do not.
final class SignEventDetectorTests: XCTestCase {
    private let labels = ["rest", "hello", "thanks"]

    /// A window of 8 frames ending at `end`, with `top` at probability `p` and the rest shared by the others.
    private func window(_ detector: inout SignEventDetector, end: Int, top: Int, p: Double) -> [SignEvent] {
        var probabilities = [Double](repeating: (1 - p) / 2, count: 3)
        probabilities[top] = p
        return detector.add(start: end - 7, end: end, probabilities: probabilities)
    }

    func testARunBecomesOneEventWhenItEnds() {
        var detector = SignEventDetector(settings: SignEventSettings(threshold: 0.5, minWindows: 2), labels: labels)
        XCTAssertEqual(window(&detector, end: 7, top: 1, p: 0.9), [])
        XCTAssertEqual(window(&detector, end: 11, top: 1, p: 0.7), [])
        XCTAssertEqual(window(&detector, end: 15, top: 1, p: 0.8), [])
        // A low window ends the run: one event over the three windows, scored by their mean.
        let events = window(&detector, end: 19, top: 2, p: 0.4)
        XCTAssertEqual(events.count, 1)
        XCTAssertEqual(events.first?.label, "hello")
        XCTAssertEqual(events.first?.index, 1)
        XCTAssertEqual(events.first?.startFrame, 0)
        XCTAssertEqual(events.first?.endFrame, 15)
        XCTAssertEqual(events.first?.score ?? 0, 0.8, accuracy: 1e-12)
        XCTAssertEqual(detector.finish(), [])
    }

    func testAnotherLabelEndsTheRunAndStartsItsOwn() {
        var detector = SignEventDetector(settings: SignEventSettings(threshold: 0.5, minWindows: 2), labels: labels)
        _ = window(&detector, end: 7, top: 1, p: 0.9)
        _ = window(&detector, end: 11, top: 1, p: 0.9)
        XCTAssertEqual(window(&detector, end: 15, top: 2, p: 0.9).map(\.label), ["hello"])
        XCTAssertEqual(window(&detector, end: 19, top: 2, p: 0.6), [])
        let last = detector.finish()
        XCTAssertEqual(last.map(\.label), ["thanks"])
        XCTAssertEqual(last.first?.startFrame, 8)
        XCTAssertEqual(last.first?.endFrame, 19)
        XCTAssertEqual(detector.finish(), [], "finish closes the run once")
    }

    func testShortRunsAndLowScoresAreNoEvents() {
        var detector = SignEventDetector(settings: SignEventSettings(threshold: 0.8, minWindows: 3), labels: labels)
        _ = window(&detector, end: 7, top: 1, p: 0.9)
        _ = window(&detector, end: 11, top: 1, p: 0.9)
        XCTAssertEqual(window(&detector, end: 15, top: 2, p: 0.95), [], "a run of 2 < min_windows 3")
        _ = window(&detector, end: 19, top: 2, p: 0.95)
        XCTAssertEqual(window(&detector, end: 23, top: 2, p: 0.79), [], "below the threshold: the run of 2 ends unreported")
        XCTAssertEqual(detector.finish(), [])
    }

    func testTheNoSignClassSeparatesTwoSignsOfTheSameLabel() {
        var detector = SignEventDetector(settings: SignEventSettings(threshold: 0.5, minWindows: 1, noSign: 0), labels: labels)
        XCTAssertEqual(window(&detector, end: 7, top: 1, p: 0.9), [])
        XCTAssertEqual(window(&detector, end: 11, top: 0, p: 0.99).map(\.label), ["hello"])
        XCTAssertEqual(window(&detector, end: 15, top: 0, p: 0.99), [])
        XCTAssertEqual(window(&detector, end: 19, top: 1, p: 0.9), [])
        XCTAssertEqual(detector.finish().map(\.startFrame), [12])
        // Without a no-sign class, the same sequence with a confident "rest" is a sign of its own.
        var plain = SignEventDetector(settings: SignEventSettings(threshold: 0.5, minWindows: 1), labels: labels)
        _ = window(&plain, end: 7, top: 1, p: 0.9)
        XCTAssertEqual(window(&plain, end: 11, top: 0, p: 0.99).map(\.label), ["hello"])
        XCTAssertEqual(window(&plain, end: 15, top: 1, p: 0.9).map(\.label), ["rest"])
    }

    func testTiesGoToTheLowerClassAsInPredictions() {
        var detector = SignEventDetector(settings: SignEventSettings(threshold: 0.4, minWindows: 1), labels: labels)
        _ = detector.add(start: 0, end: 7, probabilities: [0.1, 0.45, 0.45])
        XCTAssertEqual(detector.finish().map(\.index), [1])
    }
}
