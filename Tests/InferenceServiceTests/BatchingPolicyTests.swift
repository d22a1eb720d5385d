@testable import InferenceService
import XCTest

/// The batching rules on snapshots of the queue at chosen instants: no threads, no sleeping.
final class BatchingPolicyTests: XCTestCase {
    private let t0 = ContinuousClock.now
    private let delay = Duration.milliseconds(2)
    private func at(_ milliseconds: Int) -> ContinuousClock.Instant { t0 + .milliseconds(milliseconds) }

    private func policy(batch: Int = 8, delay: Duration? = nil, fixed: Bool = false) -> BatchingPolicy {
        BatchingPolicy(maxBatchSize: batch, maxQueueDelay: delay ?? self.delay, fixedQueueDelay: fixed)
    }

    /// `started` requests began at `t0`, `finished` of them were answered since.
    private func company(started: Int, finished: Int = 0, at start: ContinuousClock.Instant? = nil) -> BatchingPolicy.Company {
        var company = BatchingPolicy.Company(now: start ?? t0)
        for _ in 0..<started { company.started(at: start ?? t0) }
        for _ in 0..<finished { company.finished() }
        return company
    }

    private func queue(clips: Int, requests: Int, arrived: ContinuousClock.Instant? = nil, lastBatchEnd: ContinuousClock.Instant? = nil,
                       company: BatchingPolicy.Company, stopping: Bool = false) -> BatchingPolicy.QueueState {
        BatchingPolicy.QueueState(clips: clips, requests: requests, oldestArrival: requests > 0 ? (arrived ?? t0) : nil,
                                  lastBatchEnd: lastBatchEnd ?? at(-1000), company: company, stopping: stopping)
    }

    func testAFullBatchRunsAtOnceEvenWithCompanyExpected() {
        let state = queue(clips: 8, requests: 2, company: company(started: 10))
        XCTAssertEqual(policy().decide(state, now: t0), .run)
        XCTAssertEqual(policy(fixed: true).decide(state, now: t0), .run)
    }

    /// The rule `testALoneRequestSkipsTheQueueDelayUnlessItIsFixed` checks end to end.
    func testALoneRequestSkipsTheDelayUnlessItIsFixed() {
        let state = queue(clips: 1, requests: 1, company: company(started: 1))
        XCTAssertEqual(policy().decide(state, now: t0), .run)
        XCTAssertEqual(policy(fixed: true).decide(state, now: t0), .wait(until: at(2)))
        XCTAssertEqual(policy(fixed: true).decide(state, now: at(2)), .run)
    }

    /// A peak of three concurrent clients, two of them answered by the last batch and not yet back: the
    /// queued request waits for them until the delay, not past it.
    func testARecentPeakOfCompanyIsWaitedForUntilTheDelay() {
        let state = queue(clips: 1, requests: 1, company: company(started: 3, finished: 2))
        XCTAssertEqual(policy().decide(state, now: t0), .wait(until: at(2)))
        XCTAssertEqual(policy().decide(state, now: at(1)), .wait(until: at(2)))
        XCTAssertEqual(policy().decide(state, now: at(2)), .run)
        // As many queued as expected: nobody else is coming.
        XCTAssertEqual(policy().decide(queue(clips: 3, requests: 3, company: company(started: 3)), now: t0), .run)
    }

    func testARecentPeakIsForgottenAfterPeakMemory() {
        let long = policy(delay: .seconds(2))
        let memory = BatchingPolicy.Company.peakMemory
        let state = queue(clips: 1, requests: 1, company: company(started: 3, finished: 2))
        XCTAssertEqual(long.decide(state, now: t0 + memory), .wait(until: at(2000)))
        XCTAssertEqual(long.decide(state, now: t0 + memory + .milliseconds(1)), .run)
        // A request starting after the peak expired starts a new peak from what is under way now.
        var company = company(started: 3, finished: 3)
        company.started(at: t0 + memory + .milliseconds(1))
        XCTAssertEqual(company.recentPeak, 1)
        XCTAssertEqual(company.expected(at: t0 + memory + .milliseconds(2)), 1)
    }

    /// Requests under way beyond those queued are being decoded: waited for past the delay, up to the grace.
    func testRequestsBeingDecodedAreWaitedForUpToTheGrace() {
        let state = queue(clips: 1, requests: 1, company: company(started: 2))
        let hardStop = at(2) + policy().decodingGrace
        XCTAssertEqual(policy().decide(state, now: t0), .wait(until: hardStop))
        XCTAssertEqual(policy().decide(state, now: at(5)), .wait(until: hardStop))
        XCTAssertEqual(policy().decide(state, now: hardStop), .run)
    }

