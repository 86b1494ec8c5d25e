import XCTest
@testable import Forecasting

/// The margin test behind `forecast eval`'s verdict, against hand-worked values and t tables.
final class AccuracyComparisonTests: XCTestCase {
    /// Two-sided 5% critical values of Student's t (any statistics table): 12.706 (1 degree of
    /// freedom), 3.182 (3), 2.228 (10), 1.960 (the normal limit); and p = 1 at t = 0.
    func testStudentTMatchesTheTables() {
        XCTAssertEqual(StudentT.twoSidedP(12.706, degrees: 1), 0.05, accuracy: 1e-4)
        XCTAssertEqual(StudentT.twoSidedP(3.182, degrees: 3), 0.05, accuracy: 1e-4)
        XCTAssertEqual(StudentT.twoSidedP(-2.228, degrees: 10), 0.05, accuracy: 1e-4)
        XCTAssertEqual(StudentT.twoSidedP(1.960, degrees: 1e7), 0.05, accuracy: 1e-4)
        XCTAssertEqual(StudentT.twoSidedP(0, degrees: 5), 1, accuracy: 1e-12)
        XCTAssertEqual(StudentT.twoSidedP(.infinity, degrees: 5), 0)
    }

    /// Losses 1, 2, 3, 4 against 0: mean difference 2.5, variance (1.5² + 0.5² + 0.5² + 1.5²) / 4
    /// = 1.25, standard error √(1.25 / 4); the HLN factor for one-step forecasts √((n − 1) / n)
    /// gives 2.5 / 0.5590 × √0.75 = 3.873, and with 3 degrees of freedom P(|T| ≥ t) = 1 − 2/π ×
    /// (t/√3 / (1 + t²/3) + atan(t/√3)) = 0.0304 (the closed-form t CDF for ν = 3).
    func testDieboldMarianoByHand() throws {
        let c = try XCTUnwrap(AccuracyComparison([1, 2, 3, 4], [0, 0, 0, 0], overlap: 0))
        XCTAssertEqual(c.meanDifference, 2.5, accuracy: 1e-12)
        XCTAssertEqual(c.standardError, (1.25 / 4).squareRoot(), accuracy: 1e-12)
        let t = 2.5 / (1.25 / 4).squareRoot() * 0.75.squareRoot()
        XCTAssertEqual(c.statistic, t, accuracy: 1e-9)
        let u = t / 3.0.squareRoot()
        XCTAssertEqual(c.pValue, 1 - 2 / Double.pi * (u / (1 + u * u) + atan(u)), accuracy: 1e-9)
        XCTAssertEqual(c.pValue, 0.0304, accuracy: 1e-4)
        // Swapped, the difference changes sign and the p-value does not.
        let d = try XCTUnwrap(AccuracyComparison([0, 0, 0, 0], [1, 2, 3, 4], overlap: 0))
        XCTAssertEqual(d.meanDifference, -2.5, accuracy: 1e-12)
        XCTAssertEqual(d.pValue, c.pValue, accuracy: 1e-12)
    }

    /// Overlapping forecasts: x = 1, 3, 2, 6 (deviations −2, 0, −1, 3), autocovariances γ0 = 14/4
    /// and γ1 = (0·−2 + −1·0 + 3·−1) / 4 = −0.75; with one lag the Bartlett weight is 1/2, so the
    /// long-run variance is 3.5 − 0.75 = 2.75 and the standard error √(2.75 / 4).
    func testNeweyWestStandardErrorByHand() throws {
        XCTAssertEqual(try XCTUnwrap(AccuracyComparison.standardError(of: [1, 3, 2, 6], overlap: 1)), (2.75 / 4).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(AccuracyComparison.standardError(of: [1, 3, 2, 6], overlap: 0)), (3.5 / 4).squareRoot(), accuracy: 1e-12)
        XCTAssertNil(AccuracyComparison.standardError(of: [1], overlap: 0))
        XCTAssertNil(AccuracyComparison([1, 2], [0, 0], overlap: 0))
    }

    /// Identical losses are equally accurate (p = 1); the evaluation keeps one MASE and one 95%
    /// coverage per origin, whose means are the reported ones.
    func testEqualLossesAndTheOriginsBehindTheMean() throws {
        let c = try XCTUnwrap(AccuracyComparison([1, 2, 3], [1, 2, 3], overlap: 0))
        XCTAssertEqual(c.pValue, 1)
        let y = (0..<120).map { Double(10 + ($0 * 7) % 5) }
        let plan = RollingOrigin(initial: 60, step: 3, windows: 20, horizon: 3, season: 1, refit: .everyOrigin, scaling: .perOrigin)
        let r = try plan.evaluate(NaiveForecaster(), on: y)
        XCTAssertEqual(r.originMASE.count, 20)
        XCTAssertEqual(r.originMASE.reduce(0, +) / 20, r.average.mase, accuracy: 1e-12)
        // Each origin's share of actuals inside its 95% band: k/3 for k hits of 3.
        XCTAssertEqual(r.originCoverage95.count, 20)
        XCTAssertTrue(r.originCoverage95.allSatisfy { [0, 1.0 / 3, 2.0 / 3, 1].contains($0) }, "\(r.originCoverage95)")
        XCTAssertEqual(r.originCoverage95.reduce(0, +) / 20, r.average.coverage95, accuracy: 1e-12)
        XCTAssertEqual(plan.overlap, 0)
    }
}
