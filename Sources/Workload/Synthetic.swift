import Foundation

/// How requests arrive in a synthetic workload.
public enum ArrivalProcess: Sendable, Equatable {
    /// Exponential inter-arrivals at `rate` req/s.
    case poisson(rate: Double)
    /// Gamma inter-arrivals with mean 1/rate and the given shape (CV = 1/sqrt(shape)).
    case gamma(rate: Double, shape: Double)
    /// A two-state Markov-modulated Poisson process: bursts at `onRate` lasting `onSeconds` on
    /// average, separated by quiet spells at `offRate` lasting `offSeconds` on average.
    case onOff(onRate: Double, offRate: Double, onSeconds: Double, offSeconds: Double)
    /// A non-homogeneous Poisson process with rate(t) = rate × (1 + amplitude × sin(2πt/period + phase)).
    case sinusoidal(rate: Double, amplitude: Double, period: Double, phase: Double)
    /// The arrival times of an existing trace (ns, relative).
    case replay([Int64])

    public static let names = ["poisson", "gamma", "onoff", "sinusoidal", "replay"]

    /// The documented ranges: rates 1e-6...1e6 req/s, CV 0.01...100 (shape 1e-4...1e4), state and
    /// period lengths 0.001...1e9 s.
    public static let rateRange = 1e-6...1e6, cvRange = 0.01...100.0, shapeRange = 1e-4...1e4, secondsRange = 1e-3...1e9

    public init(_ spec: NamedSpec, replaySource: Trace?) throws {
        let what = "arrival process"
        func value(_ key: String, _ range: ClosedRange<Double>, default d: Double? = nil) throws -> Double {
            let v = try spec.number(key, default: d, what: what)
            guard range.contains(v) else {
                throw UsageError("arrival process '\(spec.name)': \(key) must be in \(range.lowerBound)...\(range.upperBound), got \(v)")
            }
            return v
        }
        switch spec.name {
        case "poisson":
            try spec.expectOnly(["rate"], what: what)
            self = .poisson(rate: try value("rate", Self.rateRange))
        case "gamma":
            try spec.expectOnly(["rate", "cv", "shape"], what: what)
            let rate = try value("rate", Self.rateRange)
            if spec.options["shape"] != nil && spec.options["cv"] != nil {
                throw UsageError("arrival process 'gamma': give cv or shape, not both")
            }
            let shape: Double
            if spec.options["shape"] != nil {
                shape = try value("shape", Self.shapeRange)
            } else {
                let cv = try value("cv", Self.cvRange)
                shape = 1 / (cv * cv)
            }
            self = .gamma(rate: rate, shape: shape)
        case "onoff", "mmpp", "bursty":
            try spec.expectOnly(["on_rate", "off_rate", "on", "off"], what: what)
            let off = try spec.number("off_rate", default: 0, what: what)
            guard off == 0 || Self.rateRange.contains(off) else {
                throw UsageError("arrival process 'onoff': off_rate must be 0 or in \(Self.rateRange.lowerBound)...\(Self.rateRange.upperBound), got \(off)")
            }
            self = .onOff(onRate: try value("on_rate", Self.rateRange), offRate: off,
                          onSeconds: try value("on", Self.secondsRange, default: 10), offSeconds: try value("off", Self.secondsRange, default: 60))
        case "sinusoidal", "diurnal":
            try spec.expectOnly(["rate", "amplitude", "period", "phase"], what: what)
            let amplitude = try spec.number("amplitude", default: 0.5, what: what)
            guard (0...1).contains(amplitude) else { throw UsageError("arrival process '\(spec.name)': amplitude must be in 0...1, got \(amplitude)") }
            self = .sinusoidal(rate: try value("rate", Self.rateRange), amplitude: amplitude,
                               period: try value("period", Self.secondsRange, default: 86_400),
                               phase: try value("phase", -1e6...1e6, default: 0))
        case "replay":
            try spec.expectOnly([], what: what)
            guard let source = replaySource else { throw UsageError("arrival process 'replay' needs a source trace (--from FILE)") }
            self = .replay(source.arrivals)
        default:
            throw UsageError("unknown arrival process '\(spec.name)' (known: \(ArrivalProcess.names.joined(separator: ", ")))")
        }
    }