    /// Clients answered by the last batch send again a moment later: the delay counts from the later of
    /// the first arrival and the end of that batch.
    func testTheDelayCountsFromTheLaterOfArrivalAndTheLastBatchEnd() {
        let peak = company(started: 4, finished: 3)
        let afterBatch = queue(clips: 1, requests: 1, arrived: t0, lastBatchEnd: at(5), company: peak)
        XCTAssertEqual(policy().decide(afterBatch, now: at(3)), .wait(until: at(7)))
        XCTAssertEqual(policy().decide(afterBatch, now: at(7)), .run)
        let afterArrival = queue(clips: 1, requests: 1, arrived: at(5), lastBatchEnd: t0, company: peak)
        XCTAssertEqual(policy().decide(afterArrival, now: at(5)), .wait(until: at(7)))
    }

    func testAnEmptyQueueWaitsForWorkAndStopsWhenStopping() {
        XCTAssertEqual(policy().decide(queue(clips: 0, requests: 0, company: company(started: 3)), now: t0), .waitForWork)
        XCTAssertEqual(policy().decide(queue(clips: 0, requests: 0, company: company(started: 3), stopping: true), now: t0), .stop)
    }

    /// A drain runs what is queued at once, however much company is expected or the delay fixed.
    func testStoppingRunsWhatIsQueuedWithoutWaiting() {
        let state = queue(clips: 1, requests: 1, company: company(started: 5), stopping: true)
        XCTAssertEqual(policy(fixed: true).decide(state, now: t0), .run)
    }

    // MARK: What goes into a batch

    private func work(_ count: Int, taken: Int = 0, cancelled: Bool = false) -> BatchingPolicy.QueuedWork {
        BatchingPolicy.QueuedWork(count: count, taken: taken, isCancelled: cancelled)
    }

    private func slice(_ job: Int, _ first: Int, _ count: Int) -> BatchingPolicy.Slice {
        BatchingPolicy.Slice(job: job, first: first, count: count)
    }

    func testJobsGoWholeInArrivalOrderUpToTheBatchSize() {
        let plan = policy(batch: 8).plan([work(3), work(4), work(2), work(1)])
        // The third job does not fit the one clip left: the batch ends there, the fourth does not overtake it.
        XCTAssertEqual(plan, BatchingPolicy.Plan(dropped: [], slices: [slice(0, 0, 3), slice(1, 0, 4)]))
    }

    func testJobsOfClientsThatLeftAreDroppedNotPlanned() {
        let plan = policy(batch: 4).plan([work(2, cancelled: true), work(3), work(1), work(4, cancelled: true), work(2)])
        XCTAssertEqual(plan, BatchingPolicy.Plan(dropped: [0, 3], slices: [slice(1, 0, 3), slice(2, 0, 1)]))
        XCTAssertEqual(policy(batch: 4).plan([work(2, cancelled: true)]), BatchingPolicy.Plan(dropped: [0], slices: []))
    }

    /// A request of more clips than a batch fills the room left, then its rest leads the next batches.
    func testABigRequestIsSplitAcrossBatches() {
        let policy = policy(batch: 4)
        var queue = [work(1), work(10), work(2)]
        var batches: [[BatchingPolicy.Slice]] = []
        while !queue.isEmpty {
            let plan = policy.plan(queue)
            batches.append(plan.slices)
            for slice in plan.slices { queue[slice.job].taken += slice.count }
            queue.removeAll { $0.taken == $0.count }
            XCTAssertLessThan(batches.count, 10, "the queue does not drain")
            if batches.count >= 10 { break }
        }
        // Job indices are positions in the queue at each step: the big job is first once the lone clip is gone.
        XCTAssertEqual(batches, [
            [slice(0, 0, 1), slice(1, 0, 3)],
            [slice(0, 3, 4)],
            [slice(0, 7, 3)],
            [slice(0, 0, 2)],
        ])
    }

    func testTheRestOfASplitRequestIsFollowedByWholeJobsThatFit() {
        let plan = policy(batch: 4).plan([work(10, taken: 8), work(1), work(2)])
        XCTAssertEqual(plan.slices, [slice(0, 8, 2), slice(1, 0, 1)])
    }
}
