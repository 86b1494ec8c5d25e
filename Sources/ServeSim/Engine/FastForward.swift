import ServeAPI

/// Decode fast-forward. Between events that change a batch, consecutive decode-only steps of an
/// instance differ only by every context growing by one token (and a new KV block where a context
/// crosses a block boundary). Such a stretch is advanced here without planning, validating,
/// queueing or completing each step: per step, the shape is updated in O(1) and priced by the
/// latency model (the same call, so durations are bit-identical to step-by-step simulation), the
/// counters and the time series get exactly the updates a step would give them, and the
/// per-request columns are updated once for the whole stretch.
///
/// A stretch ends before the first step that: starts at or after the next arrival or any other
/// event (another instance's step, an autoscaling decision), needs more new blocks than are free
/// (the scheduler would preempt), or follows a completion that finishes a request. The step left
/// in flight is the last one; its completion is processed as usual.
extension SimulationRun {
    /// Whether any step of this run may be fast-forwarded: the scheduler declares its plans steady
    /// and nothing asked to see every step (decision pauses, step observers, telemetry sampled per
    /// event); prefix caching registers blocks at every completion, so it sees every step too.
    var fastForwardAllowed: Bool {
        sim.fastForward && hooks.decision == nil && hooks.step == nil && reporters.isEmpty
            && sim.instances.allSatisfy { $0.scheduler.capabilities.steadyDecode && !$0.kv.cachingEnabled }
    }

    /// Advances `inst`'s decode stretch from its step in flight (planned at `now`, ending at
    /// `end`) while the following steps start before `bound`; returns the end of the step then in
    /// flight (`end` itself when the step is not a steady decode step or nothing can be skipped).
    func fastForward(_ inst: Instance, end: Int64, bound: Int64) throws -> Int64 {
        let work = inst.plan.work
        let batch = work.count
        guard end < bound, batch > 0, inst.waiting.count == 0, inst.plan.preempted.isEmpty, inst.running.count == batch,
              inst.shape.prefillChunks == 0, inst.shape.decodes == batch, inst.shape.sampled == batch, inst.shape.swapBytes == 0
        else { return end }
        let table = sim.table
        let kv = inst.kv
        let blockSize = kv.blockSize
        // Completions that finish nobody: the first finish comes with the completion of step
        // (fewest remaining tokens − 1), counting the step in flight as step 0.
        var fewestRemaining = Int32.max
        crossings.removeAll(keepingCapacity: true)
        crossings.append(contentsOf: repeatElement(0, count: blockSize))
        for w in work {
            let i = Int(w.request)
            guard table.generated[i] >= 1 else { return end }
            fewestRemaining = min(fewestRemaining, table.output[i] - table.generated[i])
            // Step s (s ≥ 1) needs a new block for this request when computed + s is a multiple of the block size.
            let c = Int(table.computed[i])
            crossings[(blockSize - c % blockSize) % blockSize] += 1
        }
        let collapsible = Int(fewestRemaining) - 1
        guard collapsible >= 1 else { return end }

        var shape = inst.shape
        var used = kv.used, referenced = kv.referenced, stored = inst.storedTokens
        let reserved = inst.plan.reservedBlocks
        var inFlightEnd = end
        var inFlightStart = now
        var longestGap: Int64 = 0
        var collapsed = 0
        while collapsed < collapsible && inFlightEnd < bound {
            let step = collapsed + 1
            let allocations = crossings[step % blockSize]
            guard allocations <= kv.total - used else { break }
            // The completion of the step in flight, as the event loop would apply it.
            let t = inFlightEnd
            if collapsed >= 1 {
                let gap = inFlightEnd - inFlightStart
                itl.add(gap, count: batch)
                longestGap = max(longestGap, gap)
            }
            elapse(to: t)
            try recordStepEnd(at: t, shape: shape)
            // The next step: every context one longer.
            used += allocations
            referenced += allocations
            totals.usedBlocks += allocations
            stored += batch
            shape.decodeContext += Double(batch)
            shape.minDecodeContext += 1
            shape.maxDecodeContext += 1
            let next = try inst.book(shape, at: t, latency: sim.latency, used: used, referenced: referenced, stored: stored,
                                     reserved: reserved, counters: &counters)
            stepNumber &+= 1
            if fleet != nil { windowBusyNanos += Double(next - t); totalBusyNanos += Double(next - t) }
            inFlightStart = t
            inFlightEnd = next
            collapsed += 1
        }
        guard collapsed > 0 else { return end }

        // The stretch's tokens, request by request: the first collapsed completion's gap is each
        // request's own, the others are the collapsed steps' durations.
        let tokens = Int32(collapsed)
        for w in work {
            let i = Int(w.request)
            let firstGap = end - table.lastToken[i]
            itl.add(firstGap)
            table.maxGap[i] = max(table.maxGap[i], firstGap, longestGap)
            table.computed[i] += tokens
            table.generated[i] += tokens
            table.lastToken[i] = inFlightStart
            kv.grow(w.request, toTokens: Int(table.computed[i]) + 1)
        }
        assert(kv.used == used && kv.referenced == referenced, "fast-forward block accounting")
        inst.storedTokens = stored
        inst.shape = shape
        fastForwardedSteps += collapsed
        return inFlightEnd
    }
}
