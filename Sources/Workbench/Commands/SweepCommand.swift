import ArgumentParser
import Foundation
import ServeSim
import Workload

public struct SweepCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "SLO attainment and goodput across arrival rates, or the capacity: the highest rate keeping attainment ≥ 90%.",
        discussion: """
        Rates are absolute (req/s): the workload's arrival times are rescaled to each rate. The grid's cells
        (scheduler × rate, or one capacity search per scheduler) run on --jobs cores; results never depend on it.
        A large grid can be split: --shard i/N runs every N-th cell from cell i and writes its results under
        --out; `smartserve merge DIR` prints the table (or --json) of the whole sweep. --emit slurm DIR or
        --emit k8s DIR writes a Slurm job array or a Kubernetes Indexed Job that runs the shards and the merge.
        Example: smartserve sweep --schedulers vllm,sarathi --rates 2,4,6,8 --hardware H100
                 smartserve sweep --schedulers vllm,sjf --find-capacity --slo-ttft 2 --slo-tpot 0.1
                 smartserve sweep --schedulers vllm,sarathi --rates 1,2,4,8 --shard 0/2 --out shards
        """)
    @Option(parsing: .singleValue, help: "Schedulers, comma-separated.") var schedulers: [String] = []
    @Option(help: "Arrival rates to try, req/s, comma-separated.") var rates: String?
    @Flag(name: .customLong("find-capacity"), help: "Binary-search the highest rate keeping SLO attainment ≥ --target.") var findCapacity = false
    @Option(parsing: .unconditional, help: "Attainment target for --find-capacity.") var target: Double = 0.9
    @OptionGroup var sim: SimulationArguments
    @OptionGroup var load: LoadArguments
    @Flag(help: "Print JSON.") var json = false
    @Option(parsing: .unconditional, help: "Cells run at once (default: the core count).") var jobs: Int?
    @Option(help: "Run one slice of the grid, i/N (cells i, i+N, ...), and write it under --out for `smartserve merge`.") var shard: String?
    @Option(help: "Folder for the shard's results (with --shard).") var out: String?
    @Option(parsing: .upToNextOption, help: "Write cluster jobs instead of running: --emit slurm DIR or --emit k8s DIR.") var emit: [String] = []
    @Option(parsing: .unconditional, help: "Shards for --emit (default: one per cell, at most 1000).") var shards: Int?
    public init() {}

    public func run() throws {
        let grid = try SweepGrid(schedulers: schedulers.isEmpty ? [sim.scheduler] : schedulers.flatMap(SchedulerChoice.splitList),
                                 rates: rates, findCapacity: findCapacity, target: target)
        let jobs = try Parallel.jobs(jobs)
        if !emit.isEmpty { return try emitJobs(grid) }
        let slice = try shard.map(ShardSpec.init(parsing:))
        if slice != nil && out == nil { throw UsageError("--shard needs --out DIR for its results") }
        if slice == nil && out != nil { throw UsageError("--out is for --shard results (give --shard i/N)") }
        let (trace, workload) = try loadWorkload(sim.dataset, load)
        guard trace.count > 1, trace.spanSeconds > 0 else { throw UsageError("sweep needs a workload with at least two arrival times") }
        let setup = RunReport.setupLine(workload: workload, trace: trace, config: try sim.config())
        let cells = slice.map { grid.cells(in: $0) } ?? Array(0..<grid.count)
        let values = try ProgressBar.around { hooks in
            let runHooks = ProgressBar.combined(hooks, count: cells.count)
            return try Parallel.map(cells.count, jobs: jobs) { try grid.measure(cell: cells[$0], trace: trace, sim: sim, hooks: runHooks($0)) }
        }
        if let slice, let out {
            let file = try SweepShard(arguments: SweepShard.sweepArguments(), slice: slice, setup: setup, grid: grid,
                                      measured: Dictionary(uniqueKeysWithValues: zip(cells, values))).write(into: out)
            Terminal.out("shard \(slice.index)/\(slice.count): \(cells.count) of \(grid.count) cells written to \(file)")
            return
        }
        SweepResults(grid: grid, setup: setup, values: values).print(json: json)
    }

    func emitJobs(_ grid: SweepGrid) throws {
        guard emit.count == 2, let kind = ClusterJobs.Kind(rawValue: emit[0]) else {
            throw UsageError("--emit expects slurm DIR or k8s DIR, got '\(emit.joined(separator: " "))'")
        }
        guard shard == nil, out == nil else { throw UsageError("--emit writes the shard commands itself: leave out --shard and --out") }
        let count = shards ?? min(grid.count, 1000)
        guard (1...min(grid.count, 10_000)).contains(count) else {
            throw UsageError("--shards expects 1...\(min(grid.count, 10_000)) (the grid has \(grid.count) cells), got \(count)")
        }
        let written = try ClusterJobs(kind: kind, folder: emit[1], shards: count, arguments: SweepShard.sweepArguments()).write()
        Terminal.out("\(kind.rawValue): \(count) shards of \(grid.count) cells; wrote \(written.joined(separator: ", "))")
        Terminal.out("submit with: sh \(emit[1])/submit.sh")
    }
}

