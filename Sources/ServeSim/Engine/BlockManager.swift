import ServeAPI
import Workload

/// Paged KV cache of one instance, with exact block accounting and prefix caching.
///
/// Prefix caching works on the trace's prefix units (a Mooncake hash id = 512 tokens, a hashed
/// token-id block = 16 tokens), each `unitBlocks` KV blocks. A unit becomes cached once a request
/// has computed it; cached units shared by running requests are pinned (reference-counted); unused
/// cached units stay resident, count as free (as in vLLM) and are evicted least recently used.
final class BlockManager: PrefixCacheQuery {
    let total: Int
    let blockSize: Int
    /// Blocks held by requests (private blocks and pinned units).
    private(set) var used = 0
    /// Σ over requests of the blocks each holds, shared prefix blocks counted once per holder: with
    /// the holders' computed tokens it gives the partly filled blocks (internal fragmentation).
    private(set) var referenced = 0
    /// Resident cached units nobody holds: free for the scheduler, evicted on demand.
    private(set) var idleUnits = 0

    let requests: RequestTable
    let prefix: PrefixBlocks?
    let unitTokens: Int
    let unitBlocks: Int
    private var unitRef: [Int32]
    private var unitResident: [Bool]
    private var unitStamp: [UInt64]
    private var idleHeap: [(stamp: UInt64, unit: Int32)] = []
    private var clock: UInt64 = 0
    private(set) var hitTokens: Int64 = 0
    private(set) var evictions = 0

    init(total: Int, blockSize: Int, requests: RequestTable, prefix: PrefixBlocks?) {
        self.total = total
        self.blockSize = blockSize
        self.requests = requests
        if let p = prefix, p.blockTokens % blockSize == 0 {
            self.prefix = p
            unitTokens = p.blockTokens
            unitBlocks = p.blockTokens / blockSize
            unitRef = Array(repeating: 0, count: p.uniqueCount)
            unitResident = Array(repeating: false, count: p.uniqueCount)
            unitStamp = Array(repeating: 0, count: p.uniqueCount)
        } else {
            self.prefix = nil
            unitTokens = 0
            unitBlocks = 0
            unitRef = []
            unitResident = []
            unitStamp = []
        }
    }

    var cachingEnabled: Bool { prefix != nil }
    /// Blocks available to the scheduler.
    var free: Int { total - used }
    /// Blocks holding no KV at all (free minus idle cached units).
    var unowned: Int { total - used - idleUnits * unitBlocks }

    @inline(__always) func blocks(forTokens n: Int) -> Int { (n + blockSize - 1) / blockSize }

    func prefixHit(_ r: Int32) -> PrefixHit {
        guard let p = prefix else { return PrefixHit() }
        let i = Int(r)
        let lo = Int(p.offsets[i]), hi = Int(p.offsets[i + 1])
        // At least one prompt token is always computed, so the last full unit may not be reused.
        let usable = min(hi - lo, (Int(requests.prompt[i]) - 1) / unitTokens)
        var k = 0, reclaimed = 0
        while k < usable {
            let u = Int(p.ids[lo + k])
            guard unitResident[u] else { break }
            if unitRef[u] == 0 { reclaimed += unitBlocks }
            k += 1
        }
        return PrefixHit(tokens: k * unitTokens, blocks: k * unitBlocks, reclaimed: reclaimed)
    }

    func releasableBlocks(_ r: Int32) -> Int {
        let i = Int(r)
        let units = Int(requests.registeredUnits[i])
        var n = Int(requests.allocatedBlocks[i]) - units * unitBlocks
        if let p = prefix {
            let lo = Int(p.offsets[i])
            for k in 0..<units where unitRef[Int(p.ids[lo + k])] == 1 { n += unitBlocks }
        }
        return n
    }

