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

    /// Coordinate descent on multiplicative steps (×1.25, then finer), each parameter kept in its
    /// bounds; deterministic, and cheap enough for objectives that run a whole simulation.
    public static func fit(_ start: HardwareProfile, maxEvaluations: Int = 400,
                           objective: (HardwareProfile) throws -> Double) rethrows -> Fit {
        var best = start
        var bestError = try objective(start)
        let before = bestError
        var evaluations = 1
        var step = 1.25
        while step > 1.002 && evaluations < maxEvaluations {
            var improved = false
            for p in parameters {
                for factor in [step, 1 / step] {
                    var candidate = best
                    let old = candidate[keyPath: p.path]
                    // A zero kernel latency can still grow: step from a small floor.
                    let moved = old == 0 && factor > 1 ? 0.1 : old * factor
                    candidate[keyPath: p.path] = min(p.range.upperBound, max(p.range.lowerBound, moved))
                    guard candidate[keyPath: p.path] != old else { continue }
                    let e = try objective(candidate)
                    evaluations += 1
                    if e < bestError - 1e-12 {
                        best = candidate
                        bestError = e
                        improved = true
                        break
                    }
                }
            }
            if !improved { step = (step - 1) / 2 + 1 }
        }
        return Fit(hardware: best, errorBefore: before, errorAfter: bestError, evaluations: evaluations)
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
        var fit = try Calibration.fit(device.hardware) { h in
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