/// A sweep's grid: cells in a fixed order (scheduler-major, then rate), so that a shard is the same
/// slice wherever it runs.
struct SweepGrid: Equatable {
    var schedulers: [String]
    /// Rates of a rate sweep; nil for a capacity search (one cell per scheduler).
    var rates: [Double]?
    var target: Double

    init(schedulers: [String], rates text: String?, findCapacity: Bool, target: Double) throws {
        guard target > 0 && target <= 1 else { throw UsageError("--target must be in (0, 1], got \(target)") }
        self.schedulers = schedulers
        self.target = target
        if findCapacity { rates = nil; return }
        guard let text else { throw UsageError("sweep needs --rates r1,r2,... or --find-capacity") }
        rates = try text.split(separator: ",").map { piece -> Double in
            guard let v = Double(piece), ArrivalProcess.rateRange.contains(v) else {
                throw UsageError("--rates expects rates in 1e-06...1e+06 req/s, got '\(piece)'")
            }
            return v
        }
    }

    init(schedulers: [String], rates: [Double]?, target: Double) {
        self.schedulers = schedulers
        self.rates = rates
        self.target = target
    }

    var count: Int { schedulers.count * (rates?.count ?? 1) }

    func cell(_ k: Int) -> (scheduler: String, rate: Double?) {
        guard let rates else { return (schedulers[k], nil) }
        return (schedulers[k / rates.count], rates[k % rates.count])
    }

    func cells(in slice: ShardSpec) -> [Int] { Array(stride(from: slice.index, to: count, by: slice.count)) }

    /// One cell's figures: a rate point's metrics, or a scheduler's capacity.
    func measure(cell k: Int, trace: Trace, sim: SimulationArguments, hooks: Simulator.Hooks) throws -> SweepValues {
        let (scheduler, rate) = cell(k)
        var s = sim
        s.scheduler = scheduler
        guard let rate else { return .capacity(try Sweep.capacity(trace: trace, sim: s, target: target, hooks: hooks)) }
        let summary = RunSummary(try simulate(try atRate(trace, rate), s, hooks: hooks))
        return .point(SweepPoint(sloAttainment: summary.sloAttainment, goodputRPS: summary.goodputRPS, ttftP99: summary.ttft.p99,
                                 tpotP99: summary.tpot.p99, throughputRPS: summary.throughputRPS))
    }

    var json: JSON {
        .object([("schedulers", .array(schedulers.map(JSON.string))), ("rates", rates.map { .array($0.map(JSON.number)) } ?? .null),
                 ("target", .number(target))])
    }

