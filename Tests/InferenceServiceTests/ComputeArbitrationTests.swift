import Foundation
import Synchronization
@testable import InferenceService
import XCTest

/// The compute pool's rule, deterministically: the batch whose oldest clip waited longest runs next, ties go to
/// whoever asked first; and the pool itself never runs two bodies at once.
final class ComputeArbitrationTests: XCTestCase {
    let t0 = ContinuousClock.now

    func testOldestWaitingClipGoesFirst() {
        let busy = ComputeArbitration.Waiter(ticket: 0, oldest: t0 + .milliseconds(5))
        let quiet = ComputeArbitration.Waiter(ticket: 1, oldest: t0 + .milliseconds(1))
        XCTAssertEqual(ComputeArbitration.next([busy, quiet]), 1, "the quiet model's older clip runs before the busy model's newer batch")
        XCTAssertEqual(ComputeArbitration.next([quiet, busy]), 1)
    }

    func testTiesGoToTheFirstToAsk() {
        let a = ComputeArbitration.Waiter(ticket: 7, oldest: t0)
        let b = ComputeArbitration.Waiter(ticket: 3, oldest: t0)
        XCTAssertEqual(ComputeArbitration.next([a, b]), 3)
        XCTAssertNil(ComputeArbitration.next([]))
    }

    /// A busy model that always has a new batch waiting cannot starve a quiet one: as soon as the quiet model's
    /// clip is older than the busy model's next batch, it runs.
    func testABusyModelCannotStarveAQuietOne() {
        var order: [String] = []
        var busyNext = t0
        let quietArrival = t0 + .milliseconds(3)
        var quietDone = false
        var clock = t0
        while order.count < 10 {
            var waiting = [ComputeArbitration.Waiter(ticket: 0, oldest: busyNext)]
            if !quietDone && clock >= quietArrival { waiting.append(.init(ticket: 1, oldest: quietArrival)) }
            if ComputeArbitration.next(waiting) == 1 {
                order.append("quiet")
                quietDone = true
            } else {
                order.append("busy")
                busyNext = clock + .milliseconds(1)  // a new batch queued while this one ran
            }
            clock += .milliseconds(2)  // each forward takes 2 ms
        }
        XCTAssertEqual(order.firstIndex(of: "quiet"), 3, "\(order)")
    }

    func testThePoolRunsOneBodyAtATime() {
        let pool = ComputePool()
        let inside = Atomic(0), overlap = Atomic(false)
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            for _ in 0..<20 {
                pool.run(oldest: .now - .milliseconds(index)) {
                    if inside.add(1, ordering: .relaxed).newValue > 1 { overlap.store(true, ordering: .relaxed) }
                    Thread.sleep(forTimeInterval: 0.0002)
                    inside.subtract(1, ordering: .relaxed)
                }
            }
        }
        XCTAssertFalse(overlap.load(ordering: .relaxed))
    }
}
