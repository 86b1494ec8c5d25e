import Foundation

/// ARIMA(p, d, q) with a constant, estimated by conditional sum of squares, with the order chosen
/// by AIC. Search space: d ∈ {0, 1} (d = 1 when the lag-1 autocorrelation exceeds 0.9, i.e. a
/// near-unit root), then p ∈ 0…3 and q ∈ 0…2; AIC = n·log(σ̂²) + 2·(p + q + 1). A fixed order
/// can be given instead.
public final class ARIMAForecaster: ConformalForecaster {
    public private(set) var p = 0, d = 0, q = 0
    public private(set) var constant = 0.0
    public private(set) var ar: [Double] = []
    public private(set) var ma: [Double] = []
    let fixedOrder: (Int, Int, Int)?
    var w: [Double] = []          // the (differenced) series
    var e: [Double] = []          // its residuals
    var lastLevel = 0.0
    var fittedAIC: Double?

    override public var aic: Double? { fittedAIC }

    public init(order: (Int, Int, Int)? = nil) {
        fixedOrder = order
        super.init(name: "arima")
    }

    override public var minimumLength: Int { 12 }

    static func lag1(_ y: [Double]) -> Double {
        let m = y.reduce(0, +) / Double(y.count)
        var num = 0.0, den = 0.0
        for t in 0..<y.count {
            den += (y[t] - m) * (y[t] - m)
            if t > 0 { num += (y[t] - m) * (y[t - 1] - m) }
        }
        return den > 0 ? num / den : 0
    }

    /// Residuals and their sum of squares for given coefficients.
    static func css(_ w: [Double], p: Int, q: Int, c: Double, ar: ArraySlice<Double>, ma: ArraySlice<Double>) -> (Double, [Double]) {
        var e = [Double](repeating: 0, count: w.count)
        var sse = 0.0
        let start = max(p, 0)
        for t in start..<w.count {
            var f = c
            for i in 0..<p { f += ar[ar.startIndex + i] * w[t - 1 - i] }
            for j in 0..<q where t - 1 - j >= 0 { f += ma[ma.startIndex + j] * e[t - 1 - j] }
            e[t] = w[t] - f
            sse += e[t] * e[t]
        }
        return (sse, e)
    }

    func fitOrder(_ w: [Double], p: Int, q: Int) -> (aic: Double, c: Double, ar: [Double], ma: [Double]) {
        let mean = w.reduce(0, +) / Double(w.count)
        let objective = { (x: [Double]) -> Double in
            let arc = x[1..<(1 + p)], mac = x[(1 + p)...]
            // Keep to the stationary / invertible region (a sufficient condition).
            if arc.map(abs).reduce(0, +) >= 0.999 || mac.map(abs).reduce(0, +) >= 0.999 { return .greatestFiniteMagnitude }
            return ARIMAForecaster.css(w, p: p, q: q, c: x[0], ar: arc, ma: mac).0
        }
        var start = [mean * (1 - 0.1 * Double(p))]
        start += Array(repeating: 0.1 / Double(max(1, p)), count: p) + Array(repeating: 0.0, count: q)
        let x = NelderMead.minimize(objective, start: start, step: 0.2, iterations: 300 + 150 * (p + q))
        let sse = objective(x)
        let aic = Self.akaike(sse: sse, count: w.count - p, parameters: p + q + 1)
        return (aic, x[0], Array(x[1..<(1 + p)]), Array(x[(1 + p)...]))
    }

    override public func train(_ y: [Double]) throws {
        d = fixedOrder?.1 ?? (ARIMAForecaster.lag1(y) > 0.9 ? 1 : 0)
        w = d == 1 ? (1..<y.count).map { y[$0] - y[$0 - 1] } : y
        lastLevel = y.last!
        var best: (aic: Double, p: Int, q: Int, c: Double, ar: [Double], ma: [Double])? = nil
        let orders: [(Int, Int)] = fixedOrder.map { [($0.0, $0.2)] } ?? (0...3).flatMap { p in (0...2).map { (p, $0) } }
        for (pp, qq) in orders where w.count > 3 * (pp + qq + 1) {
            let f = fitOrder(w, p: pp, q: qq)
            if best == nil || f.aic < best!.aic { best = (f.aic, pp, qq, f.c, f.ar, f.ma) }
        }
        guard let b = best else { throw ForecastError("arima: the series is too short for the order searched") }
        (p, q, constant, ar, ma) = (b.p, b.q, b.c, b.ar, b.ma)
        fittedAIC = b.aic
        e = ARIMAForecaster.css(w, p: p, q: q, c: constant, ar: ar[...], ma: ma[...]).1
    }

    override public func observe(_ y: Double) {
        let v = d == 1 ? y - lastLevel : y
        lastLevel = y
        let t = w.count
        var f = constant
        for i in 0..<p where t - 1 - i >= 0 { f += ar[i] * w[t - 1 - i] }
        for j in 0..<q where t - 1 - j >= 0 { f += ma[j] * e[t - 1 - j] }
        w.append(v)
        e.append(v - f)
    }

    override public func point(_ horizon: Int) -> [Double] {
        let t0 = w.count
        var future: [Double] = []
        var out: [Double] = []
        var level = lastLevel
        func value(_ index: Int) -> Double { index < t0 ? w[index] : future[index - t0] }
        for h in 0..<horizon {
            var f = constant
            for i in 0..<p where t0 + h - 1 - i >= 0 { f += ar[i] * value(t0 + h - 1 - i) }
            // Future shocks are zero: MA terms act only through residuals already observed.
            for j in 0..<q {
                let index = t0 + h - 1 - j
                if index >= 0 && index < t0 { f += ma[j] * e[index] }
            }
            future.append(f)
            if d == 1 { level += f; out.append(level) } else { out.append(f) }
        }
        return out
    }
}
