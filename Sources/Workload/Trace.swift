/// One normalised workload: requests in arrival order, stored as columns (not one object each),
/// so that a million requests cost a few tens of bytes apiece.
/// A request's id is its index.
public struct Trace: Sendable, Equatable {
    /// Arrival time, ns relative to the first arrival (so `arrivals[0] == 0`), non-decreasing.
    public var arrivals: [Int64] = []
    public var promptTokens: [Int32] = []
    public var outputTokens: [Int32] = []
    /// Per-request index into `labels.models`, when the source names models.
    public var modelIndex: [UInt8]? = nil
    /// Per-request index into `labels.logTypes`, when the source has log types (BurstGPT).
    public var logTypeIndex: [UInt8]? = nil
    /// Per-request session number (dense, 0-based; -1 for none), when the source has sessions.
    public var sessionIndex: [Int32]? = nil
    /// Per-request flag for failed requests kept with `--keep-failed` (BurstGPT zero-output rows).
    public var failed: [Bool]? = nil
    /// Prefix blocks per request, when the source has them (Mooncake hash ids, token-id lists).
    public var prefix: PrefixBlocks? = nil
    public var labels = Labels()
    /// Where `arrivals[0]` lies on the source's own clock, ns: the epoch time for dated formats
    /// (Azure, Mooncake's milliseconds, vLLM's clocks), the first raw timestamp for relative ones,
    /// 0 for generated workloads. Binning on clock boundaries (as pandas' `floor` does) needs it.
    public var clockOrigin: Int64 = 0

    public struct Labels: Sendable, Equatable {
        public var models: [String] = []
        public var logTypes: [String] = []
        public init() {}
    }

    public init() {}

    public var count: Int { arrivals.count }
    public var isEmpty: Bool { arrivals.isEmpty }

    /// Span from the first to the last arrival, seconds.
    public var spanSeconds: Double {
        guard let last = arrivals.last, let first = arrivals.first else { return 0 }
        return Double(last - first) / 1e9
    }

    public func model(of i: Int) -> String? {
        guard let m = modelIndex else { return nil }
        return labels.models[Int(m[i])]
    }

    public func logType(of i: Int) -> String? {
        guard let l = logTypeIndex else { return nil }
        return labels.logTypes[Int(l[i])]
    }

    /// A new trace holding the requests at `indices` (in that order); arrivals are not rebased.
    public func selecting(_ indices: [Int]) -> Trace {
        var t = Trace()
        t.labels = labels
        t.clockOrigin = clockOrigin
        t.arrivals = indices.map { arrivals[$0] }
        t.promptTokens = indices.map { promptTokens[$0] }
        t.outputTokens = indices.map { outputTokens[$0] }
        t.modelIndex = modelIndex.map { m in indices.map { m[$0] } }
        t.logTypeIndex = logTypeIndex.map { l in indices.map { l[$0] } }
        t.sessionIndex = sessionIndex.map { s in indices.map { s[$0] } }
        t.failed = failed.map { f in indices.map { f[$0] } }
        t.prefix = prefix.map { $0.selecting(indices) }
        return t
    }

    /// Approximate bytes held by the columns (what `make bench` reports per request).
    public var footprintBytes: Int {
        var n = arrivals.capacity * 8 + promptTokens.capacity * 4 + outputTokens.capacity * 4
        n += (modelIndex?.capacity ?? 0) + (logTypeIndex?.capacity ?? 0)
        n += (sessionIndex?.capacity ?? 0) * 4 + (failed?.capacity ?? 0)
        if let p = prefix { n += p.offsets.capacity * 4 + p.ids.capacity * 4 }
        return n
    }
}

/// Prefix blocks: request i's prompt starts with blocks `ids[offsets[i]..<offsets[i+1]]`, each
/// covering `blockTokens` tokens. Equal ids mean an identical prefix up to and including that block.
/// Ids are dense (0..<uniqueCount) so the engine can index arrays with them.
public struct PrefixBlocks: Sendable, Equatable {
    public var blockTokens: Int
    public var offsets: [Int32]
    public var ids: [Int32]
    public var uniqueCount: Int

    public init(blockTokens: Int, offsets: [Int32] = [0], ids: [Int32] = [], uniqueCount: Int = 0) {
        self.blockTokens = blockTokens
        self.offsets = offsets
        self.ids = ids
        self.uniqueCount = uniqueCount
    }

    public func blocks(of i: Int) -> ArraySlice<Int32> {
        ids[Int(offsets[i])..<Int(offsets[i + 1])]
    }

    func selecting(_ indices: [Int]) -> PrefixBlocks {
        var out = PrefixBlocks(blockTokens: blockTokens)
        out.ids.reserveCapacity(ids.count)
        for i in indices {
            out.ids.append(contentsOf: blocks(of: i))
            out.offsets.append(Int32(out.ids.count))
        }
        out.uniqueCount = uniqueCount
        return out
    }
}

/// What normalisation did to a trace: every dropped or altered request is counted here.
public struct LoadReport: Sendable, Equatable {
    public var format: TraceFormat = .llmservingsimTSV
    public var rowsRead = 0
    public var failedDropped = 0
    public var failedKept = 0
    public var modelFiltered = 0
    public var outOfOrder = 0
    public var outsideWindow = 0
    public var beyondLimit = 0
    public var contextCapped = 0
    public var contextDropped = 0
    public var warnings: [String] = []
    public init() {}
}