    init(json: JSON, file: String) throws {
        guard case .array(let names)? = json["schedulers"], let target = json["target"]?.doubleValue else {
            throw WorkloadError(file: file, "not a sweep shard: no grid")
        }
        schedulers = try names.map { guard let s = $0.stringValue else { throw WorkloadError(file: file, "grid: scheduler names expected") }; return s }
        if case .array(let r)? = json["rates"] {
            rates = try r.map { guard let v = $0.doubleValue else { throw WorkloadError(file: file, "grid: rates expected") }; return v }
        } else {
            rates = nil
        }
        self.target = target
    }
}

/// What one rate point measured (the table's and the JSON's columns).
struct SweepPoint: Equatable {
    var sloAttainment, goodputRPS, ttftP99, tpotP99, throughputRPS: Double
    static let keys = ["slo_attainment", "goodput_rps", "ttft_p99", "tpot_p99", "throughput_rps"]
    var values: [Double] { [sloAttainment, goodputRPS, ttftP99, tpotP99, throughputRPS] }
    init(sloAttainment: Double, goodputRPS: Double, ttftP99: Double, tpotP99: Double, throughputRPS: Double) {
        (self.sloAttainment, self.goodputRPS, self.ttftP99, self.tpotP99, self.throughputRPS) = (sloAttainment, goodputRPS, ttftP99, tpotP99, throughputRPS)
    }
    init(_ v: [Double]) { self.init(sloAttainment: v[0], goodputRPS: v[1], ttftP99: v[2], tpotP99: v[3], throughputRPS: v[4]) }
}

enum SweepValues: Equatable {
    case point(SweepPoint)
    case capacity(Double)

    /// Exact in a shard file: JSON numbers print the shortest decimal that reads back to the same
    /// bits; NaN (no request met a definition) is written as null and read back as NaN.
    var json: JSON {
        switch self {
        case .point(let p): return .object(zip(SweepPoint.keys, p.values).map { ($0, .number($1)) })
        case .capacity(let c): return .object([("capacity_rps", .number(c))])
        }
    }

    init(json: JSON, capacity: Bool, file: String) throws {
        func number(_ key: String) throws -> Double {
            guard let v = json[key] else { throw WorkloadError(file: file, "cell without '\(key)'") }
            return v.doubleValue ?? .nan
        }
        if capacity { self = .capacity(try number("capacity_rps")) } else { self = .point(SweepPoint(try SweepPoint.keys.map(number))) }
    }
}

/// A whole sweep's results, from one run or merged from shards: the same table and JSON either way.
struct SweepResults {
    var grid: SweepGrid
    var setup: String
    var values: [SweepValues]

    func print(json: Bool) {
        // With --json the setup goes to standard error, so that standard output stays one document.
        if json { Terminal.note(setup) } else { Terminal.out(setup + "\n") }
        Terminal.out(json ? self.json.render() : text)
    }

    var json: JSON {
        guard let rates = grid.rates else {
            let rows = zip(grid.schedulers, values).map { name, v -> (String, JSON) in
                if case .capacity(let c) = v { return (name, .number(c)) }
                return (name, .null)
            }
            return .object([("target", .number(grid.target)), ("capacity_rps", .object(rows))])
        }
        return .object(grid.schedulers.enumerated().map { s, name in
            (name, .array(rates.enumerated().map { r, rate in
                guard case .point(let p) = values[s * rates.count + r], case .object(let fields) = SweepValues.point(p).json else { return .null }
                return .object([("rate", .number(rate))] + fields)
            }))
        })
    }

    var text: String {
        guard grid.rates != nil else {
            var t = TextTable(["scheduler", "capacity (req/s at ≥ \(fixed(grid.target * 100, 0))% SLO attainment)"])
            for (name, v) in zip(grid.schedulers, values) { if case .capacity(let c) = v { t.add([name, fixed(c, 3)]) } }
            return t.render()
        }
        var t = TextTable(["scheduler", "rate (req/s)", "SLO attainment %", "goodput (req/s)", "TTFT p99 (s)", "TPOT p99 (ms)"])
        for (k, v) in values.enumerated() {
            guard case .point(let p) = v else { continue }
            let (name, rate) = grid.cell(k)
            t.add([name, fixed(rate ?? 0, 2), fixed(p.sloAttainment * 100, 1), fixed(p.goodputRPS, 3), fixed(p.ttftP99, 2), fixed(p.tpotP99 * 1000, 1)])
        }
        return t.render()
    }
}

