import ServeAPI

/// Shortest job first on the predicted output length (non-preemptive: running requests keep FCFS).
public final class SJFScheduler: KeyOrderedScheduler {
    public init(starvationSeconds: Double = 600) { super.init(name: "sjf", starvationSeconds: starvationSeconds) }
    public override var capabilities: SchedulerCapabilities { SchedulerCapabilities(usesLengthPredictor: true, steadyAdmission: true) }
    public override func key(_ r: Int32, _ view: InstanceView) -> Double { Double(view.requests.predictedOutput[Int(r)]) }
}

/// Shortest remaining processing time on the predicted remaining output (predicted − generated).
/// Waiting requests are admitted by it. Under memory pressure the running request preempted first
/// is the one whose remaining work most exceeds what preempting it would waste: recomputing its
/// KV later costs (computed tokens / token budget) steps of a full batch, that is computed ×
/// seats / budget decode slots, so a long prompt that is half way through is not evicted to be
/// prefilled again and again.
public final class SRPTScheduler: KeyOrderedScheduler {
    private var keyed: [(Double, Int32)] = []

    public init(starvationSeconds: Double = 600) { super.init(name: "srpt", starvationSeconds: starvationSeconds) }
    public override var capabilities: SchedulerCapabilities { SchedulerCapabilities(usesLengthPredictor: true, steadyAdmission: true) }

    public override func key(_ r: Int32, _ view: InstanceView) -> Double {
        let i = Int(r)
        let remaining = Double(max(1, Int(view.requests.predictedOutput[i]) - Int(view.requests.generated[i])))
        guard view.requests.preemptions[i] > 0, view.requests.generated[i] > 0 else { return remaining }
        // A preempted request must prefill its prompt and output again: that work is part of what
        // remains, so it does not jump back in only to be evicted again.
        return remaining + decodeSlots(tokens: view.requests.pendingTokens(r), view)
    }

    /// Decode slots that computing `tokens` of prefill displaces: tokens / budget full-batch steps.
    func decodeSlots(tokens: Int, _ view: InstanceView) -> Double {
        Double(tokens) * Double(view.limits.maxSeqs) / Double(max(1, view.limits.tokenBudget))
    }

    public override func orderRunning(_ view: InstanceView, into order: inout [Int32]) {
        keyed.removeAll(keepingCapacity: true)
        for r in view.running {
            keyed.append((key(r, view) - decodeSlots(tokens: Int(view.requests.computed[Int(r)]), view), r))
        }
        // Stable on ties (running queue order), so equal keys keep FCFS.
        keyed.sort { $0.0 < $1.0 }
        for (_, r) in keyed { order.append(r) }
    }
}

/// Learning-to-rank scheduling: admit by a predicted rank score (the predictor's output, lower
/// first). Starvation is bounded by a pass-over count: a request overtaken by `starvationLimit`
/// admissions of later arrivals is promoted ahead of every score.
public final class LTRScheduler: KeyOrderedScheduler {
    let starvationLimit: Int32
    private var passedOver: [Int32: Int32] = [:]

    public init(starvationLimit: Int = 256) {
        self.starvationLimit = Int32(starvationLimit)
        super.init(name: "ltr", starvationSeconds: 0)
    }

    public override var capabilities: SchedulerCapabilities { SchedulerCapabilities(usesLengthPredictor: true, steadyAdmission: true) }

    public override func key(_ r: Int32, _ view: InstanceView) -> Double {
        (passedOver[r] ?? 0) >= starvationLimit ? -.infinity : Double(view.requests.predictedOutput[Int(r)])
    }

    public override func admitted(_ r: Int32, view: InstanceView) {
        passedOver[r] = nil
        let arrival = view.requests.arrival[Int(r)]
        // Every earlier arrival still waiting was overtaken once more.
        for w in view.waiting where w != r && view.requests.arrival[Int(w)] < arrival { passedOver[w, default: 0] += 1 }
    }
}

/// Weighted classes: the next admission goes to the class with the smallest virtual time (FCFS
/// within a class); admitting a request advances its class by (prompt + predicted output) /
/// weight, so over time each class gets service in proportion to its weight. Classes come from
/// the trace (model names, or log types), weights from `weights=NAME:W;NAME:W` (default 1).
public final class PriorityScheduler: ContinuousBatchingScheduler {
    let weightsByName: [String: Double]
    private var virtualTime: [Double] = []
    private var weights: [Double] = []
    private var heads: [[Int32]] = []
    private var cursor: [Int] = []

    public init(weights: [String: Double]) {
        weightsByName = weights
        super.init(name: "priority", preemption: .recompute)
    }

    // Admission reads the waiting requests' classes and lengths only.
    public override var capabilities: SchedulerCapabilities { SchedulerCapabilities(steadyAdmission: true) }

    public static func parse(_ text: String) throws -> [String: Double] {
        var out: [String: Double] = [:]
        for item in text.split(separator: ";") where !item.isEmpty {
            let parts = item.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let w = Double(parts[1]), w > 0 else {
                throw OptionError("priority: weights expects NAME:WEIGHT;NAME:WEIGHT with positive weights, got '\(item)'")
            }
            out[String(parts[0])] = w
        }
        return out
    }

    public override func prepareWaiting(_ view: InstanceView) {
        let classes = max(1, view.classLabels.count)
        if weights.count != classes {
            weights = (0..<classes).map { k in k < view.classLabels.count ? weightsByName[view.classLabels[k]] ?? 1 : 1 }
            virtualTime = Array(repeating: 0, count: classes)
        }
        if heads.count != classes { heads = Array(repeating: [], count: classes) }
        for k in 0..<classes { heads[k].removeAll(keepingCapacity: true) }
        cursor = Array(repeating: 0, count: classes)
        for r in view.waiting { heads[min(classes - 1, Int(view.requests.requestClass[Int(r)]))].append(r) }
        // A class returning from idle starts at the busiest class's clock, not with saved credit.
        let active = (0..<classes).filter { !heads[$0].isEmpty }
        if let floor = active.map({ virtualTime[$0] }).min() {
            for k in 0..<classes where heads[k].isEmpty { virtualTime[k] = max(virtualTime[k], floor) }
        }
    }

    public override func nextWaiting(_ view: InstanceView, position: Int) -> Int32? {
        var best = -1
        for k in 0..<heads.count where cursor[k] < heads[k].count {
            if best < 0 || virtualTime[k] < virtualTime[best] { best = k }
        }
        guard best >= 0 else { return nil }
        defer { cursor[best] += 1 }
        return heads[best][cursor[best]]
    }

    public override func admitted(_ r: Int32, view: InstanceView) {
        let i = Int(r)
        let k = min(weights.count - 1, Int(view.requests.requestClass[i]))
        virtualTime[k] += Double(Int(view.requests.promptTokens[i]) + Int(view.requests.predictedOutput[i])) / weights[k]
    }
}
