import Foundation

/// Fits the roofline's device constants (GEMM, memory and attention efficiency, kernel latency)
/// so that it reproduces a reference: a measured profile bundle's step times, or any other
/// objective (a measured run's latencies, see `Validation`).
public enum Calibration {
    /// The constants a fit may change, with their bounds.
    public static var parameters: [(key: String, path: WritableKeyPath<HardwareProfile, Double>, range: ClosedRange<Double>)] {
        [("compute_efficiency", \.computeEfficiency, 0.05...1),
         ("memory_efficiency", \.memoryEfficiency, 0.05...1),
         ("attention_efficiency", \.attentionEfficiency, 0.02...1),
         ("kernel_latency_us", \.kernelLatencyUs, 0...50),
         ("mixed_batch_attention_factor", \.mixedBatchAttentionFactor, 1...10)]
    }

    public struct Fit {
        public var hardware: HardwareProfile
        /// Mean |ln(model / reference)| before and after, and how many evaluations it took.
        public var errorBefore: Double
        public var errorAfter: Double
        public var evaluations: Int
    }

    /// Nelder–Mead on the logarithms of the constants (so a step is a ratio, and coupled constants
    /// such as memory efficiency and kernel latency move together along their valley), each kept
    /// within its bounds; restarted from its best point while a restart still gains, since an
    /// objective that runs a whole simulation is rough. Deterministic.
    public static func fit(_ start: HardwareProfile, maxEvaluations: Int = 400,
                           objective: (HardwareProfile) throws -> Double) rethrows -> Fit {
        let params = parameters
        // Kernel latency may be 0: shift its logarithm by 0.1 µs.
        let shift = params.map { $0.range.lowerBound == 0 ? 0.1 : 0.0 }
        func profile(_ u: [Double]) -> HardwareProfile {
            var h = start
            for (i, p) in params.enumerated() {
                h[keyPath: p.path] = min(p.range.upperBound, max(p.range.lowerBound, exp(u[i]) - shift[i]))
            }
            return h
        }
        var evaluations = 0
        func f(_ u: [Double]) throws -> Double {
            evaluations += 1
            return try objective(profile(u))
        }
        var best = params.enumerated().map { log(start[keyPath: $0.element.path] + shift[$0.offset]) }
        var bestError = try f(best)
        let before = bestError
        for _ in 0..<4 where evaluations < maxEvaluations {
            let roundStart = bestError
            // Simplex: the best point and one vertex 25% further along each constant.
            var simplex = [best] + params.indices.map { i -> [Double] in
                var v = best
                v[i] += log(1.25)
                return v
            }
            var values = try simplex.map(f)
            while evaluations < maxEvaluations {
                let order = values.indices.sorted { values[$0] < values[$1] }
                simplex = order.map { simplex[$0] }
                values = order.map { values[$0] }
                if values.last! - values[0] < 1e-7 * max(1e-12, abs(values[0])) + 1e-12 { break }
                let n = params.count
                let centroid = (0..<n).map { i in simplex.dropLast().reduce(0) { $0 + $1[i] } / Double(n) }
                func along(_ t: Double) -> [Double] { (0..<n).map { centroid[$0] + t * (simplex[n][$0] - centroid[$0]) } }
                let reflected = along(-1), fr = try f(reflected)
                if fr < values[0] {
                    let expanded = along(-2), fe = try f(expanded)
                    (simplex[n], values[n]) = fe < fr ? (expanded, fe) : (reflected, fr)
                } else if fr < values[n - 1] {
                    (simplex[n], values[n]) = (reflected, fr)
                } else {
                    let contracted = fr < values[n] ? along(-0.5) : along(0.5)
                    let fc = try f(contracted)
                    if fc < min(fr, values[n]) {
                        (simplex[n], values[n]) = (contracted, fc)
                    } else {
                        // Shrink towards the best vertex.
                        for k in 1...n {
                            simplex[k] = (0..<n).map { simplex[0][$0] + 0.5 * (simplex[k][$0] - simplex[0][$0]) }
                            values[k] = try f(simplex[k])
                        }
                    }
                }
            }
            if let k = values.indices.min(by: { values[$0] < values[$1] }), values[k] < bestError {
                best = simplex[k]
                bestError = values[k]
            }
            guard bestError < roundStart - 1e-9 else { break }
        }
        return Fit(hardware: profile(best), errorBefore: before, errorAfter: bestError, evaluations: evaluations)
    }

    /// Step shapes that cover what a serving engine runs, within the budget and seat limits:
    /// decode batches (1–256 requests, 64–8192 tokens of context, uniform and mixed), prefill chunks
    /// (16 tokens to the budget, 0–8192 earlier tokens) and chunks mixed with decodes.
    public static func probeShapes(tokenBudget: Int, maxSeqs: Int) -> [StepShape] {
        var shapes: [StepShape] = []
        let batches = [1, 4, 16, 32, 64, 128, 256].filter { $0 <= maxSeqs }
        let contexts = [64, 256, 1024, 2048, 4096, 8192]
        for n in batches where n <= tokenBudget {
            for kv in contexts {
                var s = StepShape()
                for i in 0..<n { s.add(newTokens: 1, cached: i % 2 == 0 ? kv : max(1, kv / 4), samples: true) }
                shapes.append(s)
            }
        }
        let chunks = [16, 64, 256, 512, 1024, 2048].filter { $0 <= tokenBudget }
        for c in chunks {
            for kp in [0, 1024, 4096, 8192] {
                var s = StepShape()
                s.add(newTokens: c, cached: kp, samples: true)
                shapes.append(s)
                for n in [8, 64, 128] where c + n <= tokenBudget && n <= maxSeqs - 1 {
                    var m = s
                    for _ in 0..<n { m.add(newTokens: 1, cached: 1024, samples: true) }
                    shapes.append(m)
                }
            }
        }
        return shapes
    }

    /// The hardware with its CPU overheads removed, so a model prices device time alone.
    public static func deviceOnly(_ h: HardwareProfile) -> HardwareProfile {
        var d = h
        d.stepOverheadMs = 0
        d.perSequenceOverheadUs = 0
        return d
    }

    /// Fits the roofline to a profile bundle's step times: over `probeShapes` plus `extra` shapes
    /// (typically the steps of a simulated serving workload), each weighted by its profiled time so
    /// that the fit favours the steps a run spends its time in.
    public static func fit(profile: ProfileLatencyModel, config: ClusterConfig, extra: [StepShape] = []) throws -> Fit {
        var device = config
        device.hardware = deviceOnly(config.hardware)
        let reference = try ProfileLatencyModel(bundle: profile.bundle, config: device)
        let shapes = probeShapes(tokenBudget: config.knobs.maxNumBatchedTokens, maxSeqs: config.knobs.maxNumSeqs) + extra
        let targets = shapes.map { reference.cost($0).seconds }
        var fit = Calibration.fit(device.hardware) { h in
            var c = device
            c.hardware = h
            return meanLogError(RooflineModel(config: c), shapes, targets)
        }
        // Keep the user's CPU overheads: the bundle does not measure them.
        fit.hardware.stepOverheadMs = config.hardware.stepOverheadMs
        fit.hardware.perSequenceOverheadUs = config.hardware.perSequenceOverheadUs
        return fit
    }

    /// Time-weighted mean |ln(model / reference)|.
    static func meanLogError(_ model: RooflineModel, _ shapes: [StepShape], _ targets: [Double]) -> Double {
        var sum = 0.0, weight = 0.0
        for (s, t) in zip(shapes, targets) {
            sum += t * abs(log(model.cost(s).seconds / t))
            weight += t
        }
        return sum / weight
    }
}