    /// `count` arrival times in ns, starting at 0; refused when they would run past 292 years.
    public func generate(count: Int, rng: inout SeededRandom) throws -> [Int64] {
        func ns(_ seconds: Double) throws -> Int64 {
            guard let v = Checked.nanoseconds(seconds, nanosPerUnit: 1e9) else {
                throw UsageError("\(count) arrivals of this process span more than 292 years; use fewer requests or a higher rate")
            }
            return v
        }
        var out: [Int64] = []
        out.reserveCapacity(count)
        var t = 0.0
        switch self {
        case .poisson(let rate):
            for _ in 0..<count { out.append(try ns(t)); t += rng.exponential(rate: rate) }
        case .gamma(let rate, let shape):
            let scale = 1 / (rate * shape)
            for _ in 0..<count { out.append(try ns(t)); t += rng.gamma(shape: shape) * scale }
        case .onOff(let onRate, let offRate, let onSeconds, let offSeconds):
            var on = true
            var stateEnd = rng.exponential(rate: 1 / onSeconds)
            while out.count < count {
                let rate = on ? onRate : offRate
                let gap = rate > 0 ? rng.exponential(rate: rate) : .infinity
                if t + gap <= stateEnd {
                    t += gap
                    out.append(try ns(t))
                } else {
                    // Memoryless: restart the clock at the switch.
                    t = stateEnd
                    on.toggle()
                    stateEnd = t + rng.exponential(rate: 1 / (on ? onSeconds : offSeconds))
                }
            }
            if let first = out.first { out = out.map { $0 - first } }
        case .sinusoidal(let rate, let amplitude, let period, let phase):
            // Thinning (Lewis and Shedler): candidates at the peak rate, kept with rate(t)/peak.
            let peak = rate * (1 + amplitude)
            while out.count < count {
                t += rng.exponential(rate: peak)
                let r = rate * (1 + amplitude * sin(2 * Double.pi * t / period + phase))
                if rng.uniform() * peak <= r { out.append(try ns(t)) }
            }
            if let first = out.first { out = out.map { $0 - first } }
        case .replay(let times):
            guard !times.isEmpty else { return [] }
            // Beyond the source's length, repeat its gaps after its end.
            let span = times.last! - times.first! + (times.count > 1 ? (times.last! - times.first!) / Int64(times.count - 1) : 1_000_000_000)
            for i in 0..<count {
                let (shift, o1) = Int64(i / times.count).multipliedReportingOverflow(by: span)
                let (t, o2) = (times[i % times.count] - times[0]).addingReportingOverflow(shift)
                guard !o1 && !o2 else { throw UsageError("\(count) replayed arrivals span more than 292 years; use fewer requests") }
                out.append(t)
            }
        }
        return out
    }
}

/// How many tokens a synthetic prompt or output has.
public enum LengthDistribution: Sendable, Equatable {
    case fixed(Int)
    case uniform(min: Int, max: Int)
    /// P(k) ∝ k^(−s) for k in min...max.
    case zipf(s: Double, min: Int, max: Int)
    /// exp(N(log median, sigma)), rounded and clamped to min...max.
    case logNormal(median: Double, sigma: Double, min: Int, max: Int)
    /// Draws from the prompt or output lengths of a loaded trace.
    case resample([Int32])

    public static let names = ["fixed", "uniform", "zipf", "lognormal", "resample"]

    /// `column` picks the prompt or output lengths of `source` for `resample`.
    public init(_ spec: NamedSpec, source: [Int32]?) throws {
        let what = "length distribution"
        func bound(_ key: String, _ d: Double) throws -> Int {
            let v = try spec.number(key, default: d, what: what)
            guard v >= 1, v <= Double(Checked.maxTokens), v == v.rounded() else {
                throw UsageError("length distribution '\(spec.name)': \(key) must be a whole number of tokens in 1...\(Checked.maxTokens), got \(v)")
            }
            return Int(v)
        }
        switch spec.name {
        case "fixed":
            try spec.expectOnly(["n"], what: what)
            self = .fixed(try bound("n", .nan))
        case "uniform":
            try spec.expectOnly(["min", "max"], what: what)
            let lo = try bound("min", 1), hi = try bound("max", .nan)
            guard lo <= hi else { throw UsageError("length distribution 'uniform': min (\(lo)) > max (\(hi))") }
            self = .uniform(min: lo, max: hi)
        case "zipf":
            try spec.expectOnly(["s", "min", "max"], what: what)
            let lo = try bound("min", 1), hi = try bound("max", 4096)
            guard lo <= hi else { throw UsageError("length distribution 'zipf': min (\(lo)) > max (\(hi))") }
            // Its CDF is tabulated over min...max.
            guard hi - lo < 1_000_000 else { throw UsageError("length distribution 'zipf': max − min must be below 1000000, got \(hi - lo)") }
            self = .zipf(s: try spec.number("s", default: 1.1, what: what, positive: true), min: lo, max: hi)
        case "lognormal":
            try spec.expectOnly(["median", "mean", "sigma", "min", "max"], what: what)
            let sigma = try spec.number("sigma", default: 1, what: what, positive: true)
            let median: Double
            if spec.options["mean"] != nil {
                median = try spec.number("mean", what: what, positive: true) / exp(sigma * sigma / 2)
            } else {
                median = try spec.number("median", what: what, positive: true)
            }
            let lo = try bound("min", 1), hi = try bound("max", 32_768)
            guard lo <= hi else { throw UsageError("length distribution 'lognormal': min (\(lo)) > max (\(hi))") }
            self = .logNormal(median: median, sigma: sigma, min: lo, max: hi)
        case "resample":
            try spec.expectOnly([], what: what)
            guard let source, !source.isEmpty else { throw UsageError("length distribution 'resample' needs a source trace (--from FILE)") }
            self = .resample(source)
        default:
            if let n = Int(spec.name), n > 0, n <= Checked.maxTokens { self = .fixed(n); return }
            throw UsageError("unknown length distribution '\(spec.name)' (known: \(LengthDistribution.names.joined(separator: ", ")), or a number)")
        }
    }