/// `--shard i/N`: slice i (0-based) of N.
struct ShardSpec: Equatable {
    var index: Int
    var count: Int

    init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), (1...10_000).contains(n), (0..<n).contains(i) else {
            throw UsageError("--shard expects i/N with 0 ≤ i < N ≤ 10000 (e.g. 0/4), got '\(text)'")
        }
        self.init(index: i, count: n)
    }
}

/// One shard's results as a file (`sweep-shard-I-of-N.json`): the sweep's arguments (every shard
/// of one sweep has the same), the grid, the setup line and each computed cell's figures.
struct SweepShard {
    static let format = "smartserve sweep shard 1"
    var arguments: [String]
    var slice: ShardSpec
    var setup: String
    var grid: SweepGrid
    var measured: [Int: SweepValues]

    /// The command line of this sweep without the options that only say how it is run (cores,
    /// slicing, emitting): equal for every shard of one sweep, and what the emitted jobs rerun.
    static func sweepArguments(_ all: [String] = CommandLine.arguments) -> [String] {
        let args = Array(all.drop { $0 != "sweep" }.dropFirst())
        let valued: Set<String> = ["--jobs", "--shard", "--out", "--shards"]
        var kept: [String] = []
        var k = 0
        while k < args.count {
            let a = args[k]
            let name = a.split(separator: "=", maxSplits: 1).first.map(String.init) ?? a
            if a == "--emit" {
                k += 1
                while k < args.count && !args[k].hasPrefix("--") { k += 1 }
                continue
            }
            if valued.contains(name) { k += a.contains("=") ? 1 : 2; continue }
            kept.append(a)
            k += 1
        }
        return kept
    }

    func fileName() -> String { "sweep-shard-\(slice.index)-of-\(slice.count).json" }

    func write(into folder: String) throws -> String {
        let path = URL(fileURLWithPath: folder).appendingPathComponent(fileName()).path
        let cells: [JSON] = measured.keys.sorted().map { k in
            guard case .object(let fields) = measured[k]!.json else { return .null }
            return .object([("cell", .integer(k))] + fields)
        }
        let doc = JSON.object([("format", .string(Self.format)), ("arguments", .array(arguments.map(JSON.string))),
                               ("shard", .integer(slice.index)), ("shards", .integer(slice.count)), ("setup", .string(setup)),
                               ("grid", grid.json), ("cells", .array(cells))])
        try AtomicFile.write(doc.render() + "\n", to: path)
        return path
    }

