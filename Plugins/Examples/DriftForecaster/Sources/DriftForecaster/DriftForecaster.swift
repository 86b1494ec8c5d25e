import ServeAPI

/// The random walk with drift: ŷ(T+h) = y(T) + h × (y(T) − y(1)) / (T − 1), with normal bands of
/// width σ √(h (1 + h / T)) from the one-step residuals; counts never go below zero.
final class DriftForecaster: WorkloadPredictor {
    let name = "drift"
    private var series: [Double] = []
    private var sigma = 0.0

    func fit(_ series: [Double]) throws {
        guard series.count >= 3 else { throw OptionError("drift needs at least 3 points, got \(series.count)") }
        self.series = series
        refit()
    }

    private func refit() {
        let n = Double(series.count), slope = (series.last! - series[0]) / (n - 1)
        var ss = 0.0
        for i in 1..<series.count { let e = series[i] - series[i - 1] - slope; ss += e * e }
        sigma = (ss / max(1, n - 2)).squareRoot()
    }

    func predict(horizon: Int, levels: [Double]) throws -> Forecast {
        let n = Double(series.count), last = series.last!, slope = (last - series[0]) / (n - 1)
        let mean = (1...max(1, horizon)).map { max(0, last + Double($0) * slope) }
        var f = Forecast(mean: mean)
        for level in levels {
            let z = level >= 95 ? 1.96 : level >= 90 ? 1.645 : level >= 80 ? 1.2816 : 0.6745
            let width = (1...max(1, horizon)).map { h in z * sigma * (Double(h) * (1 + Double(h) / n)).squareRoot() }
            f.lower[level] = zip(mean, width).map { max(0, $0 - $1) }
            f.upper[level] = zip(mean, width).map { $0 + $1 }
        }
        return f
    }

    func update(_ observation: Double) {
        series.append(observation)
        refit()
    }
}

@_cdecl("smartserve_plugin_entry")
public func smartservePluginEntry(_ hostABI: UInt32, _ registrar: UnsafeMutableRawPointer) -> UInt32 {
    PluginRegistrar.enter(hostABI, registrar) { plugin in
        plugin.describe(name: "drift-forecaster", version: "1.0.0")
        plugin.forecaster(ForecasterEntry(name: "drift", summary: "random walk with drift, normal bands (an example plugin)") { _ in DriftForecaster() })
    }
}
