import ServeAPI

/// Every way a scheduler's plan can be invalid. The engine refuses such a plan and stops the run
/// with a `SimulationError` naming the scheduler, the instance and the fault.
public enum PlanFault: Equatable, Sendable, CustomStringConvertible {
    case preemptedNotRunning(request: Int32)
    case preemptedTwice(request: Int32)
    case notHere(request: Int32)
    case scheduledTwice(request: Int32)
    case admissionBlocks(request: Int32, need: Int, free: Int)
    case growthBlocks(request: Int32, need: Int, free: Int)
    case tokenCount(request: Int32, tokens: Int, pending: Int)
    case splitPrompt(request: Int32, tokens: Int, pending: Int)
    case overBudget(tokens: Int, budget: Int)
    case overSeats(running: Int, maxSeqs: Int)

    public var description: String {
        switch self {
        case .preemptedNotRunning(let r): return "preempted request \(r) is not running here"
        case .preemptedTwice(let r): return "request \(r) preempted twice"
        case .notHere(let r): return "request \(r) is neither waiting nor running here"
        case .scheduledTwice(let r): return "request \(r) appears twice or was also preempted"
        case .admissionBlocks(let r, let need, let free): return "admitting request \(r) needs \(need) KV blocks, \(free) free"
        case .growthBlocks(let r, let need, let free): return "request \(r) needs \(need) more KV blocks, \(free) free"
        case .tokenCount(let r, let n, let pending): return "request \(r) scheduled for \(n) tokens, \(pending) pending"
        case .splitPrompt(let r, let n, let pending): return "request \(r) given \(n) of \(pending) prompt tokens with chunked prefill off"
        case .overBudget(let tokens, let budget): return "\(tokens) tokens exceed the budget of \(budget)"
        case .overSeats(let running, let maxSeqs): return "\(running) running requests exceed max_num_seqs \(maxSeqs)"
        }
    }
}

/// The engine's checks of a plan, in one place. The instance calls them as it applies the plan
/// (so a check costs no second pass over the batch); each throws the fault it finds.
struct PlanValidator {
    let scheduler: String
    let instance: Int
    let limits: StepLimits

    func refuse(_ fault: PlanFault) -> SimulationError {
        SimulationError("scheduler '\(scheduler)' produced an invalid plan on instance \(instance): \(fault)", fault: fault)
    }

    /// A preempted request must be running on this instance and preempted once.
    func preempted(_ r: Int32, table: RequestTable, step: UInt32) throws {
        let i = Int(r)
        // Twice first: the first preemption already moved it to the waiting queue.
        guard i < 0 || i >= table.count || table.stamp[i] != step else { throw refuse(.preemptedTwice(request: r)) }
        guard i >= 0 && i < table.count, table.phase[i] == RequestTable.Phase.running.rawValue, Int(table.instance[i]) == instance else {
            throw refuse(.preemptedNotRunning(request: r))
        }
    }

    /// A scheduled request must be waiting or running here, and appear once (and not be preempted).
    func scheduled(_ r: Int32, table: RequestTable, step: UInt32) throws {
        let i = Int(r)
        guard i >= 0 && i < table.count, Int(table.instance[i]) == instance,
              table.phase[i] == RequestTable.Phase.waiting.rawValue || table.phase[i] == RequestTable.Phase.running.rawValue else {
            throw refuse(.notHere(request: r))
        }
        guard table.stamp[i] != step else { throw refuse(.scheduledTwice(request: r)) }
    }

    /// Inside a decode stretch a plan holds admissions only: a running request already decodes.
    func admission(_ r: Int32, table: RequestTable) throws {
        let i = Int(r)
        guard i < 0 || i >= table.count || table.phase[i] != RequestTable.Phase.running.rawValue else {
            throw refuse(.scheduledTwice(request: r))
        }
    }

    func blocks(_ r: Int32, need: Int, free: Int, admitting: Bool) throws {
        guard need <= free else {
            throw refuse(admitting ? .admissionBlocks(request: r, need: need, free: free) : .growthBlocks(request: r, need: need, free: free))
        }
    }

    /// At least one token, no more than pending, and a whole prompt when chunked prefill is off.
    func tokens(_ r: Int32, _ n: Int, pending: Int) throws {
        guard n >= 1 && n <= pending else { throw refuse(.tokenCount(request: r, tokens: n, pending: pending)) }
        if !limits.chunkedPrefill && n < pending { throw refuse(.splitPrompt(request: r, tokens: n, pending: pending)) }
    }

    func budget(_ tokens: Int) throws {
        guard tokens <= limits.tokenBudget else { throw refuse(.overBudget(tokens: tokens, budget: limits.tokenBudget)) }
    }

    func seats(_ running: Int) throws {
        guard running <= limits.maxSeqs else { throw refuse(.overSeats(running: running, maxSeqs: limits.maxSeqs)) }
    }
}
