import Workload

/// Renders dataset analyses for people (text) and programs (JSON).
public enum DatasetReport {
    public static func json(_ s: TraceSummary) -> JSON {
        func lengths(_ l: LengthSummary) -> JSON {
            .object([("mean", .number(l.mean)), ("p50", .number(l.p50)), ("p99", .number(l.p99)), ("max", .number(l.max))])
        }
        return .object([
            ("format", .string(s.format)), ("requests", .integer(s.requests)), ("failed", .integer(s.failed)),
            ("span_seconds", .number(s.spanSeconds)), ("mean_rate", .number(s.meanRate)),
            ("interarrival_cv", .number(s.interarrivalCV)), ("iod_1s", .number(s.iod1s)), ("iod_60s", .number(s.iod60s)),
            ("input_tokens", lengths(s.inputTokens)), ("output_tokens", lengths(s.outputTokens)),
            ("pattern", .string(s.pattern)),
        ])
    }

    public static func text(_ s: TraceSummary, file: String) -> String {
        var out = """
        file              \(file)
        format            \(s.format)
        requests          \(s.requests)   (failed in file: \(s.failed))
        span              \(fixed(s.spanSeconds, 1)) s
        mean rate         \(fixed(s.meanRate, 3)) req/s
        inter-arrival CV  \(fixed(s.interarrivalCV, 2))
        IoD 1 s / 60 s    \(fixed(s.iod1s, 2)) / \(fixed(s.iod60s, 2))
        pattern           \(s.pattern)

        """
        var t = TextTable(["tokens", "mean", "p50", "p99", "max"])
        for (name, l) in [("input", s.inputTokens), ("output", s.outputTokens)] {
            t.add([name, fixed(l.mean, 1), fixed(l.p50, 1), fixed(l.p99, 1), fixed(l.max, 0)])
        }
        out += t.render()
        return out
    }

    public static func json(_ r: PatternReport) -> JSON {
        .object([
            ("pattern", .string(r.overall.rawValue)),
            ("windows", .array(r.windows.map { w in
                .object([("start", .number(w.start)), ("end", .number(w.end)), ("requests", .integer(w.requests)),
                         ("rate", .number(w.rate)), ("pattern", .string(w.pattern.rawValue))])
            })),
            ("episodes", .array(r.episodes.map { e in
                .object([("start", .number(e.start)), ("end", .number(e.end)), ("peak_rate", .number(e.peakRate)),
                         ("requests", .integer(e.requests))])
            })),
        ])
    }

    public static func text(_ r: PatternReport) -> String {
        var out = "overall pattern: \(r.overall.rawValue)\n"
        let counts = Dictionary(grouping: r.windows, by: \.pattern).mapValues(\.count)
        out += "windows: " + TrafficPattern.allCases.map { "\($0.rawValue) \(counts[$0] ?? 0)" }.joined(separator: ", ") + "\n\n"
        var t = TextTable(["window (s)", "requests", "rate", "pattern"])
        for w in r.windows.prefix(60) {
            t.add(["\(fixed(w.start, 0))-\(fixed(w.end, 0))", "\(w.requests)", fixed(w.rate, 2), w.pattern.rawValue])
        }
        out += t.render()
        if r.windows.count > 60 { out += "… \(r.windows.count - 60) more windows (use --json for all)\n" }
        out += "\nburst episodes: \(r.episodes.count)\n"
        if !r.episodes.isEmpty {
            var e = TextTable(["start (s)", "end (s)", "peak req/s", "requests"])
            for ep in r.episodes.prefix(30) { e.add([fixed(ep.start, 0), fixed(ep.end, 0), fixed(ep.peakRate, 0), "\(ep.requests)"]) }
            out += e.render()
            if r.episodes.count > 30 { out += "… \(r.episodes.count - 30) more episodes (use --json for all)\n" }
        }
        return out
    }
}