    static func read(_ path: String) throws -> SweepShard {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw WorkloadError(file: path, "cannot read: \(error.localizedDescription)") }
        guard let doc = try? JSON.parse(data), doc["format"]?.stringValue == format else {
            throw WorkloadError(file: path, "not a sweep shard (expected JSON written by `smartserve sweep --shard`)")
        }
        guard case .array(let args)? = doc["arguments"], let i = doc["shard"]?.doubleValue, let n = doc["shards"]?.doubleValue,
              let setup = doc["setup"]?.stringValue, let gridJSON = doc["grid"], case .array(let cells)? = doc["cells"],
              n >= 1, n <= 10_000, i >= 0, i < n, i == i.rounded(), n == n.rounded()
        else { throw WorkloadError(file: path, "sweep shard: missing or malformed fields") }
        let grid = try SweepGrid(json: gridJSON, file: path)
        var measured: [Int: SweepValues] = [:]
        for c in cells {
            guard let k = c["cell"]?.doubleValue, k >= 0, k < Double(grid.count), k == k.rounded() else {
                throw WorkloadError(file: path, "sweep shard: a cell outside the grid of \(grid.count)")
            }
            measured[Int(k)] = try SweepValues(json: c, capacity: grid.rates == nil, file: path)
        }
        return SweepShard(arguments: args.compactMap(\.stringValue), slice: ShardSpec(index: Int(i), count: Int(n)), setup: setup,
                          grid: grid, measured: measured)
    }

    /// The whole sweep from all its shards: every shard present once, all of one sweep, every cell covered.
    static func merge(_ shards: [(path: String, shard: SweepShard)]) throws -> SweepResults {
        guard let first = shards.first else { throw UsageError("merge: no shard files found (sweep-shard-*.json)") }
        var seen: [Int: (path: String, shard: SweepShard)] = [:]
        for (path, s) in shards {
            guard s.arguments == first.shard.arguments, s.grid == first.shard.grid, s.slice.count == first.shard.slice.count else {
                throw UsageError("merge: \(path) belongs to another sweep than \(first.path) (arguments, grid or shard count differ)")
            }
            if let other = seen[s.slice.index] { throw UsageError("merge: shard \(s.slice.index) appears twice (\(other.path), \(path))") }
            seen[s.slice.index] = (path, s)
        }
        let n = first.shard.slice.count
        let missing = (0..<n).filter { seen[$0] == nil }
        guard missing.isEmpty else {
            throw UsageError("merge: \(missing.count) of \(n) shards missing (\(missing.prefix(10).map(String.init).joined(separator: ", "))\(missing.count > 10 ? ", ..." : ""))")
        }
        let grid = first.shard.grid
        var values: [SweepValues] = []
        for k in 0..<grid.count {
            guard let v = seen[k % n]?.shard.measured[k] else {
                throw UsageError("merge: cell \(k) is missing from shard \(k % n)")
            }
            values.append(v)
        }
        return SweepResults(grid: grid, setup: first.shard.setup, values: values)
    }
}

public struct MergeCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine the shards of a sweep (sweep --shard i/N --out DIR) into the sweep's table or JSON.",
        discussion: "Example: smartserve merge shards/ --json > sweep.json")
    @Argument(help: "Shard folders (their sweep-shard-*.json files) or shard files.") var inputs: [String] = []
    @Flag(help: "Print JSON.") var json = false
    public init() {}

    public func run() throws {
        guard !inputs.isEmpty else { throw UsageError("merge needs shard folders or files (written by sweep --shard i/N --out DIR)") }
        var files: [String] = []
        for input in inputs {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else { throw WorkloadError(file: input, "not found") }
            if isDir.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: input)
                    .filter { $0.hasPrefix("sweep-shard-") && $0.hasSuffix(".json") }.sorted()
                files += names.map { URL(fileURLWithPath: input).appendingPathComponent($0).path }
            } else {
                files.append(input)
            }
        }
        try SweepShard.merge(try files.map { ($0, try SweepShard.read($0)) }).print(json: json)
    }
}

enum Sweep {
    /// DistServe's goodput capacity: the highest arrival rate whose SLO attainment stays ≥ target.
    /// Doubles the rate from the trace's own until attainment falls below the target, then bisects
    /// to 1% of the rate.
    static func capacity(trace: Trace, sim: SimulationArguments, target: Double, hooks: Simulator.Hooks = Simulator.Hooks()) throws -> Double {
        func attains(_ rate: Double) throws -> Bool { RunSummary(try simulate(try atRate(trace, rate), sim, hooks: hooks)).sloAttainment >= target }
        let base = Double(trace.count - 1) / trace.spanSeconds
        var lo = 0.0, hi = base
        var doublings = 0
        while try attains(hi) {
            lo = hi
            hi *= 2
            doublings += 1
            if doublings > 20 {
                throw UsageError("\(sim.scheduler): SLO attainment stays ≥ \(target) even at \(JSON.format(hi)) req/s; the workload is too small (or the SLOs too loose) to find a capacity")
            }
        }
        if lo == 0 {
            // Even the trace's own rate misses the target: search below it.
            lo = hi / 1024
            if try !attains(lo) { return 0 }
        }
        while (hi - lo) / hi > 0.01 {
            let mid = (lo + hi) / 2
            if try attains(mid) { lo = mid } else { hi = mid }
        }
        return lo
    }
}
