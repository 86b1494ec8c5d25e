import ServeAPI

/// Decode fast-forward. Between events that change a batch, consecutive decode-only steps of an
/// instance differ only by every context growing by one token (and a new KV block where a context
/// crosses a block boundary). Such a stretch begins after any step in which every running request
/// samples a token (decodes, or computes the rest of its prompt, as in the step that admits an
/// arrival) and is advanced here without planning, validating, queueing or completing each
/// step: per step, the shape is updated in O(1) and priced by the
/// latency model (the same call, so durations are bit-identical to step-by-step simulation), the
/// counters and the time series get exactly the updates a step would give them, and the
/// per-request columns are updated once for the whole stretch.
///
/// A completion that finishes some of the batch is applied here too, as `Instance.complete` would
/// apply it: the finished requests leave (their columns, SLO tallies and KV blocks settled at
/// that instant) and the others go on decoding, which is what a steady scheduler plans with
/// nothing waiting. Two cases still end the stretch there instead: with an autoscaler (a
/// finished request can let a draining instance stop) and when the plan reserves blocks (a
/// reservation follows the batch).
///
/// Arrivals join a stretch when the run has one instance and no autoscaler and its scheduler
/// declares `steadyAdmission`: each arrival is queued at its instant (the series sampled there),
/// and each step of the stretch is planned as every member's decode plus what the scheduler's
/// `admitWaiting` admits from the budget, seats and blocks those decodes leave, applied through
/// `Instance.apply` as a planned step's entries are. An admission that samples at its step's end
/// (its whole prompt fitted) becomes a member from that completion on; one that leaves prompt
/// tokens for later ends the stretch with its step.
///
/// A stretch ends before the first step that: starts at or after the next arrival (unless
/// arrivals join) or any other event (another instance's step, an autoscaling decision), may
/// need more new blocks than are free (the scheduler would preempt), or follows the completion
/// that finishes every request left. The step left in flight is the last one; its completion is
/// processed as usual.
extension SimulationRun {
    /// Whether any step of this run may be fast-forwarded: the scheduler declares its plans steady
    /// and nothing asked to see every step (decision pauses, step observers, telemetry sampled per
    /// event); prefix caching registers blocks at every completion, so it sees every step too.
    var fastForwardAllowed: Bool {
        sim.fastForward && hooks.decision == nil && hooks.step == nil && reporters.isEmpty
            && sim.instances.allSatisfy { $0.scheduler.capabilities.steadyDecode && !$0.kv.cachingEnabled }
    }

    /// A request of a stretch's batch. After completion k of the stretch (the step in flight when
    /// it began completes first) it holds `base + k` computed tokens; `joined` is the completion
    /// that gave it its first token of the stretch (1, or the end of the step that admitted it),
    /// at `firstEnd`; `finish` the completion that gives its last token; `fresh` whether that
    /// first token is its first at all.
    struct StretchMember {
        var request: Int32
        var finish: Int32
        var base: Int32
        var joined: Int32
        var fresh: Bool
        var firstEnd: Int64
    }

    /// An admission in the step in flight of a stretch: the tokens it holds when the step ends,
    /// whether it samples then (its whole prompt was scheduled), and its tokens still to generate.
    struct StretchJoiner {
        var request: Int32
        var tokens: Int32
        var held: Int32
        var samples: Bool
        var fresh: Bool
        var remaining: Int32
    }

    /// The run's scheduler when a decode stretch may run through arrivals: one instance, no
    /// autoscaler, and a scheduler that declares `steadyAdmission` and is a
    /// `ContinuousBatchingScheduler` (whose `admitWaiting` then answers the step's admissions).
    var stretchAdmitter: ContinuousBatchingScheduler? {
        guard fastForwarding, sim.instances.count == 1, fleet == nil,
              sim.instances[0].scheduler.capabilities.steadyAdmission else { return nil }
        return sim.instances[0].scheduler as? ContinuousBatchingScheduler
    }

