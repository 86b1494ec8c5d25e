import Foundation

/// Intermittent-demand models for sparse counts (many empty windows), where smoothing the raw
/// series chases every zero. Both smooth the non-zero sizes z by exponential smoothing:
/// - Croston (1972) with the Syntetos–Boylan correction: also smooths the intervals p between
///   non-zero values, forecasting (1 − α/2)·z/p, updated only when a non-zero value arrives;
/// - TSB (Teunter, Syntetos & Babai, 2011): smooths the probability d that a window is non-zero
///   every window (so a series that dies out decays to 0), forecasting d·z.
/// The smoothing constants minimise the in-sample one-step squared error (Nelder–Mead).
/// Forecasts are flat over the horizon.
public final class IntermittentForecaster: ConformalForecaster {
    public enum Method: Sendable { case croston, tsb }
    let method: Method
    public private(set) var alpha = 0.1, beta = 0.1
    var size = 0.0, interval = 1.0, probability = 0.0
    var sinceLast = 1
    var sse = 0.0, fittedCount = 0

    public init(method: Method) {
        self.method = method
        super.init(name: method == .croston ? "croston" : "tsb")
    }

    override public var minimumLength: Int { 4 }

    override public var aic: Double? {
        fittedCount > 0 ? Self.akaike(sse: sse, count: fittedCount, parameters: 3) : nil
    }

    func reset(_ y: [Double]) {
        let nonZero = y.enumerated().filter { $0.element != 0 }
        size = nonZero.first?.element ?? 0
        // The first interval: the mean gap between non-zero values, or the whole series when there is one.
        interval = nonZero.count > 1 ? Double(nonZero.last!.offset - nonZero.first!.offset) / Double(nonZero.count - 1) : Double(y.count)
        probability = Double(nonZero.count) / Double(y.count)
        sinceLast = 1
    }

    var forecast: Double {
        switch method {
        case .croston: return interval > 0 ? (1 - alpha / 2) * size / interval : 0
        case .tsb: return probability * size
        }
    }

    func step(_ y: Double) {
        switch method {
        case .croston:
            if y != 0 {
                size = alpha * y + (1 - alpha) * size
                interval = alpha * Double(sinceLast) + (1 - alpha) * interval
                sinceLast = 1
            } else {
                sinceLast += 1
            }
        case .tsb:
            if y != 0 {
                probability = beta + (1 - beta) * probability
                size = alpha * y + (1 - alpha) * size
            } else {
                probability = (1 - beta) * probability
            }
        }
    }

    func filter(_ y: [Double]) -> Double {
        reset(y)
        var total = 0.0
        for v in y {
            let e = v - forecast
            total += e * e
            step(v)
        }
        return total
    }

    override public func train(_ y: [Double]) throws {
        let tsb = method == .tsb
        let start = tsb ? [unbounded(0.1, 0.001, 0.999), unbounded(0.1, 0.001, 0.999)] : [unbounded(0.1, 0.001, 0.999)]
        let best = NelderMead.minimize({ p in
            self.alpha = bounded(p[0], 0.001, 0.999)
            if tsb { self.beta = bounded(p[1], 0.001, 0.999) }
            let v = self.filter(y)
            return v.isFinite ? v : .greatestFiniteMagnitude
        }, start: start, step: 1)
        alpha = bounded(best[0], 0.001, 0.999)
        if tsb { beta = bounded(best[1], 0.001, 0.999) }
        sse = filter(y)
        fittedCount = y.count
    }

    override public func observe(_ y: Double) { step(y) }

    override public func point(_ horizon: Int) -> [Double] { Array(repeating: forecast, count: horizon) }
}
