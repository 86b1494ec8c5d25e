import ServeAPI

/// How waiting requests are ordered for admission in a step.
public enum AdmissionRule: String, CaseIterable, Sendable, Codable {
    /// vLLM's queue order (preempted requests first, then by arrival).
    case fcfs
    /// Smallest predicted service cost first: prefill steps (pending prompt / token budget) plus
    /// the share of decode steps its predicted output occupies (predicted output / seats).
    case cost
    /// Shortest pending prompt first.
    case prompt
    /// Longest waiting first (by arrival, ignoring the queue's preempted-first order).
    case age
    /// Smallest weighted score first: w_prompt·prompt/budget + w_output·predicted/seats − w_age·wait (s).
    case score
}

/// One decision of a learned (or scripted) scheduler: the knobs of the next step(s).
public struct KnobAction: Sendable, Equatable, Codable {
    public var rule: AdmissionRule
    /// Share of `max_num_batched_tokens` this step may compute (0.05…1).
    public var budgetFraction: Double
    /// Share of `max_num_seqs` that may run (0.05…1).
    public var seatFraction: Double
    /// Weights of the `score` rule: prompt, predicted output, age.
    public var weights: [Double]
    /// Share of the KV blocks admission keeps free while requests run (0…0.5).
    public var watermark: Double

    public init(rule: AdmissionRule = .fcfs, budgetFraction: Double = 1, seatFraction: Double = 1, weights: [Double] = [0, 0, 0], watermark: Double = 0) {
        self.rule = rule
        self.budgetFraction = budgetFraction
        self.seatFraction = seatFraction
        self.weights = weights
        self.watermark = watermark
    }

    /// vLLM's behaviour: FCFS with the whole budget, every seat, no watermark.
    public static let vllm = KnobAction()
}

/// The action spaces an agent can act in.
public enum ActionSpace: Sendable, Equatable {
    /// `KnobAction`s from a fixed table: every admission rule but `score`, × token budget
    /// {100%, 25%} × KV watermark {0, 5%}: 16 actions (index = rule·4 + budget·2 + watermark).
    case discrete
    /// Six numbers in [−1, 1]: token budget, seats, the three `score` weights and the watermark
    /// (budget and seats map to 5…100%, the watermark to 0…20%).
    case continuous

    public var name: String { self == .discrete ? "discrete" : "continuous" }

    public init?(name: String) {
        switch name {
        case "discrete": self = .discrete
        case "continuous": self = .continuous
        default: return nil
        }
    }

    static let discreteRules: [AdmissionRule] = [.fcfs, .cost, .prompt, .age]

    /// Number of discrete actions, or the continuous action's dimension.
    public var size: Int { self == .discrete ? 16 : 6 }

    public func decode(discrete a: Int) -> KnobAction {
        let k = max(0, min(15, a))
        return KnobAction(rule: Self.discreteRules[k / 4], budgetFraction: (k / 2) % 2 == 0 ? 1 : 0.25,
                          watermark: k % 2 == 0 ? 0 : 0.05)
    }

    public func decode(continuous x: [Double]) -> KnobAction {
        func unit(_ i: Int) -> Double { i < x.count && x[i].isFinite ? (max(-1, min(1, x[i])) + 1) / 2 : 1 }
        func signed(_ i: Int) -> Double { i < x.count && x[i].isFinite ? max(-1, min(1, x[i])) : 0 }
        return KnobAction(rule: .score, budgetFraction: 0.05 + 0.95 * unit(0), seatFraction: 0.05 + 0.95 * unit(1),
                          weights: [signed(2), signed(3), signed(4)], watermark: 0.2 * (x.count > 5 ? unit(5) : 0))
    }

    /// Describes action `a` of the discrete table, for reports.
    public func describe(discrete a: Int) -> String {
        let k = decode(discrete: a)
        return "\(k.rule.rawValue), budget \(Int(k.budgetFraction * 100))%, watermark \(Int(k.watermark * 100))%"
    }
}
