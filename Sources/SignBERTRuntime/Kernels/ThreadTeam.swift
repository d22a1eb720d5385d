import CKernels

/// A persistent team of threads that run one forward pass together (CKernels' sb_team): the caller is
/// lane 0, the team owns the others. Starting a job or meeting at a barrier costs a few atomic operations
/// (no Dispatch call per step); idle lanes spin briefly and then sleep, so an idle team uses no CPU.
/// One `run` at a time.
public final class ThreadTeam: @unchecked Sendable {  // the C team is only driven by one caller at a time
    public let lanes: Int
    private let team: OpaquePointer

    public init(lanes: Int) {
        guard let team = sb_team_create(Int32(max(1, lanes))) else { fatalError("cannot create a thread team") }
        self.team = team
        self.lanes = Int(sb_team_lanes(team))
    }

    deinit { sb_team_destroy(team) }

    /// Runs `body` on every lane at once and returns when all have finished.
    func run(_ body: (Lane) -> Void) {
        withoutActuallyEscaping(body) { body in
            var job = Job(team: team, body: body)
            withUnsafeMutablePointer(to: &job) { pointer in
                sb_team_run(team, { context, lane, lanes in
                    guard let job = context?.assumingMemoryBound(to: Job.self).pointee else { return }
                    job.body(Lane(index: Int(lane), count: Int(lanes), team: job.team))
                }, pointer)
            }
        }
    }

    private struct Job {
        let team: OpaquePointer
        let body: (Lane) -> Void
    }
}

/// One thread's place in a team computing a forward pass together: which share of each step is its own,
/// and the barrier between steps. `solo` is a thread computing alone.
struct Lane {
    let index: Int
    let count: Int
    let team: OpaquePointer?

    static var solo: Lane { Lane(index: 0, count: 1, team: nil) }

    /// Waits until every lane has finished the step before (a no-op alone).
    func barrier() {
        if count > 1, let team { sb_team_barrier(team) }
    }

    /// This lane's contiguous share of 0..<n, in whole multiples of `granule` but the last (columns are
    /// shared 16 at a time so each lane's tile starts on a vector boundary).
    func share(_ n: Int, granule: Int = 1) -> Range<Int> {
        let units = (n + granule - 1) / granule
        let first = min(n, units * index / count * granule), last = min(n, units * (index + 1) / count * granule)
        return first..<last
    }

    /// This lane's tile of a [rows, cols] GEMM output: tall matrices are cut by rows (each lane a whole
    /// GEMM on its rows), short ones by columns (each lane the whole input against its columns of the
    /// weight: at one clip's 64 rows a row cut would leave each GEMM too few rows to run at speed).
    func tile(rows: Int, cols: Int) -> (rows: Range<Int>, cols: Range<Int>) {
        guard count > 1 else { return (0..<rows, 0..<cols) }
        return rows >= Lane.rowSplitMinimum * count ? (share(rows), 0..<cols) : (0..<rows, share(cols, granule: 16))
    }

    /// Rows per lane from which a Linear is cut by rows rather than by columns.
    static let rowSplitMinimum = 256
}
