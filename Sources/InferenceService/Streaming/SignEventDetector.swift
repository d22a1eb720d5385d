/// The sign-event settings of a stream (the `events` member of its `start` message).
struct SignEventSettings: Sendable, Equatable {
    /// The least top-class probability a window needs to count toward a sign.
    /// The defaults (0.4, 3) are the best of a grid on the demo model's continuous recordings (tools/stream_accuracy.py
    /// --sweep; models/demo-gestures/README.md): with window 64 and stride 16, three windows in a row filter the
    /// short-lived top labels of transitions better than a high threshold does.
    var threshold: Double = 0.4
    /// Consecutive windows with the same top label a sign needs.
    var minWindows: Int = 3
    /// A class that means "no sign" (a rest class), if the model has one: it ends a sign like a low score does.
    var noSign: Int?
}

/// A recognised sign: a label that stayed on top over consecutive windows.
struct SignEvent: Sendable, Equatable {
    var label: String
    var index: Int
    /// The first frame of the first window of the run and the last frame of its last window (inclusive).
    var startFrame: Int
    var endFrame: Int
    /// The mean probability of `label` over the run's windows.
    var score: Double
}

/// Turns each window's class probabilities into sign events. Pure: no clock, no I/O.
///
/// The rule: a window *counts* for its top class when that class is not the `noSign` class and its probability
/// is at least `threshold`. A run is a sequence of consecutive windows that count for the same class; it ends at
/// a window that does not count (low score or no-sign) or counts for another class (which starts a new run), or
/// at `finish()`. A run of at least `minWindows` windows is an event, reported when the run ends.
struct SignEventDetector: Sendable {
    let settings: SignEventSettings
    let labels: [String]

    private struct Run {
        var index: Int
        var startFrame: Int
        var endFrame: Int
        var scores: [Double]
    }

    private var run: Run?

    init(settings: SignEventSettings, labels: [String]) {
        self.settings = settings
        self.labels = labels
    }

    /// Adds the next window (frames `start...end`, the model's probabilities); returns the event it ended, if any.
    mutating func add(start: Int, end: Int, probabilities: [Double]) -> [SignEvent] {
        guard let top = probabilities.indices.max(by: { probabilities[$0] < probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 > $1) }) else {
            return []
        }
        let counts = top != settings.noSign && probabilities[top] >= settings.threshold
        if counts, var current = run, current.index == top {
            current.endFrame = end
            current.scores.append(probabilities[top])
            run = current
            return []
        }
        let ended = endRun()
        if counts { run = Run(index: top, startFrame: start, endFrame: end, scores: [probabilities[top]]) }
        return ended
    }

    /// Ends the open run (the end of the stream); returns its event if it is long enough.
    mutating func finish() -> [SignEvent] { endRun() }

    private mutating func endRun() -> [SignEvent] {
        defer { run = nil }
        guard let run, run.scores.count >= settings.minWindows else { return [] }
        let label = run.index < labels.count ? labels[run.index] : "class_\(run.index)"
        return [SignEvent(label: label, index: run.index, startFrame: run.startFrame, endFrame: run.endFrame,
                          score: run.scores.reduce(0, +) / Double(run.scores.count))]
    }
}