    /// Advances `inst`'s decode stretch from its step in flight (planned at `now`, ending at
    /// `end`) while the following steps start before `bound`; returns the end of the step then in
    /// flight (`end` itself when the step is not a steady decode step or nothing can be skipped).
    func fastForward(_ inst: Instance, end: Int64, bound: Int64) throws -> Int64 {
        let batchAtStart = inst.plan.work.count
        let admitter = admitsInStretch
        guard end < bound, batchAtStart > 0, admitter != nil || inst.waiting.count == 0, inst.plan.preempted.isEmpty,
              inst.running.count == batchAtStart, inst.shape.sampled == batchAtStart, inst.shape.swapBytes == 0
        else { return end }
        let table = sim.table
        let kv = inst.kv
        let blockSize = kv.blockSize
        var fewestFinish = Int32.max, latestFinish = Int32(0)
        stretch.removeAll(keepingCapacity: true)
        crossings.removeAll(keepingCapacity: true)
        crossings.append(contentsOf: repeatElement(0, count: blockSize))
        joiners.removeAll(keepingCapacity: true)
        gapPeaks.reset()
        // The steps after the one in flight decode every member: as the shape of a decode step
        // the one in flight would have been, each context being the member's after it (set
        // directly: `StepShape.add` counts one token after none cached, a one-token prompt, as a prefill).
        var shape = StepShape()
        shape.tokens = batchAtStart
        shape.sequences = batchAtStart
        shape.sampled = batchAtStart
        shape.decodes = batchAtStart
        stretch.reserveCapacity(batchAtStart)
        // Written through a buffer: an array's element update checks uniqueness every time.
        crossings.withUnsafeMutableBufferPointer { crossed in
            for w in inst.plan.work {
                let i = Int(w.request)
                // Completion k (the step in flight's is 1) gives every member its k-th token of the
                // stretch, so a member finishes with completion `remaining`.
                let remaining = table.output[i] - table.generated[i]
                fewestFinish = min(fewestFinish, remaining)
                latestFinish = max(latestFinish, remaining)
                // A member's tokens computed as if the step in flight were a decode (it may be the
                // rest of a prompt): after completion k it holds base + k.
                let base = table.computed[i] + w.tokens - 1
                stretch.append(StretchMember(request: w.request, finish: remaining, base: base, joined: 1,
                                             fresh: table.generated[i] == 0, firstEnd: end))
                shape.decodeContext += Double(Int(base) + 1)
                shape.minDecodeContext = min(shape.minDecodeContext, Int(base) + 1)
                shape.maxDecodeContext = max(shape.maxDecodeContext, Int(base) + 1)
                // Step s (s ≥ 1) needs a new block for this request when base + s is a multiple of the block size.
                crossed[Self.crossingOffset(base, blockSize)] += 1
            }
        }
        // With finishes absorbed the stretch stops before the completion that would leave no
        // request running; otherwise before the first that finishes anybody.
        let absorbsFinishes = fleet == nil && inst.plan.reservedBlocks == 0

        var used = kv.used, referenced = kv.referenced, stored = inst.storedTokens
        let reserved = inst.plan.reservedBlocks
        let check = PlanValidator(scheduler: inst.scheduler.name, instance: inst.index, limits: limits)
        let swap = inst.scheduler.preemption == .swap
        var inFlightEnd = end
        var inFlightStart = now
        var inFlightShape = inst.shape
        var collapsed = 0
        var batch = batchAtStart
        var runningHasFinished = false
        // What the admissions in the step in flight add to the checks before its completion:
        // the latest completion that finishes one of them, the blocks they may need for the step
        // after it, and whether one leaves prompt tokens for later (the stretch ends with it).
        var joinersFinish = Int32(0), joinerBlocks = 0, joinerChunked = false
        // completion % block size, kept without dividing.
        var offset = 1 % blockSize
        while inFlightEnd < bound && !joinerChunked {
            let completion = Int32(collapsed + 1)
            if absorbsFinishes ? completion >= max(latestFinish, joinersFinish) : completion >= fewestFinish { break }
            // The next step's block needs, counting the members this completion finishes (so
            // never fewer than the step needs).
            guard crossings[offset] + joinerBlocks <= kv.total - used else { break }
            // Its largest-gap record grows only while step times keep falling; bound it anyway.
            guard gapPeaks.count < SuffixMaxima.capacity else { break }
            let t = inFlightEnd
            // Arrivals while the step was in flight, then its completion, as the event loop
            // would apply them.
            if admitter != nil { try enqueueArrivals(before: t, orAt: false) }
            if collapsed >= 1 {
                let gap = inFlightEnd - inFlightStart
                itl.add(gap, count: batch)
                gapPeaks.add(gap, at: completion)
            }
            elapse(to: t)
            // The step's admissions that sampled their first token join the decodes.
            for j in joiners {
                let base = j.held - completion
                let finish = completion - 1 + j.remaining
                stretch.append(StretchMember(request: j.request, finish: finish, base: base, joined: completion, fresh: j.fresh, firstEnd: t))
                crossings[Self.crossingOffset(base, blockSize)] += 1
                // Its context "in the step just completed", as the members' are counted.
                shape.tokens += 1
                shape.sequences += 1
                shape.sampled += 1
                shape.decodes += 1
                shape.decodeContext += Double(j.held)
                shape.minDecodeContext = min(shape.minDecodeContext, Int(j.held))
                shape.maxDecodeContext = max(shape.maxDecodeContext, Int(j.held))
                fewestFinish = min(fewestFinish, finish)
                latestFinish = max(latestFinish, finish)
                batch += 1
            }
            joiners.removeAll(keepingCapacity: true)
            (joinersFinish, joinerBlocks) = (0, 0)
            if completion == fewestFinish {
                let (freed, earliestLeft) = finishMembers(inst, completion: completion, at: t, shape: &shape, stored: &stored)
                used -= freed
                referenced -= freed
                batch = stretch.count
                fewestFinish = earliestLeft
                runningHasFinished = true
            }
            try recordStepEnd(at: t, shape: inFlightShape)
            if admitter != nil { try enqueueArrivals(before: t, orAt: true) }
            // The next step: every context one longer.
            let blocksNeeded = crossings[offset]
            offset = offset + 1 == blockSize ? 0 : offset + 1
            used += blocksNeeded
            referenced += blocksNeeded
            totals.usedBlocks += blocksNeeded
            stored += batch
            shape.decodeContext += Double(batch)
            shape.minDecodeContext += 1
            shape.maxDecodeContext += 1
            stepNumber &+= 1
            var stepShape = shape
            if let admitter, inst.waiting.count > 0 {
                // The scheduler's admissions beside those decodes, from what they leave.
                if runningHasFinished {
                    inst.running.removeAll { table.phase[Int($0)] == RequestTable.Phase.finished.rawValue }
                    runningHasFinished = false
                }
                admissions.reset()
                let freeBefore = kv.total - (used - blocksNeeded)
                inst.withView(at: t, limits: limits, slo: objectives, table: table, classLabels: sim.classLabels, freeBlocks: freeBefore) { view in
                    admitter.admitWaiting(view, budget: admitter.budget(view) - batch, freeBlocks: freeBefore - blocksNeeded, into: &admissions)
                }
                if !admissions.work.isEmpty {
                    let (usedBefore, referencedBefore) = (kv.used, kv.referenced)
                    var tokens = batch
                    for w in admissions.work {
                        let i = Int(w.request)
                        try check.admission(w.request, table: table)
                        let samples = try inst.apply(w, step: stepNumber, at: t, check: check, table: table, swap: swap,
                                                     kvBytesPerToken: sim.kvBytesPerToken, unsettledBlocks: used - kv.used,
                                                     tokens: &tokens, shape: &stepShape, stored: &stored)
                        let held = table.computed[i] + w.tokens
                        let remaining = table.output[i] - table.generated[i]
                        joiners.append(StretchJoiner(request: w.request, tokens: w.tokens, held: held, samples: samples,
                                                     fresh: table.generated[i] == 0, remaining: remaining))
                        if samples {
                            joinersFinish = max(joinersFinish, completion + remaining)
                            if Int(held) % blockSize == 0 { joinerBlocks += 1 }
                        } else {
                            joinerChunked = true
                        }
                    }
                    try inst.seatAdmitted(table: table, check: check, totals: &totals)
                    used += kv.used - usedBefore
                    referenced += kv.referenced - referencedBefore
                    totals.usedBlocks += kv.used - usedBefore
                }
            }
            let next = try inst.book(stepShape, at: t, price: sim.price, used: used, referenced: referenced, stored: stored,
                                     reserved: reserved, counters: &counters)
            if fleet != nil { windowBusyNanos += Double(next - t); totalBusyNanos += Double(next - t) }
            inFlightStart = t
            inFlightEnd = next
            inFlightShape = stepShape
            collapsed += 1
            // A stretch through arrivals can last the whole run: stay interruptible.
            if collapsed & 4095 == 0 {
                hooks.progress?(Double(finished) / Double(sim.trace.count))
                if hooks.shouldStop?() == true { throw SimulationError.interrupted }
            }
        }
        guard collapsed > 0 else { return end }

        // The stretch's tokens, request by request.
        let last = Int32(collapsed)
        var gaps = LogHistogram.EqualRun()
        for m in stretch {
            settle(m, upTo: last, lastToken: inFlightStart, gaps: &gaps)
            kv.grow(m.request, toTokens: Int(table.computed[Int(m.request)]) + 1)
        }
        gaps.flush(to: &itl)
        if runningHasFinished {
            inst.running.removeAll { table.phase[Int($0)] == RequestTable.Phase.finished.rawValue }
        }
        // The step in flight: one decode token for each member, and its admissions.
        inst.plan.work.removeAll(keepingCapacity: true)
        for m in stretch { inst.plan.work.append(ScheduledWork(request: m.request, tokens: 1)) }
        for j in joiners { inst.plan.work.append(ScheduledWork(request: j.request, tokens: j.tokens)) }
        assert(kv.used == used && kv.referenced == referenced, "fast-forward block accounting")
        inst.storedTokens = stored
        inst.shape = inFlightShape
        fastForwardedSteps += collapsed
        return inFlightEnd
    }

