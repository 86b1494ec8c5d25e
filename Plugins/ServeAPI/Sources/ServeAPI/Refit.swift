/// When a forecaster that is updated online (one observation at a time, `WorkloadPredictor.update`)
/// is fitted again on the data it has seen. A fit re-estimates every parameter and costs what the
/// first fit cost; an update is cheap but leaves the parameters where the last fit put them, which
/// goes stale when the workload changes regime (a new daily phase, a traffic shift).
public enum RefitPolicy: Sendable, Equatable, CustomStringConvertible {
    /// Fitted once, then only updated.
    case never
    /// Fitted again once this many observations have arrived since the last fit.
    case every(Int)
    /// Fitted again when the forecasts drift: once `window` one-step errors after a fit have set
    /// a reference (their mean absolute value), a refit is due when the mean absolute one-step
    /// error over the latest `window` observations exceeds `ratio` times that reference. At most
    /// one refit per 2 × `window` observations.
    case drift(window: Int, ratio: Double)

    /// The drift test's defaults: 30 observations, 1.5× the reference error.
    public static let defaultDriftWindow = 30, defaultDriftRatio = 1.5

    /// Parses `never`, a number of observations N ≥ 1, `drift`, `drift:W` or `drift:W:R`
    /// (window W ≥ 2, ratio R > 1). `option` names the setting in the error.
    public init(parsing text: String, option: String = "refit") throws {
        let t = text.lowercased()
        if t == "never" || t == "online" { self = .never; return }
        if let n = Int(t) {
            guard n >= 1 else { throw OptionError("\(option) expects never, a number of observations ≥ 1 or drift[:W[:R]], got '\(text)'") }
            self = .every(n)
            return
        }
        let parts = t.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts[0] == "drift", parts.count <= 3 else {
            throw OptionError("\(option) expects never, a number of observations ≥ 1 or drift[:W[:R]], got '\(text)'")
        }
        var window = Self.defaultDriftWindow, ratio = Self.defaultDriftRatio
        if parts.count > 1 {
            guard let w = Int(parts[1]), w >= 2, w <= 1_000_000 else {
                throw OptionError("\(option): the drift window expects a number of observations in 2...1000000, got '\(parts[1])' in '\(text)'")
            }
            window = w
        }
        if parts.count > 2 {
            guard let r = Double(parts[2]), r.isFinite, r > 1, r <= 1000 else {
                throw OptionError("\(option): the drift ratio expects a number in (1, 1000], got '\(parts[2])' in '\(text)'")
            }
            ratio = r
        }
        self = .drift(window: window, ratio: ratio)
    }

    public var description: String {
        switch self {
        case .never: return "never"
        case .every(let n): return "every \(n) observations"
        case .drift(let w, let r): return "on drift (mean |one-step error| over \(w) observations above \(r)× its level after the last fit)"
        }
    }
}

/// Applies a `RefitPolicy` to a stream of observations: feed it each observation's one-step
/// absolute error (the forecast made before the observation arrived, against it) with
/// `observe`, ask `due` before updating the forecaster, and call `refitted` after a fit. Memory is
/// bounded by the drift window.
public struct RefitMonitor: Sendable {
    public let policy: RefitPolicy
    /// Observations since the last fit.
    public private(set) var sinceFit = 0
    private var reference = 0.0, referenceCount = 0
    private var recent: [Double] = []
    private var recentNext = 0
    private var recentSum = 0.0

    public init(policy: RefitPolicy) { self.policy = policy }

    /// Takes one observation and its one-step absolute error (nil when no forecast was made for it).
    public mutating func observe(error: Double?) {
        sinceFit += 1
        guard case .drift(let window, _) = policy, let e = error, e.isFinite else { return }
        if referenceCount < window {
            referenceCount += 1
            reference += (e - reference) / Double(referenceCount)
            return
        }
        if recent.count < window {
            recent.append(e)
        } else {
            recentSum -= recent[recentNext]
            recent[recentNext] = e
            recentNext = (recentNext + 1) % window
        }
        recentSum += e
    }

    /// The mean absolute one-step error over the latest window (drift only; nil until it is full).
    public var recentError: Double? {
        guard case .drift(let window, _) = policy, recent.count == window else { return nil }
        return recentSum / Double(window)
    }

    /// Whether the policy asks for a refit now.
    public var due: Bool {
        switch policy {
        case .never: return false
        case .every(let n): return sinceFit >= n
        case .drift(_, let ratio):
            guard let r = recentError else { return false }
            return r > ratio * reference
        }
    }

    /// Why a refit is due, for logs.
    public var reason: String {
        switch policy {
        case .never: return "never refitted"
        case .every(let n): return "\(sinceFit) observations since the last fit (every \(n))"
        case .drift(let w, let ratio):
            // Three decimals are plenty for a log line (ServeAPI has no Foundation formatting).
            func rounded(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
            let r = recentError.map { "\(rounded($0))" } ?? "n/a"
            return "mean |one-step error| \(r) over the last \(w) observations against \(rounded(reference)) after the last fit (ratio \(ratio))"
        }
    }

    /// Starts over after a fit: the next errors set a new reference.
    public mutating func refitted() {
        sinceFit = 0
        reference = 0
        referenceCount = 0
        recent.removeAll(keepingCapacity: true)
        recentNext = 0
        recentSum = 0
    }
}
