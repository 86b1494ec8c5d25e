import ServeSim
import ServeAPI

/// The reward's components, each a count or an amount over the interval since the last decision.
public struct RewardVector: Sendable, Equatable {
    /// Requests whose first token came later than the TTFT SLO.
    public var ttftViolations = 0.0
    /// Finished requests over the TPOT SLO.
    public var tpotViolations = 0.0
    /// Finished requests that met every SLO.
    public var goodput = 0.0
    /// KV slots allocated but holding no token, as seconds of the whole cache.
    public var fragmentation = 0.0
    public var preemptions = 0.0
    /// Request-seconds spent in the system (Little's law: minimising it minimises mean latency).
    public var latency = 0.0

    public static let names = ["ttft", "tpot", "goodput", "frag", "preempt", "latency"]

    public var values: [Double] { [ttftViolations, tpotViolations, goodput, fragmentation, preemptions, latency] }

    /// The change between two tallies of the same run.
    public init(from a: RunTallies, to b: RunTallies) {
        ttftViolations = Double(b.ttftViolations - a.ttftViolations)
        tpotViolations = Double(b.tpotViolations - a.tpotViolations)
        goodput = Double(b.sloMet - a.sloMet)
        fragmentation = b.totalSlots > 0 ? (b.wastedSlotSeconds - a.wastedSlotSeconds) / Double(b.totalSlots) : 0
        preemptions = Double(b.preemptions - a.preemptions)
        latency = b.requestSeconds - a.requestSeconds
    }

    public init() {}

    public static func + (a: RewardVector, b: RewardVector) -> RewardVector {
        var c = a
        c.ttftViolations += b.ttftViolations
        c.tpotViolations += b.tpotViolations
        c.goodput += b.goodput
        c.fragmentation += b.fragmentation
        c.preemptions += b.preemptions
        c.latency += b.latency
        return c
    }
}

/// User weights that scalarise a `RewardVector`: reward = goodput·w − Σ (other components)·w.
/// Written `ttft=1,goodput=1,frag=0.2` (keys: ttft, tpot, goodput, frag, preempt, latency).
public struct RewardWeights: Sendable, Equatable, CustomStringConvertible {
    public var weights: [String: Double]

    public static let standard = RewardWeights(weights: ["ttft": 1, "tpot": 1, "goodput": 1, "frag": 0.2, "preempt": 0.1])

    public init(weights: [String: Double]) { self.weights = weights }

    public init(parsing text: String) throws {
        var w: [String: Double] = [:]
        for piece in text.split(separator: ",") {
            let kv = piece.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, RewardVector.names.contains(kv[0]) else {
                throw RLError("--reward: '\(piece)' is not KEY=WEIGHT with KEY one of \(RewardVector.names.joined(separator: ", "))")
            }
            guard let v = Double(kv[1]), v.isFinite, (0...1e6).contains(v) else {
                throw RLError("--reward: weight of \(kv[0]) must be a number in 0...1e6, got '\(kv[1])'")
            }
            w[kv[0]] = v
        }
        guard !w.isEmpty, w.values.contains(where: { $0 > 0 }) else { throw RLError("--reward needs at least one positive weight, e.g. ttft=1,goodput=1") }
        weights = w
    }

    public func weight(_ k: String) -> Double { weights[k] ?? 0 }

    public func scalarise(_ r: RewardVector) -> Double {
        weight("goodput") * r.goodput - weight("ttft") * r.ttftViolations - weight("tpot") * r.tpotViolations
            - weight("frag") * r.fragmentation - weight("preempt") * r.preemptions - weight("latency") * r.latency
    }

    public var description: String {
        RewardVector.names.compactMap { k in weights[k].map { "\(k)=\(formatWeight($0))" } }.joined(separator: ",")
    }

    private func formatWeight(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }

    /// The reward a whole run earned, from its results alone, so any scheduler's run can be scored
    /// on the reward a policy was trained for (see `RewardVector.perRequest`). The sum equals the
    /// sum of `ServeEnv`'s step rewards over the same episode.
    public func perRequest(_ r: RunResult) -> [Double] { RewardVector.perRequest(r).map(scalarise) }
}

extension RewardVector {
    /// Each request's share of a finished run's reward vector: its SLO outcomes, preemptions and
    /// time in system; the fragmentation term is the run's, shared out equally (for paired
    /// confidence intervals over requests).
    public static func perRequest(_ r: RunResult) -> [RewardVector] {
        let q = r.requests, slo = r.config.slo
        let n = q.count
        let slots = Double(r.kvBlocksPerInstance * r.config.knobs.blockSize * r.config.instances)
        let wasted = r.counters.wastedSlotSeconds(blockSize: r.config.knobs.blockSize)
        let fragShare = slots > 0 ? wasted / slots / Double(max(1, n)) : 0
        return (0..<n).map { i in
            var v = RewardVector()
            let e2e = q.e2e(i)
            let outcome = slo.outcome(ttft: q.ttft(i), tpot: q.tpot(i), e2e: e2e)
            if !outcome.ttft { v.ttftViolations = 1 }
            if !outcome.tpot { v.tpotViolations = 1 }
            if outcome.all { v.goodput = 1 }
            v.preemptions = Double(q.preemptions[i])
            v.latency = e2e
            v.fragmentation = fragShare
            return v
        }
    }

    /// Whether this vector is at least as good as `other` on every component (fewer violations,
    /// waste, preemptions and latency; more goodput) and better on one.
    public func dominates(_ other: RewardVector) -> Bool {
        let mine = [-ttftViolations, -tpotViolations, goodput, -fragmentation, -preemptions, -latency]
        let theirs = [-other.ttftViolations, -other.tpotViolations, other.goodput, -other.fragmentation, -other.preemptions, -other.latency]
        return zip(mine, theirs).allSatisfy { $0 >= $1 } && zip(mine, theirs).contains { $0 > $1 }
    }

    /// Indices of the vectors no other vector dominates.
    public static func paretoFront(_ vectors: [RewardVector]) -> [Int] {
        vectors.indices.filter { i in !vectors.indices.contains { j in j != i && vectors[j].dominates(vectors[i]) } }
    }
}

public struct RLError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
