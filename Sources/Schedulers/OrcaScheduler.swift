import ServeAPI

/// Orca (OSDI'22) iteration-level batching: whole prompts, and KV memory reserved at admission for
/// the request's maximum length, so running requests never need preemption.
public final class OrcaScheduler: StepScheduler {
    public enum Reservation: String, CaseIterable { case max, oracle, pow2 }

    public let name = "orca"
    public let preemption = PreemptionMode.recompute
    /// Whole prompts; with oracle/pow2 reservations the (predicted) length decides the reservation.
    public var capabilities: SchedulerCapabilities {
        SchedulerCapabilities(wholePromptAdmission: true, usesLengthPredictor: reservation != .max)
    }
    let reservation: Reservation
    let maxLength: Int

    public init(reservation: Reservation = .max, maxLength: Int = 4096) {
        self.reservation = reservation
        self.maxLength = maxLength
    }

    /// Tokens reserved for a request: Orca(Max) the maximum sequence length, Orca(Oracle) its
    /// (predicted) total, Orca(Pow2) that total rounded up to a power of two.
    func reserved(_ view: InstanceView, _ r: Int32) -> Int {
        let total = Int(view.requests.promptTokens[Int(r)]) + Int(view.requests.predictedOutput[Int(r)])
        switch reservation {
        case .max: return max(maxLength, total)
        case .oracle: return total
        case .pow2:
            var p = 1
            while p < total { p <<= 1 }
            return p
        }
    }

    public func plan(_ view: InstanceView, into plan: inout StepPlan) {
        var budget = view.limits.tokenBudget
        var reservedBlocks = 0
        for r in view.running {
            reservedBlocks += view.blocks(forTokens: reserved(view, r))
            let n = view.requests.pendingTokens(r)
            guard n <= budget else { continue }
            plan.work.append(ScheduledWork(request: r, tokens: Int32(n)))
            budget -= n
        }
        var seats = view.limits.maxSeqs - view.running.count
        var free = view.freeBlocks
        for r in view.waiting {
            guard seats > 0 else { break }
            // A cached prefix is not computed again: only the rest of the prompt is scheduled.
            let hit = view.admissionHit(r)
            let n = view.requests.pendingTokens(r) - hit.tokens
            let blocks = view.blocks(forTokens: reserved(view, r))
            let need = view.admissionBlocks(r, hit: hit, newTokens: n)
            guard n <= budget, reservedBlocks + blocks <= view.totalBlocks, need <= free else { break }
            free -= need
            plan.work.append(ScheduledWork(request: r, tokens: Int32(n)))
            budget -= n
            reservedBlocks += blocks
            seats -= 1
        }
        plan.reservedBlocks = reservedBlocks
    }
}
