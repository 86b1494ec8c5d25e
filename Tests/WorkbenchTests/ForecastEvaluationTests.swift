import Foundation
import XCTest
@testable import Workbench
import Forecasting
import Workload

/// On both shared Azure traces at 1 s and 10 s (horizon 6), the best non-baseline model beats
/// naive and seasonal-naive on MASE, and its 95% intervals cover 90–99% of actuals.
final class ForecastEvaluationTests: XCTestCase {
    func testBestModelBeatsTheBaselinesOnAzure() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/data/azure2023")
        for name in ["code", "conv"] {
            let path = root.appendingPathComponent("AzureLLMInferenceTrace_\(name).csv").path
            guard FileManager.default.fileExists(atPath: path) else {
                print("skipping: \(path) is absent")
                throw XCTSkip("shared data absent")
            }
            let trace = try TraceLoader.load(path).0
            for step in [1.0, 10.0] {
                let s = try SeriesLoader.fromTrace(trace, step: step, target: .requests)
                // The neural models are left to the benchmark (training time); their speed is not this test's subject.
                let r = try ForecastReport.evaluate(s, models: ["naive", "seasonal-naive", "moving-average", "ses", "holt", "arima", "ensemble"],
                                                    horizon: 6, season: 60)
                let byName = Dictionary(uniqueKeysWithValues: r.results.map { ($0.name, $0.average) })
                let best = try XCTUnwrap(r.bestModel)
                XCTAssertLessThan(best.average.mase, byName["naive"]!.mase, "\(name) \(step) s: \(best.name)")
                XCTAssertLessThan(best.average.mase, byName["seasonal-naive"]!.mase, "\(name) \(step) s: \(best.name)")
                XCTAssertGreaterThanOrEqual(best.average.coverage95, 0.90, "\(name) \(step) s: \(best.name)")
                XCTAssertLessThanOrEqual(best.average.coverage95, 0.99, "\(name) \(step) s: \(best.name)")
            }
        }
    }
}
