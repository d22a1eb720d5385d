import ArgumentParser
import Foundation
import JSONText
import SignBERTRuntime

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure in-process forward latency and throughput (median and p99 of repeated runs).")

    @Option(name: .long, help: ArgumentHelp("A checkpoint to measure (default: random weights at the default architecture).",
                                            valueName: "file"))
    var checkpoint: String?

    @Option(name: .long, help: "Without a checkpoint: random weights of v1 or v2 (all flags on) at the spec's defaults.")
    var variant: String = "v1"

    @Flag(name: .long, help: "Also measure raw cblas_sgemm throughput at the model's four Linear shapes (a 32-clip batch's rows for v1, one clip's for v2) per thread count: the ceiling the GEMMs alone allow, and the model's share of it.")
    var sgemm = false

    @Flag(name: .long, help: "Also measure the peak multiply-add rate of the kernel path in use per thread count (independent chains of vector multiply-adds in registers, no memory): the machine's ceiling for any runtime, and the model's share of it.")
    var peak = false

    @Option(name: .long, help: ArgumentHelp("A model directory to measure.", valueName: "dir"))
    var model: String?

    @Option(name: .long, help: "Batch sizes, comma-separated.")
    var batches: String = "1,8,32"

    @Option(name: .long, help: "Thread counts to measure, comma-separated (default: the cores this process may use).")
    var threads: String?

    @Option(name: .long, help: "How the engine uses the threads: automatic, shard (clips per thread), split (each clip over all threads), shard+split (the even part sharded, the clips left over split) or openblas (whole batches on OpenBLAS's threads).")
    var strategy: String = "automatic"

    @Flag(name: .long, help: "The same as --strategy openblas (kept for older commands).")
    var noSharding = false

    @Option(name: .long, help: "Element-wise kernel path: baseline, avx2 or avx512 (default: the best this CPU supports).")
    var kernels: String?

    @Option(name: .long, help: "The Linear layers' GEMM: automatic, packed (the weights packed once at load) or openblas; several, comma-separated, load one model each (each GEMM reads its own layout of the weights) and are measured run by run in turn, so they share the machine's state.")
    var gemm: String?

    @Option(name: .long, help: "Seconds of timed runs per batch size (after warm-up).")
    var seconds: Double = 2

    @Flag(name: .long, help: "Print JSON ({\"results\": [...]}) instead of a table.")
    var json = false

    func run() throws {
        try reportingErrors {
            let sizes = batches.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 && $0 <= 4096 }) else {
                throw ValidationError("--batches takes positive batch sizes, e.g. 1,8,32")
            }
            let gemms: [LinearGEMM] = try gemm.map { list in
                let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                let choices = names.compactMap(LinearGEMM.init(rawValue:))
                guard !choices.isEmpty, choices.count == names.count else {
                    throw ValidationError("--gemm takes automatic, packed or openblas, comma-separated")
                }
                return choices
            } ?? [LinearGEMM.current]
            // Each GEMM reads its own layout of the weights, made at load: one model per GEMM.
            func load() throws -> SignBERTModel {
                if checkpoint != nil || self.model != nil {
                    let source = ModelSource(checkpoint: checkpoint.map { URL(fileURLWithPath: $0) },
                                             modelDirectory: self.model.map { URL(fileURLWithPath: $0) })
                    return try ModelLoader.load(source).model
                } else {
                    guard let config = ["v1": SignBERTConfig.defaults, "v2": SignBERTConfig.v2Defaults][variant] else {
                        throw ValidationError("--variant is v1 or v2")
                    }
                    return SignBERTModel(config: config, weights: try SignBERTWeights(stateDict: .random(config: config), config: config))
                }
            }
            let models = try gemms.map { gemm -> SignBERTModel in
                LinearGEMM.use(gemm)
                return try load()
            }
            let model = models[0]
            let threadCounts = try threads.map { list in
                let counts = list.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !counts.isEmpty, counts.allSatisfy({ $0 > 0 && $0 <= 256 }) else {
                    throw ValidationError("--threads takes positive thread counts, e.g. 1,2")
                }
                return counts
            } ?? [BLASThreads.availableCores()]
            let config = model.config
            let strategy: ForwardEngine.Strategy
            if noSharding {
                strategy = .openBLAS
            } else if let chosen = ForwardEngine.Strategy(rawValue: self.strategy) {
                strategy = chosen
            } else {
                throw ValidationError("--strategy is automatic, shard, split, shard+split or openblas")
            }
            if let kernels {
                guard let path = KernelPath(name: kernels) else { throw ValidationError("--kernels is baseline, avx2 or avx512") }
                guard KernelPath.use(path) else { throw ValidationError("this CPU cannot run the \(kernels) kernels") }
            }
            // sgemm yardstick per thread count: the block's four Linear GEMMs back to back at a large batch's
            // rows; with 2+ threads the better of one multi-threaded sequence and one 1-thread sequence per
            // thread on its share of the rows, side by side (what the engine does with a batch).
            var sgemmGFLOPs: [Int: Double] = [:]
            let sgemmRows = config.variant == .v1 ? 32 * config.maxTokens : config.maxTokens
            if sgemm {
                for threadCount in threadCounts {
                    let single = SGEMMThroughput.measure(SGEMMThroughput.blockLinears(config, rows: sgemmRows),
                                                         threads: threadCount, streams: 1, seconds: seconds / 2)
                    let streams = threadCount > 1
                        ? SGEMMThroughput.measure(SGEMMThroughput.blockLinears(config, rows: sgemmRows / threadCount),
                                                  threads: 1, streams: threadCount, seconds: seconds / 2) : 0
                    sgemmGFLOPs[threadCount] = max(single, streams)
                }
            }
            var peakGFLOPs: [Int: Double] = [:]
            if peak {
                for threadCount in threadCounts {
                    peakGFLOPs[threadCount] = MultiplyAddPeak.measure(threads: threadCount, seconds: min(1, seconds / 2))
                }
            }
            var results: [(threads: Int, batch: Int, medianMs: Double, p99Ms: Double, clipsPerSecond: Double, gflops: Double,
                           runs: Int, strategy: String, cores: Double, cpuMs: Double, gemm: LinearGEMM)] = []
            for threadCount in threadCounts {
                for batch in sizes {
                    for timing in measure(Array(zip(gemms, models)), batch: batch, threads: threadCount, strategy: strategy) {
                        let clipsPerSecond = Double(batch) / (timing.median / 1000)
                        results.append((threadCount, batch, timing.median, timing.p99, clipsPerSecond, clipsPerSecond * config.flopsPerClip / 1e9,
                                        timing.runs, timing.strategy, timing.cores, timing.cpuMs, timing.gemm))
                    }
                }
            }
            let engineName = strategy == .automatic ? "signbert-swift" : "signbert-swift-\(strategy.rawValue)"
            if json {
                var out = JSONWriter()
                out.raw("{\"engine\":")
                out.string(engineName)
                out.raw(",\"blas_core\":")
                out.string(BLASThreads.coreName)
                out.raw(",\"kernels\":")
                out.string(KernelPath.current.description)
                out.raw(",\"sgemm_rows\":\(sgemm ? sgemmRows : 0)")
                out.raw(",\"gflop_per_clip\":")
                out.number(config.flopsPerClip / 1e9)
                out.raw(",\"architecture\":")
                out.string(config.variant.name)
                // A ceiling per thread count, as {"threads": GFLOP/s}.
                func perThread(_ key: String, _ values: [Int: Double]) {
                    out.raw(",\"\(key)\":{")
                    for (i, (t, g)) in values.sorted(by: { $0.key < $1.key }).enumerated() {
                        out.raw(i > 0 ? ",\"\(t)\":" : "\"\(t)\":")
                        out.number(g)
                    }
                    out.raw("}")
                }
                perThread("sgemm_gflops", sgemmGFLOPs)
                perThread("peak_gflops", peakGFLOPs)
                out.raw(",\"results\":[")
                for (i, r) in results.enumerated() {
                    if i > 0 { out.raw(",") }
                    out.raw("{\"batch\":\(r.batch),\"threads\":\(r.threads),\"median_ms\":")
                    out.number(r.medianMs)
                    out.raw(",\"p99_ms\":")
                    out.number(r.p99Ms)
                    out.raw(",\"clips_per_s\":")
                    out.number(r.clipsPerSecond)
                    out.raw(",\"gflops\":")
                    out.number(r.gflops)
                    out.raw(",\"runs\":\(r.runs),\"strategy\":")
                    out.string(r.strategy)
                    out.raw(",\"cpu_cores\":")
                    out.number(r.cores)
                    out.raw(",\"cpu_ms\":")
                    out.number(r.cpuMs)
                    out.raw(",\"gemm\":")
                    out.string(r.gemm.rawValue)
                    if let peak = sgemmGFLOPs[r.threads] {
                        out.raw(",\"sgemm_share\":")
                        out.number(r.gflops / peak)
                    }
                    if let peak = peakGFLOPs[r.threads] {
                        out.raw(",\"peak_share\":")
                        out.number(r.gflops / peak)
                    }
                    out.raw("}")
                }
                out.raw("]}")
                printJSON(out.bytes)
            } else {
                print("SignBERT \(config.variant == .v1 ? "v1" : "v2") forward, \(config.maxTokens) tokens, "
                      + "\(String(format: "%.3f", config.flopsPerClip / 1e9)) GFLOP/clip, "
                      + "OpenBLAS core \(BLASThreads.coreName), kernels \(KernelPath.current), strategy \(strategy.rawValue)")
                for (t, g) in sgemmGFLOPs.sorted(by: { $0.key < $1.key }) {
                    print(String(format: "sgemm, the block's 4 Linears at %d rows, %d threads: %.1f GFLOP/s = %.1f clips/s",
                                 sgemmRows, t, g, g / (config.flopsPerClip / 1e9)))
                }
                for (t, g) in peakGFLOPs.sorted(by: { $0.key < $1.key }) {
                    print(String(format: "multiply-add peak of the %@ kernels, %d threads: %.1f GFLOP/s", KernelPath.current.description, t, g)
                          + (sgemmGFLOPs[t].map { String(format: " (sgemm reaches %.1f %%)", 100 * $0 / g) } ?? ""))
                }
                print("threads batch   median ms    p99 ms    clips/s    GFLOP/s   runs  strategy     CPU cores  CPU ms/run  gemm      "
                      + (sgemm ? "  % of sgemm" : "") + (peak ? "  % of peak" : ""))
                for r in results {
                    // The cell's GFLOP/s as a percentage of a ceiling at its thread count, when measured.
                    func share(of ceiling: [Int: Double]) -> String {
                        ceiling[r.threads].map { String(format: " %10.1f", 100 * r.gflops / $0) } ?? ""
                    }
                    print(String(format: "%7d %5d %11.3f %9.3f %10.1f %10.1f %6d  ", r.threads, r.batch, r.medianMs, r.p99Ms, r.clipsPerSecond,
                                 r.gflops, r.runs) + r.strategy.padding(toLength: 11, withPad: " ", startingAt: 0)
                          + String(format: " %10.2f %11.2f  ", r.cores, r.cpuMs)
                          + r.gemm.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0) + share(of: sgemmGFLOPs)
                          + share(of: peakGFLOPs))
                }
            }
        }
    }

    /// Warm-up, then timed forwards for about `seconds` (at least 5 per model); the median and the 99th percentile
    /// in milliseconds, per model, each loaded for its GEMM; they take turns run by run.
    private func measure(_ models: [(gemm: LinearGEMM, model: SignBERTModel)], batch: Int, threads: Int,
                         strategy: ForwardEngine.Strategy) -> [(median: Double, p99: Double, runs: Int, strategy: String, cores: Double,
                                                                cpuMs: Double, gemm: LinearGEMM)] {
        let config = models[0].model.config
        let engines = models.map { ForwardEngine(model: $0.model, capacity: batch, threads: threads, strategy: strategy) }
        var generator = SystemRandomNumberGenerator()
        let input = (0..<(batch * config.numFrames * config.inputFeatures)).map { _ in Float.random(in: -1...1, using: &generator) }
        var logits = [Float](repeating: 0, count: batch * config.numClasses)
        func once(_ engine: ForwardEngine) -> (wall: Double, cpu: Double) {
            let cpuBefore = processCPUSeconds(), start = ContinuousClock.now
            input.withUnsafeBufferPointer { x in
                logits.withUnsafeMutableBufferPointer { engine.forward(x, batch: batch, logits: $0) }
            }
            let elapsed = ContinuousClock.now - start
            return (Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15,
                    (processCPUSeconds() - cpuBefore) * 1000)
        }
        for engine in engines {
            for _ in 0..<2 { _ = once(engine) }
        }
        var times = [[Double]](repeating: [], count: engines.count), cpu = [Double](repeating: 0, count: engines.count)
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while times[0].count < 5 || ContinuousClock.now < deadline {
            for (i, engine) in engines.enumerated() {
                let run = once(engine)
                times[i].append(run.wall)
                cpu[i] += run.cpu
            }
        }
        return engines.indices.map { i in
            let runs = times[i].count, cpuPerRun = cpu[i] / Double(runs)
            let wallPerRun = times[i].reduce(0, +) / Double(runs)
            let sorted = times[i].sorted()
            // One thread computes the whole batch alone; the engine files that under `split`, which would read as
            // a clip cut between threads.
            let plan = engines[i].strategy(for: batch)
            let name = threads == 1 && plan != .openBLAS ? "single" : plan.rawValue
            return (sorted[runs / 2], sorted[(runs - 1) * 99 / 100], runs, name, cpuPerRun / wallPerRun, cpuPerRun,
                    models[i].gemm)
        }
    }

    /// User + system CPU time of the whole process (every thread: the team's, OpenBLAS's), in seconds.
    private func processCPUSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
