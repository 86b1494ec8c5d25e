import Schedulers
import ServeAPI
import Workload

/// A scheduler as written on the command line, resolved against the registry. Schedulers that take
/// a length predictor (`predictor` option) receive the predictor's own options in the same spec:
/// `sjf:predictor=noisy-oracle,sigma=0.5`.
public struct SchedulerChoice {
    public let label: String
    public let entry: SchedulerEntry
    public let schedulerOptions: [String: String]
    /// The predictor the spec names, if any; otherwise the run's `--predictor` (or the shell's
    /// `predictor`) feeds schedulers that use one.
    public let predictor: NamedSpec?

    public init(_ text: String) throws {
        let spec = try NamedSpec(parsing: text, what: "--scheduler")
        label = spec.description
        entry = try Components.schedulers.entry(named: spec.name)
        let own = Set(entry.options.map(\.name))
        if own.contains("predictor"), spec.options["predictor"] != nil || spec.options.keys.contains(where: { !own.contains($0) }) {
            // The spec names its predictor (or gives its options): it wins over the session's.
            let name = spec.options["predictor"] ?? "oracle"
            let predictorEntry = try Components.lengthPredictors.entry(named: name)
            var mine: [String: String] = [:], theirs: [String: String] = [:]
            for (k, v) in spec.options where k != "predictor" {
                if own.contains(k) { mine[k] = v } else { theirs[k] = v }
            }
            _ = try predictorEntry.instantiate(theirs)
            mine["predictor"] = name
            schedulerOptions = mine
            predictor = NamedSpec(name: name, options: theirs)
        } else {
            schedulerOptions = spec.options
            predictor = nil
        }
        _ = try entry.instantiate(schedulerOptions)
    }

    public func make() throws -> any StepScheduler { try entry.instantiate(schedulerOptions) }

    /// Splits a comma-separated list of scheduler specs where each spec may itself hold
    /// `key=value` pairs after a colon: "vllm,sjf:predictor=noisy-oracle,sigma=0.5,sarathi".
    public static func splitList(_ text: String) -> [String] {
        var out: [String] = []
        for piece in text.split(separator: ",").map(String.init) {
            if piece.contains("=") && !piece.contains(":"), let last = out.popLast() {
                out.append(last + "," + piece)
            } else {
                out.append(piece)
            }
        }
        return out
    }
}

/// The request classes class-aware schedulers see: the trace's model names, else its log types.
func requestClasses(_ trace: Trace) -> (labels: [String], classes: [UInt8])? {
    if let m = trace.modelIndex, trace.labels.models.count > 1 { return (trace.labels.models, m) }
    if let l = trace.logTypeIndex, trace.labels.logTypes.count > 1 { return (trace.labels.logTypes, l) }
    return nil
}
