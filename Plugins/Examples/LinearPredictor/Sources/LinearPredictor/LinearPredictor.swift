import ServeAPI

/// Predicts output length as a + b × prompt length, fitted by least squares on the first `train`
/// share of the requests (in arrival order), whose true lengths it may see; the rest it predicts.
final class LinearPredictor: LengthPredictor {
    let name = "linear"
    let train: Double
    init(train: Double) { self.train = train }

    func predict(prompts: [Int32], outputs: [Int32], seed: UInt64) -> [Int32] {
        let n = max(2, min(prompts.count, Int(Double(prompts.count) * train)))
        let seen = 0..<min(n, prompts.count)
        let mx = seen.reduce(0.0) { $0 + Double(prompts[$1]) } / Double(seen.count)
        let my = seen.reduce(0.0) { $0 + Double(outputs[$1]) } / Double(seen.count)
        var sxy = 0.0, sxx = 0.0
        for i in seen { sxy += (Double(prompts[i]) - mx) * (Double(outputs[i]) - my); sxx += (Double(prompts[i]) - mx) * (Double(prompts[i]) - mx) }
        let b = sxx > 0 ? sxy / sxx : 0, a = my - b * mx
        return prompts.map { Int32(max(1, min(1e6, (a + b * Double($0)).rounded()))) }
    }
}

@_cdecl("smartserve_plugin_entry")
public func smartservePluginEntry(_ hostABI: UInt32, _ registrar: UnsafeMutableRawPointer) -> UInt32 {
    PluginRegistrar.enter(hostABI, registrar) { plugin in
        plugin.describe(name: "linear-predictor", version: "1.0.0")
        plugin.lengthPredictor(PredictorEntry(
            name: "linear", summary: "output ≈ a + b × prompt, least squares on the first part of the trace",
            options: [OptionSpec("train", .double, default: "0.2", range: 0.001...1, doc: "share of the trace (arrival order) to fit on")]) { o in
            LinearPredictor(train: o.double("train"))
        })
    }
}
