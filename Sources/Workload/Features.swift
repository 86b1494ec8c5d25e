/// Workload features per fixed-width window: the series forecasters and schedulers consume.
public struct FeatureRow: Sendable, Equatable {
    /// Window start, seconds from the first arrival (the first window of a clock-aligned table
    /// starts up to one width before it).
    public var start: Double
    public var requests: Double
    public var promptTokens: Double
    public var outputTokens: Double
    public var meanPrompt: Double { requests > 0 ? promptTokens / requests : 0 }
    public var meanOutput: Double { requests > 0 ? outputTokens / requests : 0 }
}

public struct FeatureTable: Sendable, Equatable {
    public var frequency: Double
    public var rows: [FeatureRow]
    /// Rolling window (in rows) for the rolling mean and standard deviation of the request count.
    public var rollingWindow: Int

    /// The most windows a table may have: memory stays bounded whatever the span and frequency.
    public static let maxWindows = 10_000_000

    /// Batch computation over a whole trace: every window from the one holding the first arrival
    /// to the one holding the last, including empty ones; refused beyond `maxWindows` windows.
    /// Windows start at the first arrival, or with `.clock` on multiples of the width on the
    /// source's clock (`Trace.clockOrigin`), as pandas' `dt.floor` bins dated traces.
    public init(trace: Trace, frequency: Double, rollingWindow: Int = 10, alignment: BinAlignment = .firstArrival) throws {
        guard frequency >= 1e-3 && frequency.isFinite else { throw UsageError("a window must be at least 1 ms, got \(frequency) s") }
        let windows = trace.spanSeconds / frequency + 1
        guard windows <= Double(Self.maxWindows) else {
            throw UsageError("the trace spans \(trace.spanSeconds) s: \(Int(windows.rounded(.up))) windows of \(frequency) s exceed the limit of \(Self.maxWindows); use a coarser frequency")
        }
        self.frequency = frequency
        self.rollingWindow = rollingWindow
        var acc = IncrementalFeatures(frequency: frequency)
        if alignment == .clock { acc.alignToClock(origin: trace.clockOrigin) }
        var rows: [FeatureRow] = []
        for i in 0..<trace.count {
            acc.add(arrival: trace.arrivals[i], prompt: trace.promptTokens[i], output: trace.outputTokens[i]) { rows.append($0) }
        }
        acc.flush { rows.append($0) }
        self.rows = rows
    }

    /// Rolling mean and population std of request counts over the last `rollingWindow` rows.
    public func rolling() -> [(mean: Double, std: Double)] {
        var out: [(Double, Double)] = []
        var sum = 0.0, sumSq = 0.0
        for (i, r) in rows.enumerated() {
            sum += r.requests
            sumSq += r.requests * r.requests
            if i >= rollingWindow {
                let old = rows[i - rollingWindow].requests
                sum -= old
                sumSq -= old * old
            }
            let n = Double(Swift.min(i + 1, rollingWindow))
            let m = sum / n
            out.append((m, Swift.max(0, sumSq / n - m * m).squareRoot()))
        }
        return out
    }

    public func csv() -> String {
        var s = "window_start_s,requests,prompt_tokens,output_tokens,mean_prompt,mean_output,rolling_mean_requests,rolling_std_requests\n"
        for (r, roll) in zip(rows, rolling()) {
            s += "\(fmt(r.start)),\(fmt(r.requests)),\(fmt(r.promptTokens)),\(fmt(r.outputTokens)),\(fmt(r.meanPrompt)),\(fmt(r.meanOutput)),\(fmt(roll.mean)),\(fmt(roll.std))\n"
        }
        return s
    }

    private func fmt(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(format4(v))
    }
}

/// Where a table's windows start: at the first arrival, or on clock boundaries.
public enum BinAlignment: String, Sendable, CaseIterable {
    case firstArrival = "first", clock
}

func format4(_ v: Double) -> String {
    let scaled = (v * 10_000).rounded() / 10_000
    return "\(scaled)"
}

/// The same features computed one arrival at a time, for use inside a running simulation:
/// a closed window is emitted as soon as an arrival falls past it (empty windows included).
public struct IncrementalFeatures: Sendable {
    public let frequency: Double
    let width: Int64
    /// ns added to each arrival before binning: where the first arrival lies inside its window.
    var offset: Int64 = 0
    var current = FeatureRow(start: 0, requests: 0, promptTokens: 0, outputTokens: 0)
    var windowIndex: Int64 = 0
    var started = false

    public init(frequency: Double) {
        precondition(frequency > 0)
        self.frequency = frequency
        width = Int64((frequency * 1e9).rounded())
    }

    /// Puts window boundaries on multiples of the width on the clock where the first arrival
    /// happened at `origin` ns (call before the first `add`).
    public mutating func alignToClock(origin: Int64) {
        offset = ((origin % width) + width) % width
        current.start = -Double(offset) / 1e9
    }

    /// Adds one arrival (ns from the trace start, non-decreasing); `emit` receives closed windows.
    public mutating func add(arrival: Int64, prompt: Int32, output: Int32, emit: (FeatureRow) -> Void) {
        let (shifted, overflow) = arrival.addingReportingOverflow(offset)
        let w = (overflow ? Int64.max : shifted) / width
        started = true
        while windowIndex < w {
            emit(current)
            windowIndex += 1
            current = FeatureRow(start: Double(windowIndex) * frequency - Double(offset) / 1e9, requests: 0, promptTokens: 0, outputTokens: 0)
        }
        current.requests += 1
        current.promptTokens += Double(prompt)
        current.outputTokens += Double(output)
    }

    /// Emits the window in progress.
    public mutating func flush(emit: (FeatureRow) -> Void) {
        if started { emit(current) }
    }
}

/// Parses frequencies and horizons such as `100ms`, `1s`, `10s`, `1m`, `1h`, or a bare number of seconds.
public func parseDuration(_ text: String, what: String) throws -> Double {
    let t = text.lowercased().trimmingCharactersInWhitespace()
    let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("min", 60), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
    var seconds: Double? = nil
    for (suffix, scale) in units where t.hasSuffix(suffix) {
        seconds = Double(t.dropLast(suffix.count)).map { $0 * scale }
        break
    }
    if seconds == nil { seconds = Double(t) }
    guard let v = seconds, v.isFinite else {
        throw UsageError("\(what): expected a duration like 100ms, 1s, 10s, 1m, got '\(text)'")
    }
    // From a millisecond to about three years.
    guard v >= 1e-3 && v <= 1e8 else { throw UsageError("\(what): a duration must be in 1ms...1e8s, got '\(text)'") }
    return v
}