    /// Puts the arrivals before `t` (and at `t` when `orAt`) in the only instance's waiting
    /// queue, each at its time, as the event loop does between a stretch's steps.
    func enqueueArrivals(before t: Int64, orAt: Bool) throws {
        let n = sim.trace.count
        let table = sim.table
        while nextArrival < n {
            let a = table.arrival[nextArrival]
            guard a < t || (orAt && a == t) else { return }
            elapse(to: a)
            let r = Int32(nextArrival)
            nextArrival += 1
            windowArrivals += 1
            try enqueue(r, on: 0, at: a)
        }
    }

    /// A member's tokens of the stretch up to completion `upTo` (the last at `lastToken`): the
    /// first, at `firstEnd`, is its first token for a fresh member, else it comes after a gap
    /// of its own (from its previous token); the later ones are the steps' durations.
    func settle(_ m: StretchMember, upTo: Int32, lastToken: Int64, gaps: inout LogHistogram.EqualRun) {
        let table = sim.table
        let i = Int(m.request)
        let longestGap = gapPeaks.largest(from: m.joined + 1)
        if m.fresh {
            table.firstToken[i] = m.firstEnd
            slo.firstToken(arrival: table.arrival[i], at: m.firstEnd)
            table.maxGap[i] = max(table.maxGap[i], longestGap)
        } else {
            let firstGap = m.firstEnd - table.lastToken[i]
            gaps.add(firstGap, to: &itl)
            table.maxGap[i] = max(table.maxGap[i], firstGap, longestGap)
        }
        table.computed[i] = m.base + upTo
        table.generated[i] += upTo - m.joined + 1
        table.lastToken[i] = lastToken
    }