    public func sampler() -> LengthSampler { LengthSampler(self) }
}

/// Draws lengths; precomputes the Zipf CDF once so each draw is a binary search.
public struct LengthSampler: Sendable {
    let distribution: LengthDistribution
    let cdf: [Double]

    init(_ d: LengthDistribution) {
        distribution = d
        if case .zipf(let s, let lo, let hi) = d {
            var acc = 0.0
            var c: [Double] = []
            c.reserveCapacity(hi - lo + 1)
            for k in lo...hi { acc += pow(Double(k), -s); c.append(acc) }
            cdf = c.map { $0 / acc }
        } else {
            cdf = []
        }
    }

    public func draw(_ rng: inout SeededRandom) -> Int32 {
        switch distribution {
        case .fixed(let n): return Int32(n)
        case .uniform(let lo, let hi): return Int32(rng.integer(lo, hi))
        case .zipf(_, let lo, _):
            let u = rng.uniform()
            var a = 0, b = cdf.count - 1
            while a < b {
                let m = (a + b) / 2
                if cdf[m] < u { a = m + 1 } else { b = m }
            }
            return Int32(lo + a)
        case .logNormal(let median, let sigma, let lo, let hi):
            let v = (median * exp(sigma * rng.normal())).rounded()
            return Int32(Swift.min(Double(hi), Swift.max(Double(lo), v)))
        case .resample(let values):
            return values[rng.integer(0, values.count - 1)]
        }
    }
}

/// A complete synthetic workload description.
public struct SyntheticWorkload: Sendable {
    public var count: Int
    public var arrivals: ArrivalProcess
    public var prompt: LengthDistribution
    public var output: LengthDistribution
    /// Resample prompt and output together from this trace (keeps their correlation).
    public var pairedSource: Trace?
    public var seed: UInt64

    public init(count: Int, arrivals: ArrivalProcess, prompt: LengthDistribution, output: LengthDistribution,
                pairedSource: Trace? = nil, seed: UInt64 = 42) {
        self.count = count
        self.arrivals = arrivals
        self.prompt = prompt
        self.output = output
        self.pairedSource = pairedSource
        self.seed = seed
    }

    /// The most requests one workload may have (about 2 GB in memory).
    public static let maxRequests = 100_000_000

    /// Independent streams for arrivals and lengths, so changing one never shifts the other.
    public func generate() throws -> Trace {
        guard count > 0 && count <= Self.maxRequests else { throw UsageError("--requests must be in 1...\(Self.maxRequests), got \(count)") }
        var arrivalRNG = SeededRandom(seed: seed)
        var lengthRNG = SeededRandom(seed: seed ^ 0x5DEE_CE66_D1CE_F00D)
        var t = Trace()
        t.arrivals = try arrivals.generate(count: count, rng: &arrivalRNG)
        t.promptTokens.reserveCapacity(count)
        t.outputTokens.reserveCapacity(count)
        if let source = pairedSource {
            guard !source.isEmpty else { throw UsageError("--paired needs a non-empty source trace") }
            for _ in 0..<count {
                let k = lengthRNG.integer(0, source.count - 1)
                t.promptTokens.append(source.promptTokens[k])
                t.outputTokens.append(source.outputTokens[k])
            }
        } else {
            let p = prompt.sampler(), o = output.sampler()
            for _ in 0..<count {
                t.promptTokens.append(p.draw(&lengthRNG))
                t.outputTokens.append(o.draw(&lengthRNG))
            }
        }
        return t
    }
}
