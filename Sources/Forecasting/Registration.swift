import ServeAPI

/// Registers the built-in forecasters with typed options.
public enum Forecasters {
    public static func register() { registerOnce }

    static let season = OptionSpec("season", .int, default: "60", range: 1...100_000, doc: "season length in steps")
    /// The steps a direct multi-step model (DLinear, the Transformer) forecasts per pass.
    static let passHorizon = OptionSpec("horizon", .int, default: "12", range: 1...1000, doc: "steps forecast per pass (longer horizons recurse)")

    /// `auto` (nil: detect) or season lengths ≥ 2 joined by +.
    static func seasonList(_ text: String, model: String) throws -> [Int]? {
        if text == "auto" { return nil }
        let parts = text.split(separator: "+").compactMap { Int($0) }
        guard !parts.isEmpty, parts.count == text.split(separator: "+").count, parts.allSatisfy({ (2...1_000_000).contains($0) }) else {
            throw OptionError("\(model): option 'seasons' expects auto or season lengths ≥ 2 joined by + (e.g. 24+168), got '\(text)'")
        }
        return parts
    }

    /// The models a combination may hold, by name.
    static func statisticalMember(_ name: String, season m: Int) throws -> () -> ConformalForecaster {
        switch name {
        case "ses": return { ExponentialSmoothing(kind: .simple) }
        case "holt": return { ExponentialSmoothing(kind: .dampedTrend) }
        case "holt-winters": return { ExponentialSmoothing(kind: .holtWinters(season: m)) }
        case "arima": return { ARIMAForecaster() }
        case "theta": return { ThetaForecaster(optimised: false, season: m) }
        case "otm": return { ThetaForecaster(optimised: true, season: m) }
        case "naive": return { NaiveForecaster() }
        case "qar": return { QuantileAutoregression() }
        case "croston": return { IntermittentForecaster(method: .croston) }
        case "tsb": return { IntermittentForecaster(method: .tsb) }
        default:
            throw OptionError("combination: unknown member '\(name)' (expected ses, holt, holt-winters, arima, theta, otm, qar, naive, croston or tsb)")
        }
    }