    /// Pins the cached units of a hit and makes them the request's first blocks.
    func admit(_ r: Int32, hit: PrefixHit) {
        guard let p = prefix, hit.tokens > 0 else { return }
        let i = Int(r)
        let lo = Int(p.offsets[i])
        let units = hit.tokens / unitTokens
        for k in 0..<units {
            let u = Int(p.ids[lo + k])
            if unitRef[u] == 0 { idleUnits -= 1; used += unitBlocks }
            unitRef[u] += 1
        }
        requests.registeredUnits[i] = Int32(units)
        requests.allocatedBlocks[i] = Int32(units * unitBlocks)
        referenced += units * unitBlocks
        hitTokens += Int64(hit.tokens)
    }

    /// Grows a request's allocation to hold `tokens` tokens, evicting idle cached units if needed.
    /// The engine checked the plan against `free`, so this cannot fail.
    @inline(__always)
    func grow(_ r: Int32, toTokens tokens: Int) {
        let i = Int(r)
        let need = StepLimits.blocksToGrow(holding: Int(requests.allocatedBlocks[i]), toTokens: tokens, blockSize: blockSize)
        guard need > 0 else { return }
        while unowned < need { evictOne() }
        used += need
        referenced += need
        requests.allocatedBlocks[i] += Int32(need)
    }

    private func evictOne() {
        while let top = idleHeap.first {
            popIdle()
            let u = Int(top.unit)
            if unitResident[u] && unitRef[u] == 0 && unitStamp[u] == top.stamp {
                unitResident[u] = false
                idleUnits -= 1
                evictions += 1
                return
            }
        }
        preconditionFailure("KV accounting: nothing to evict")
    }

    /// Turns fully computed prompt units into cached units (private blocks become shared ones).
    func register(_ r: Int32) {
        guard let p = prefix else { return }
        let i = Int(r)
        let lo = Int(p.offsets[i]), hi = Int(p.offsets[i + 1])
        var k = Int(requests.registeredUnits[i])
        let computed = Int(requests.computed[i])
        while lo + k < hi && (k + 1) * unitTokens <= computed {
            let u = Int(p.ids[lo + k])
            // Computed concurrently by another request: keep this copy private (as vLLM does).
            if unitResident[u] { break }
            unitResident[u] = true
            unitRef[u] = 1
            k += 1
        }
        requests.registeredUnits[i] = Int32(k)
    }

    /// Releases everything a request holds. Its cached units stay resident until evicted.
    func release(_ r: Int32) {
        let i = Int(r)
        let units = Int(requests.registeredUnits[i])
        if let p = prefix, units > 0 {
            let lo = Int(p.offsets[i])
            // Later units get older stamps so a prompt's tail is evicted before its head.
            for k in stride(from: units - 1, through: 0, by: -1) {
                let u = Int(p.ids[lo + k])
                unitRef[u] -= 1
                if unitRef[u] == 0 {
                    idleUnits += 1
                    used -= unitBlocks
                    clock += 1
                    unitStamp[u] = clock
                    pushIdle(stamp: clock, unit: Int32(u))
                }
            }
        }
        used -= Int(requests.allocatedBlocks[i]) - units * unitBlocks
        referenced -= Int(requests.allocatedBlocks[i])
        requests.allocatedBlocks[i] = 0
        requests.registeredUnits[i] = 0
    }

    private func pushIdle(stamp: UInt64, unit: Int32) {
        idleHeap.append((stamp, unit))
        var i = idleHeap.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard idleHeap[i].stamp < idleHeap[p].stamp else { break }
            idleHeap.swapAt(i, p)
            i = p
        }
    }

    private func popIdle() {
        let last = idleHeap.removeLast()
        guard !idleHeap.isEmpty else { return }
        idleHeap[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < idleHeap.count && idleHeap[l].stamp < idleHeap[m].stamp { m = l }
            if r < idleHeap.count && idleHeap[r].stamp < idleHeap[m].stamp { m = r }
            if m == i { break }
            idleHeap.swapAt(i, m)
            i = m
        }
    }
}
