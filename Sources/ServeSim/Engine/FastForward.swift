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
/// A stretch ends before the first step that: starts at or after the next arrival or any other
/// event (another instance's step, an autoscaling decision), may need more new blocks than are
/// free (the scheduler would preempt), or follows the completion that finishes every request
/// left. The step left in flight is the last one; its completion is processed as usual.
extension SimulationRun {
    /// Whether any step of this run may be fast-forwarded: the scheduler declares its plans steady
    /// and nothing asked to see every step (decision pauses, step observers, telemetry sampled per
    /// event); prefix caching registers blocks at every completion, so it sees every step too.
    var fastForwardAllowed: Bool {
        sim.fastForward && hooks.decision == nil && hooks.step == nil && reporters.isEmpty
            && sim.instances.allSatisfy { $0.scheduler.capabilities.steadyDecode && !$0.kv.cachingEnabled }
    }

    /// A request of a stretch's batch: its remaining tokens, its computed tokens when the stretch
    /// began counted as if the step in flight were its decode (that step's tokens less one), and
    /// whether the step in flight gives it its first token.
    struct StretchMember {
        var request: Int32
        var remaining: Int32
        var computed: Int32
        var fresh: Bool
    }

    /// Advances `inst`'s decode stretch from its step in flight (planned at `now`, ending at
    /// `end`) while the following steps start before `bound`; returns the end of the step then in
    /// flight (`end` itself when the step is not a steady decode step or nothing can be skipped).
    func fastForward(_ inst: Instance, end: Int64, bound: Int64) throws -> Int64 {
        let batchAtStart = inst.plan.work.count
        guard end < bound, batchAtStart > 0, inst.waiting.count == 0, inst.plan.preempted.isEmpty, inst.running.count == batchAtStart,
              inst.shape.sampled == batchAtStart, inst.shape.swapBytes == 0
        else { return end }
        let table = sim.table
        let kv = inst.kv
        let blockSize = kv.blockSize
        // Completion k (the step in flight's is 1) gives every member its k-th token of the
        // stretch, so a member finishes with completion `remaining`.
        var fewestRemaining = Int32.max, mostRemaining = Int32(0)
        stretch.removeAll(keepingCapacity: true)
        crossings.removeAll(keepingCapacity: true)
        crossings.append(contentsOf: repeatElement(0, count: blockSize))
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
                let remaining = table.output[i] - table.generated[i]
                fewestRemaining = min(fewestRemaining, remaining)
                mostRemaining = max(mostRemaining, remaining)
                // A member's tokens computed as if the step in flight were a decode (it may be the
                // rest of a prompt): after completion k it holds base + k.
                let base = table.computed[i] + w.tokens - 1
                stretch.append(StretchMember(request: w.request, remaining: remaining, computed: base, fresh: table.generated[i] == 0))
                shape.decodeContext += Double(Int(base) + 1)
                shape.minDecodeContext = min(shape.minDecodeContext, Int(base) + 1)
                shape.maxDecodeContext = max(shape.maxDecodeContext, Int(base) + 1)
                // Step s (s ≥ 1) needs a new block for this request when base + s is a multiple of the block size.
                crossed[Self.crossingOffset(base, blockSize)] += 1
            }
        }
        let absorbsFinishes = fleet == nil && inst.plan.reservedBlocks == 0
        // The last completion applied here: the one before the first that finishes anybody, or
        // before the one that finishes everybody.
        let lastCollapsible = Int(absorbsFinishes ? mostRemaining : fewestRemaining) - 1
        guard lastCollapsible >= 1 else { return end }

        var used = kv.used, referenced = kv.referenced, stored = inst.storedTokens
        let reserved = inst.plan.reservedBlocks
        var inFlightEnd = end
        var inFlightStart = now
        var longestGap: Int64 = 0
        var collapsed = 0
        var batch = batchAtStart
        // completion % block size, kept without dividing.
        var offset = 1 % blockSize
        while collapsed < lastCollapsible && inFlightEnd < bound {
            let completion = collapsed + 1
            // The next step's block needs, counting the members this completion finishes (so
            // never fewer than the step needs).
            guard crossings[offset] <= kv.total - used else { break }
            // The completion of the step in flight, as the event loop would apply it.
            let t = inFlightEnd
            if collapsed >= 1 {
                let gap = inFlightEnd - inFlightStart
                itl.add(gap, count: batch)
                longestGap = max(longestGap, gap)
            }
            elapse(to: t)
            let completedShape = collapsed == 0 ? inst.shape : shape
            if completion == fewestRemaining {
                let (freed, fewestLeft) = finishMembers(inst, completion: Int32(completion), at: t, firstEnd: end, longestGap: longestGap,
                                                        shape: &shape, stored: &stored)
                used -= freed
                referenced -= freed
                batch = stretch.count
                fewestRemaining = fewestLeft
            }
            try recordStepEnd(at: t, shape: completedShape)
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
            let next = try inst.book(shape, at: t, price: sim.price, used: used, referenced: referenced, stored: stored,
                                     reserved: reserved, counters: &counters)
            stepNumber &+= 1
            if fleet != nil { windowBusyNanos += Double(next - t); totalBusyNanos += Double(next - t) }
            inFlightStart = t
            inFlightEnd = next
            collapsed += 1
        }
        guard collapsed > 0 else { return end }

        // The stretch's tokens, request by request.
        let tokens = Int32(collapsed)
        var gaps = LogHistogram.EqualRun()
        for m in stretch {
            settle(m, tokens: tokens, firstEnd: end, longestGap: longestGap, lastToken: inFlightStart, gaps: &gaps)
            kv.grow(m.request, toTokens: Int(table.computed[Int(m.request)]) + 1)
        }
        gaps.flush(to: &itl)
        if batch < batchAtStart {
            // The step in flight is the survivors' decode, in the running order.
            inst.running.removeAll { table.phase[Int($0)] == RequestTable.Phase.finished.rawValue }
            inst.plan.work.removeAll { table.phase[Int($0.request)] == RequestTable.Phase.finished.rawValue }
        }
        // The step in flight decodes one token each (the first step's entries may be prompts).
        if inst.shape.tokens != batchAtStart {
            for k in inst.plan.work.indices { inst.plan.work[k].tokens = 1 }
        }
        assert(kv.used == used && kv.referenced == referenced, "fast-forward block accounting")
        inst.storedTokens = stored
        inst.shape = shape
        fastForwardedSteps += collapsed
        return inFlightEnd
    }

    /// A member's `tokens` tokens of the stretch so far: the first completion's is its first
    /// token for a fresh member, else it comes after a gap of its own (from its previous token);
    /// the later ones are the steps' durations, the longest `longestGap`.
    func settle(_ m: StretchMember, tokens: Int32, firstEnd: Int64, longestGap: Int64, lastToken: Int64,
                gaps: inout LogHistogram.EqualRun) {
        let table = sim.table
        let i = Int(m.request)
        if m.fresh {
            table.firstToken[i] = firstEnd
            slo.firstToken(arrival: table.arrival[i], at: firstEnd)
            table.maxGap[i] = max(table.maxGap[i], longestGap)
        } else {
            let firstGap = firstEnd - table.lastToken[i]
            gaps.add(firstGap, to: &itl)
            table.maxGap[i] = max(table.maxGap[i], firstGap, longestGap)
        }
        table.computed[i] = m.computed + tokens
        table.generated[i] += tokens
        table.lastToken[i] = lastToken
    }

    /// The step offset (0 ..< block size) at which a context of `computed` tokens crosses into a new block.
    static func crossingOffset(_ computed: Int32, _ blockSize: Int) -> Int {
        let into = Int(computed) % blockSize
        return into == 0 ? 0 : blockSize - into
    }

    /// Applies completion `completion` of a stretch to the members it finishes, as
    /// `Instance.complete` does: their tokens, gaps, SLO tallies, KV blocks (grown to their last
    /// token, then released) and stored tokens; they leave the stretch, their block crossings and
    /// the next step's `shape` (whose decode contexts are then recomputed). Returns the blocks
    /// freed and the fewest remaining tokens among the members left.
    func finishMembers(_ inst: Instance, completion: Int32, at t: Int64, firstEnd: Int64, longestGap: Int64,
                       shape: inout StepShape, stored: inout Int) -> (freed: Int, fewestLeft: Int32) {
        let table = sim.table
        let kv = inst.kv
        var freed = 0, done = 0
        var shortest = Int32.max, longest = Int32.min, fewestLeft = Int32.max
        var kept = 0
        var gaps = LogHistogram.EqualRun()
        defer { gaps.flush(to: &itl) }
        // Through a buffer: the survivors move down one by one (see the stretch's set-up).
        stretch.withUnsafeMutableBufferPointer { members in
            for k in members.indices {
                let m = members[k]
                guard m.remaining == completion else {
                    shortest = min(shortest, m.computed)
                    longest = max(longest, m.computed)
                    fewestLeft = min(fewestLeft, m.remaining)
                    members[kept] = m
                    kept += 1
                    continue
                }
                let i = Int(m.request)
                settle(m, tokens: completion, firstEnd: firstEnd, longestGap: longestGap, lastToken: t, gaps: &gaps)
                table.phase[i] = RequestTable.Phase.finished.rawValue
                slo.finished(arrival: table.arrival[i], firstToken: table.firstToken[i], at: t, output: table.output[i])
                kv.grow(m.request, toTokens: Int(table.computed[i]))
                freed += Int(table.allocatedBlocks[i])
                kv.release(m.request)
                stored -= Int(table.computed[i])
                crossings[Self.crossingOffset(m.computed, kv.blockSize)] -= 1
                // Its context in the step just completed was computed + completion.
                shape.decodeContext -= Double(Int(m.computed) + Int(completion))
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
        return (freed, fewestLeft)
    }
}