    /// The step offset (0 ..< block size) at which a context of `base` tokens crosses into a
    /// new block (`base` is negative for a member that joined after the stretch began).
    static func crossingOffset(_ base: Int32, _ blockSize: Int) -> Int {
        var into = Int(base) % blockSize
        if into < 0 { into += blockSize }
        return into == 0 ? 0 : blockSize - into
    }

    /// Applies completion `completion` of a stretch to the members it finishes, as
    /// `Instance.complete` does: their tokens, gaps, SLO tallies, KV blocks (grown to their last
    /// token, then released) and stored tokens; they leave the stretch, their block crossings and
    /// the next step's `shape` (whose decode contexts are then recomputed). Returns the blocks
    /// freed and the earliest finish among the members left.
    func finishMembers(_ inst: Instance, completion: Int32, at t: Int64,
                       shape: inout StepShape, stored: inout Int) -> (freed: Int, earliestLeft: Int32) {
        let table = sim.table
        let kv = inst.kv
        var freed = 0, done = 0
        var shortest = Int32.max, longest = Int32.min, earliestLeft = Int32.max
        var kept = 0
        var gaps = LogHistogram.EqualRun()
        defer { gaps.flush(to: &itl) }
        // Through a buffer: the survivors move down one by one (see the stretch's set-up).
        stretch.withUnsafeMutableBufferPointer { members in
            for k in members.indices {
                let m = members[k]
                guard m.finish == completion else {
                    shortest = min(shortest, m.base)
                    longest = max(longest, m.base)
                    earliestLeft = min(earliestLeft, m.finish)
                    members[kept] = m
                    kept += 1
                    continue
                }
                let i = Int(m.request)
                settle(m, upTo: completion, lastToken: t, gaps: &gaps)
                table.phase[i] = RequestTable.Phase.finished.rawValue
                slo.finished(arrival: table.arrival[i], firstToken: table.firstToken[i], at: t, output: table.output[i])
                kv.grow(m.request, toTokens: Int(table.computed[i]))
                freed += Int(table.allocatedBlocks[i])
                kv.release(m.request)
                stored -= Int(table.computed[i])
                crossings[Self.crossingOffset(m.base, kv.blockSize)] -= 1
                // Its context in the step just completed was base + completion.
                shape.decodeContext -= Double(Int(m.base) + Int(completion))
                done += 1
            }
        }
        stretch.removeLast(stretch.count - kept)
        shape.tokens -= done
        shape.sequences -= done
        shape.sampled -= done
        shape.decodes -= done
        // The step just completed's shortest and longest decode contexts among those left.
        shape.minDecodeContext = Int(shortest) + Int(completion)
        shape.maxDecodeContext = Int(longest) + Int(completion)
        finished += done
        totals.running -= done
        totals.usedBlocks -= freed
        return (freed, earliestLeft)
    }
}

/// The longest step of a stretch after a given completion, for the members' largest gaps: the
/// gaps that no later gap equals or exceeds, in completion order (so decreasing), found by
/// binary search. Members that joined later ask from their own first token on.
struct SuffixMaxima {
    private var completions: [Int32] = []
    private var gaps: [Int64] = []
    /// The most gaps a stretch keeps (about 1 MB); a stretch ends before it would need more.
    static let capacity = 1 << 16

    var count: Int { gaps.count }

    mutating func reset() {
        completions.removeAll(keepingCapacity: true)
        gaps.removeAll(keepingCapacity: true)
    }

    /// The gap before completion `completion` (completions come in increasing order).
    mutating func add(_ gap: Int64, at completion: Int32) {
        while let last = gaps.last, last <= gap {
            gaps.removeLast()
            completions.removeLast()
        }
        gaps.append(gap)
        completions.append(completion)
    }

    /// The largest gap added at completion `from` or later (0 when none).
    func largest(from: Int32) -> Int64 {
        var lo = 0, hi = completions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if completions[mid] < from { lo = mid + 1 } else { hi = mid }
        }
        return lo < gaps.count ? gaps[lo] : 0
    }
}