    private static let registerOnce: Void = {
        let r = Registries.forecasters
        r.register(ForecasterEntry(name: "naive", summary: "the last value (baseline)") { _ in NaiveForecaster() })
        r.register(ForecasterEntry(name: "seasonal-naive", summary: "the value one season ago (baseline)", options: [season]) { o in
            SeasonalNaiveForecaster(season: o.int("season"))
        })
        r.register(ForecasterEntry(
            name: "moving-average", summary: "the mean of the last values (baseline)",
            options: [OptionSpec("window", .int, default: "10", range: 1...100_000, doc: "values averaged")]) { o in
            MovingAverageForecaster(window: o.int("window"))
        })
        r.register(ForecasterEntry(name: "ses", summary: "simple exponential smoothing (alpha fitted)") { _ in ExponentialSmoothing(kind: .simple) })
        r.register(ForecasterEntry(name: "holt", summary: "Holt's damped additive trend (alpha, beta, phi fitted)") { _ in
            ExponentialSmoothing(kind: .dampedTrend)
        })
        r.register(ForecasterEntry(name: "holt-winters", summary: "additive Holt-Winters with damped trend", options: [season]) { o in
            ExponentialSmoothing(kind: .holtWinters(season: o.int("season")))
        })
        r.register(ForecasterEntry(
            name: "arima", summary: "ARIMA with the order chosen by AIC (d by lag-1 autocorrelation, p ≤ 3, q ≤ 2)",
            options: [OptionSpec("order", .string, default: "auto", doc: "auto, or p,d,q written p-d-q (e.g. 1-0-0)")]) { o in
            let text = o.string("order")
            if text == "auto" { return ARIMAForecaster() }
            let parts = text.split(separator: "-").compactMap { Int($0) }
            guard parts.count == 3, parts.allSatisfy({ $0 >= 0 }), parts[1] <= 1, parts[0] <= 6, parts[2] <= 6 else {
                throw OptionError("arima: option 'order' expects auto or p-d-q with d ≤ 1 (e.g. 2-1-1), got '\(text)'")
            }
            return ARIMAForecaster(order: (parts[0], parts[1], parts[2]))
        })
        r.register(ForecasterEntry(name: "theta", summary: "the Theta method (θ = 2; seasonally adjusted when the season is significant)",
                                   options: [season]) { o in
            ThetaForecaster(optimised: false, season: o.int("season"))
        })
        r.register(ForecasterEntry(name: "otm", summary: "optimised Theta (θ and α fitted; seasonally adjusted when significant)",
                                   options: [season]) { o in
            ThetaForecaster(optimised: true, season: o.int("season"))
        })
        r.register(ForecasterEntry(
            name: "combination", summary: "median (or mean, or AIC-weighted) of ses, holt, arima and theta, M4-style",
            options: [OptionSpec("method", .string, default: "median", doc: "median, mean or aic"),
                      OptionSpec("members", .string, default: "ses+holt+arima+theta", doc: "models joined by + (statistical ones)"),
                      season]) { o in
            guard let method = CombinationForecaster.Method(rawValue: o.string("method")) else {
                throw OptionError("combination: option 'method' expects median, mean or aic, got '\(o.string("method"))'")
            }
            let names = o.string("members").split(separator: "+").map(String.init)
            let m = o.int("season")
            let makers = try names.map { try statisticalMember($0, season: m) }
            guard !makers.isEmpty else { throw OptionError("combination: option 'members' names no model") }
            return CombinationForecaster(method: method) { makers.map { $0() } }
        })
        r.register(ForecasterEntry(
            name: "qar", summary: "direct quantile autoregression: per-horizon median regression on recent values and smoothed levels",
            options: [OptionSpec("lags", .int, default: "1", range: 0...100, doc: "recent values used"),
                      OptionSpec("rates", .string, default: "0.5+0.2+0.05", doc: "smoothing rates of the level features, joined by +"),
                      OptionSpec("window", .int, default: "3000", range: 20...1_000_000, doc: "most recent points fitted"),
                      OptionSpec("quantile", .double, default: "0.5", range: 0.01...0.99, doc: "the quantile forecast (0.5: the median)")]) { o in
            let text = o.string("rates")
            let rates = text.split(separator: "+").compactMap { Double($0) }
            guard rates.count == text.split(separator: "+").count, rates.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
                throw OptionError("qar: option 'rates' expects smoothing rates in (0, 1] joined by + (e.g. 0.5+0.2+0.05), got '\(text)'")
            }
            return QuantileAutoregression(lags: o.int("lags"), rates: rates, window: o.int("window"), quantile: o.double("quantile"))
        })
        let seasons = OptionSpec("seasons", .string, default: "auto", doc: "season lengths joined by + (e.g. 24+168), or auto: detected")
        r.register(ForecasterEntry(
            name: "mstl", summary: "multiple seasonal decomposition (e.g. daily and weekly), damped-trend remainder",
            options: [seasons, OptionSpec("cycles", .int, default: "8", range: 1...10_000, doc: "recent cycles each seasonal shape is averaged over"), season]) { o in
            MSTLForecaster(seasons: try seasonList(o.string("seasons"), model: "mstl"), season: o.int("season"), cycles: o.int("cycles"))
        })
        r.register(ForecasterEntry(
            name: "prophet", summary: "Prophet-style: piecewise-linear trend with changepoints, Fourier seasons, holidays",
            options: [seasons,
                      OptionSpec("order", .int, default: "5", range: 1...100, doc: "Fourier harmonics per season (at most half the season)"),
                      OptionSpec("changepoints", .int, default: "25", range: 0...1000, doc: "potential trend changes over the first 80%"),
                      OptionSpec("scale", .double, default: "0.05", range: 0.0001...100, doc: "changepoint prior scale (larger: a more flexible trend)"),
                      OptionSpec("holidays", .string, default: "", doc: "holiday steps from the series' start, joined by +"),
                      season]) { o in
            let text = o.string("holidays")
            let days = text.split(separator: "+").compactMap { Int($0) }
            guard days.count == text.split(separator: "+").count, days.allSatisfy({ $0 >= 0 }) else {
                throw OptionError("prophet: option 'holidays' expects step indices ≥ 0 joined by + (e.g. 120+264), got '\(text)'")
            }
            return ProphetForecaster(seasons: try seasonList(o.string("seasons"), model: "prophet"), season: o.int("season"), order: o.int("order"),
                                     changepoints: o.int("changepoints"), changepointScale: o.double("scale"), holidays: days)
        })
        r.register(ForecasterEntry(name: "croston", summary: "Croston's intermittent-demand method, Syntetos–Boylan corrected (sparse counts)") { _ in
            IntermittentForecaster(method: .croston)
        })
        r.register(ForecasterEntry(name: "tsb", summary: "Teunter–Syntetos–Babai intermittent demand: smoothed probability × size") { _ in
            IntermittentForecaster(method: .tsb)
        })
        r.register(ForecasterEntry(
            name: "dlinear", summary: "trend/remainder decomposition with one linear map each (gradient descent)",
            options: [OptionSpec("lookback", .int, default: "120", range: 2...10_000, doc: "input window, steps"),
                      passHorizon,
                      OptionSpec("kernel", .int, default: "25", range: 1...1000, doc: "moving-average kernel"),
                      OptionSpec("epochs", .int, default: "60", range: 1...10_000, doc: "training epochs")]) { o in
            DLinearForecaster(lookBack: o.int("lookback"), horizon: o.int("horizon"), kernel: o.int("kernel"), epochs: o.int("epochs"))
        })
        typealias Recurrent = @Sendable (Int, Int, Int, Int) -> RecurrentForecaster
        let recurrent: [(String, String, Recurrent)] = [
            ("gru", "a small GRU trained by backpropagation through time, early-stopped on a validation split",
             { GRUForecaster(hidden: $0, sequence: $1, epochs: $2, patience: $3) }),
            ("lstm", "a small LSTM trained by backpropagation through time, early-stopped on a validation split",
             { LSTMForecaster(hidden: $0, sequence: $1, epochs: $2, patience: $3) }),
        ]
        for (name, summary, make) in recurrent {
            r.register(ForecasterEntry(
                name: name, summary: summary,
                options: [OptionSpec("hidden", .int, default: "12", range: 1...256, doc: "hidden units"),
                          OptionSpec("sequence", .int, default: "24", range: 2...1000, doc: "unrolled steps per training window"),
                          OptionSpec("epochs", .int, default: "12", range: 1...10_000, doc: "most epochs of 64 windows"),
                          OptionSpec("patience", .int, default: "3", range: 1...1000, doc: "epochs without a better validation loss before stopping")]) { o in
                make(o.int("hidden"), o.int("sequence"), o.int("epochs"), o.int("patience"))
            })
        }
        r.register(ForecasterEntry(
            name: "transformer", summary: "a small Transformer encoder (self-attention over the look-back, direct multi-step head), early-stopped",
            options: [OptionSpec("lookback", .int, default: "24", range: 2...512, doc: "input window, steps (one token each)"),
                      passHorizon,
                      OptionSpec("width", .int, default: "16", range: 1...256, doc: "token width (model dimension)"),
                      OptionSpec("heads", .int, default: "2", range: 1...64, doc: "attention heads (must divide the width)"),
                      OptionSpec("layers", .int, default: "1", range: 1...8, doc: "encoder blocks"),
                      OptionSpec("epochs", .int, default: "30", range: 1...10_000, doc: "most epochs of 64 windows"),
                      OptionSpec("patience", .int, default: "4", range: 1...1000, doc: "epochs without a better validation loss before stopping")]) { o in
            guard o.int("width") % o.int("heads") == 0 else {
                throw OptionError("transformer: heads=\(o.int("heads")) must divide width=\(o.int("width"))")
            }
            return TransformerForecaster(lookBack: o.int("lookback"), horizon: o.int("horizon"), width: o.int("width"), heads: o.int("heads"),
                                         layers: o.int("layers"), epochs: o.int("epochs"), patience: o.int("patience"))
        })
        r.register(ForecasterEntry(
            name: "ensemble", summary: "ses, holt and arima weighted by inverse recent error; skips members that fail") { _ in
            EnsembleForecaster { [ExponentialSmoothing(kind: .simple), ExponentialSmoothing(kind: .dampedTrend), ARIMAForecaster()] }
        })
    }()
}
