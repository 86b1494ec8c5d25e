import Foundation
import Workload

/// A measured latency table: step time by new tokens and context tokens read, interpolated
/// bilinearly on the grid and extrapolated linearly beyond it (never an error past the last row,
/// unlike LLMServingSim's 2048-token tables).
///
/// CSV header: `tokens,context_tokens,latency_ms`; rows must cover a full grid (every tokens value
/// with every context value).
public struct StepTable: Sendable, Equatable {
    public let tokens: [Double]
    public let context: [Double]
    /// latency[i * context.count + j] for tokens[i], context[j], seconds.
    public let latency: [Double]

    public init(tokens: [Double], context: [Double], latency: [Double]) {
        self.tokens = tokens
        self.context = context
        self.latency = latency
    }

    public static func load(_ path: String) throws -> StepTable {
        let text = try TextBuffer(path: path)
        var rows: [(Double, Double, Double)] = []
        var header = true
        var fields: [Range<Int>] = []
        try text.forEachLine { line, r in
            if r.isEmpty { return true }
            text.fields(r, separator: 44, into: &fields)
            if header {
                let names = fields.map { text.string($0) }
                guard names.count >= 3, names[0] == "tokens", names[1] == "context_tokens", names[2] == "latency_ms" else {
                    throw WorkloadError(file: path, line: line, field: "header", "expected 'tokens,context_tokens,latency_ms'")
                }
                header = false
                return true
            }
            guard fields.count >= 3, let a = text.number(fields[0]), let b = text.number(fields[1]), let c = text.number(fields[2]),
                  a >= 0, b >= 0, c > 0 else {
                throw WorkloadError(file: path, line: line, "expected three non-negative numbers (latency > 0)")
            }
            rows.append((a, b, c / 1000))
            return true
        }
        let ts = Array(Set(rows.map(\.0))).sorted(), cs = Array(Set(rows.map(\.1))).sorted()
        guard ts.count >= 1, cs.count >= 1 else { throw WorkloadError(file: path, "no rows") }
        var grid = [Double](repeating: .nan, count: ts.count * cs.count)
        for (a, b, c) in rows { grid[ts.firstIndex(of: a)! * cs.count + cs.firstIndex(of: b)!] = c }
        if let missing = grid.firstIndex(where: { $0.isNaN }) {
            throw WorkloadError(file: path, "the table is not a full grid: no row for tokens \(ts[missing / cs.count]), context_tokens \(cs[missing % cs.count])")
        }
        return StepTable(tokens: ts, context: cs, latency: grid)
    }

    /// Index and weight for linear interpolation (weights outside 0...1 extrapolate).
    static func bracket(_ xs: [Double], _ x: Double) -> (Int, Double) {
        guard xs.count > 1 else { return (0, 0) }
        var i = 0
        while i < xs.count - 2 && x > xs[i + 1] { i += 1 }
        return (i, (x - xs[i]) / (xs[i + 1] - xs[i]))
    }

    public func seconds(tokens x: Double, context y: Double) -> Double {
        let (i, u) = StepTable.bracket(tokens, x)
        let (j, v) = StepTable.bracket(context, y)
        let nc = context.count
        func at(_ a: Int, _ b: Int) -> Double { latency[min(a, tokens.count - 1) * nc + min(b, nc - 1)] }
        let l0 = at(i, j) + (at(i, j + 1) - at(i, j)) * v
        let l1 = at(i + 1, j) + (at(i + 1, j + 1) - at(i + 1, j)) * v
        return max(1e-6, l0 + (l1 - l0) * u)
    }
}

/// The latency model an engine uses: the analytical roofline, a measured step table, or a measured
/// profile bundle. The roofline always supplies FLOPs and bytes for MFU/MBU.
public enum LatencyModel: Sendable {
    case roofline(RooflineModel)
    case table(StepTable, RooflineModel)
    case profile(ProfileLatencyModel)

    public func cost(_ s: StepShape) -> StepCost {
        switch self {
        case .roofline(let r):
            return r.cost(s)
        case .table(let table, let r):
            return Self.cost(s, table: table, roofline: r)
        case .profile(let p):
            return p.cost(s)
        }
    }

    /// A measured table's time with the roofline's work figures.
    static func cost(_ s: StepShape, table: StepTable, roofline r: RooflineModel) -> StepCost {
        var c = r.cost(s)
        c.seconds = table.seconds(tokens: Double(s.tokens), context: s.prefillContext + s.decodeContext)
        return c
    }

    /// `cost` with the model bound once, for pricing millions of steps: switching over the enum
    /// copies its payload (retaining every array and string it holds) on each call.
    var pricer: (StepShape) -> StepCost {
        switch self {
        case .roofline(let r): return r.pricer
        case .table(let table, let r): return { Self.cost($0, table: table, roofline: r) }
        case .profile(let p): return { p.cost($0) }
        }
    }

    /// The roofline, or a measured table or profile bundle (by path) for this configuration.
    public static func resolve(_ config: ClusterConfig, table: String? = nil, profile: String? = nil) throws -> LatencyModel {
        let roofline = RooflineModel(config: config)
        if let table { return .table(try StepTable.load(table), roofline) }
        if let profile {
            let bundle = try ProfileBundle.load(profile, model: config.model.name, tensorParallel: config.tensorParallel)
            return .profile(try ProfileLatencyModel(bundle: bundle, config: config))
        }
        return .roofline(roofline)
    }

    /// A short name for reports: roofline, table or profile.
    public var kind: String {
        switch self {
        case .roofline: return "roofline"
        case .table: return "table"
        case .profile: return "profile"
        }
    }
}
