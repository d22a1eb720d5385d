import Foundation

/// The one owner of the BLAS threads when several models are served: each model's compute thread asks for its
/// turn here before a forward pass, and only one forward runs at a time (perf-notes: two multi-threaded GEMMs at
/// once serialise and waste the cores). Whose turn it is, is `ComputeArbitration.next`: the batch whose oldest
/// clip has waited longest, so a busy model cannot starve a quiet one.
final class ComputePool: @unchecked Sendable {
    // `@unchecked`: `busy`, `waiting` and `nextTicket` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var busy = false
    private var waiting: [ComputeArbitration.Waiter] = []
    private var nextTicket = 0

    init() {}

    /// Runs `body` when it is this batch's turn; `oldest` is when its oldest clip was queued.
    func run<T>(oldest: ContinuousClock.Instant, _ body: () -> T) -> T {
        condition.lock()
        let ticket = nextTicket
        nextTicket += 1
        waiting.append(ComputeArbitration.Waiter(ticket: ticket, oldest: oldest))
        while busy || ComputeArbitration.next(waiting) != ticket { condition.wait() }
        waiting.removeAll { $0.ticket == ticket }
        busy = true
        condition.unlock()
        defer {
            condition.lock()
            busy = false
            condition.broadcast()
            condition.unlock()
        }
        return body()
    }
}

/// The rule of `ComputePool`, as a pure function (tested like `BatchingPolicy`).
enum ComputeArbitration {
    struct Waiter: Sendable, Equatable {
        /// Order of asking: breaks ties (first come, first served).
        var ticket: Int
        /// When the batch's oldest clip was queued.
        var oldest: ContinuousClock.Instant
    }

    /// The ticket that runs next: oldest waiting clip first, then first asked; nil when nobody waits.
    static func next(_ waiting: [Waiter]) -> Int? {
        waiting.min { ($0.oldest, $0.ticket) < ($1.oldest, $1.ticket) }?.ticket
    }
}
