import XCTest
@testable import Workload

final class SyntheticTests: XCTestCase {
    func workload(_ arrivals: ArrivalProcess, count: Int = 20000, seed: UInt64 = 1) -> SyntheticWorkload {
        SyntheticWorkload(count: count, arrivals: arrivals, prompt: .fixed(10), output: .fixed(5), seed: seed)
    }

    func testSameSeedIsBitIdenticalAndSeedsDiffer() throws {
        let spec = SyntheticWorkload(count: 500, arrivals: .gamma(rate: 5, shape: 0.3),
                                     prompt: .logNormal(median: 200, sigma: 1, min: 1, max: 4096),
                                     output: .zipf(s: 1.1, min: 1, max: 2048), seed: 9)
        let a = try spec.generate(), b = try spec.generate()
        XCTAssertEqual(a, b)
        XCTAssertEqual(TraceWriter.render(a, as: .burstGPT), TraceWriter.render(b, as: .burstGPT))
        var other = spec
        other.seed = 10
        XCTAssertNotEqual(try other.generate().arrivals, a.arrivals)
        // Changing a length distribution leaves arrivals untouched (independent streams).
        var lengths = spec
        lengths.output = .fixed(3)
        XCTAssertEqual(try lengths.generate().arrivals, a.arrivals)
    }

    /// Sample moments against the distributions' formulas; tolerances are several standard errors.
    func testPoissonRateAndCV() throws {
        let t = try workload(.poisson(rate: 10)).generate()
        let rate = Double(t.count - 1) / t.spanSeconds
        XCTAssertEqual(rate, 10, accuracy: 0.3)          // se ≈ 10/√20000 ≈ 0.07
        XCTAssertEqual(Stats.interarrivalCV(t.arrivals), 1, accuracy: 0.03)
        XCTAssertEqual(PatternRule().classify(t.arrivals[...]), .steady)
    }

    func testGammaCV() throws {
        let t = try workload(.gamma(rate: 4, shape: 0.25)).generate()   // CV = 1/√0.25 = 2... use shape for CV 2
        XCTAssertEqual(Double(t.count - 1) / t.spanSeconds, 4, accuracy: 0.25)
        XCTAssertEqual(Stats.interarrivalCV(t.arrivals), 2, accuracy: 0.12)
        XCTAssertEqual(try ArrivalProcess(NamedSpec(parsing: "gamma:rate=4,cv=2", what: "t"), replaySource: nil), .gamma(rate: 4, shape: 0.25))
    }

    func testOnOffIsBursty() throws {
        let t = try workload(.onOff(onRate: 50, offRate: 0.5, onSeconds: 5, offSeconds: 30), count: 5000).generate()
        XCTAssertEqual(PatternRule().classify(t.arrivals[...]), .burst)
        XCTAssertFalse(PatternAnalysis.analyse(t).episodes.isEmpty)
    }

    func testSinusoidalRateFollowsTheCurve() throws {
        // rate(t) = 10 (1 + 0.8 sin(2πt/100)): expected counts in [0,50) ≈ 10·50 + 10·0.8·100/π ≈ 755,
        // in [50,100) ≈ 500 − 255 = 245.
        let t = try workload(.sinusoidal(rate: 10, amplitude: 0.8, period: 100, phase: 0), count: 20000).generate()
        // Rebased to the first arrival, which comes within a fraction of a second of t = 0.
        let first = t.arrivals.filter { $0 < 50_000_000_000 }.count
        let second = t.arrivals.filter { $0 >= 50_000_000_000 && $0 < 100_000_000_000 }.count
        XCTAssertEqual(Double(first), 755, accuracy: 90)
        XCTAssertEqual(Double(second), 245, accuracy: 60)
    }

    func testLengthDistributions() throws {
        var rng = SeededRandom(seed: 3)
        let u = LengthDistribution.uniform(min: 10, max: 20).sampler()
        let us = (0..<10000).map { _ in u.draw(&rng) }
        XCTAssertEqual(us.min(), 10)
        XCTAssertEqual(us.max(), 20)
        XCTAssertEqual(Stats.mean(us), 15, accuracy: 0.15)
        // Zipf s=1 on 1...2: P(1) = 1 / (1 + 1/2) = 2/3.
        let z = LengthDistribution.zipf(s: 1, min: 1, max: 2).sampler()
        let ones = (0..<30000).filter { _ in z.draw(&rng) == 1 }.count
        XCTAssertEqual(Double(ones) / 30000, 2.0 / 3, accuracy: 0.015)
        // Log-normal: the median of draws is the median parameter.
        let l = LengthDistribution.logNormal(median: 300, sigma: 0.8, min: 1, max: 1_000_000).sampler()
        let ls = (0..<20001).map { _ in Double(l.draw(&rng)) }.sorted()
        XCTAssertEqual(ls[10000], 300, accuracy: 12)
        // mean=M form: median = M / exp(σ²/2).
        let spec = try LengthDistribution(NamedSpec(parsing: "lognormal:mean=100,sigma=1", what: "t"), source: nil)
        guard case .logNormal(let median, _, _, _) = spec else { return XCTFail() }
        XCTAssertEqual(median, 100 / exp(0.5), accuracy: 1e-9)
    }

    func testResampleAndReplay() throws {
        var source = Trace()
        source.arrivals = [0, 1_000_000_000, 3_000_000_000]
        source.promptTokens = [1, 2, 3]
        source.outputTokens = [10, 20, 30]
        let paired = try SyntheticWorkload(count: 200, arrivals: .replay(source.arrivals), prompt: .fixed(1), output: .fixed(1),
                                           pairedSource: source, seed: 5).generate()
        for i in 0..<paired.count { XCTAssertEqual(paired.outputTokens[i], paired.promptTokens[i] * 10) }
        // Replay repeats the source's span plus one mean gap (1.5 s) after its end.
        XCTAssertEqual(Array(paired.arrivals.prefix(5)), [0, 1_000_000_000, 3_000_000_000, 4_500_000_000, 5_500_000_000])
    }

    func testBadSpecs() {
        XCTAssertThrowsError(try ArrivalProcess(NamedSpec(parsing: "poisson", what: "--arrivals"), replaySource: nil)) {
            XCTAssertEqual("\($0)", "arrival process 'poisson' needs option 'rate' (e.g. poisson:rate=...)")
        }
        XCTAssertThrowsError(try ArrivalProcess(NamedSpec(parsing: "poisson:rate=-1", what: "--arrivals"), replaySource: nil))
        XCTAssertThrowsError(try ArrivalProcess(NamedSpec(parsing: "weibull:rate=1", what: "--arrivals"), replaySource: nil)) {
            XCTAssertTrue("\($0)".contains("known: poisson, gamma"))
        }
        XCTAssertThrowsError(try LengthDistribution(NamedSpec(parsing: "uniform:min=5,max=2", what: "t"), source: nil))
        XCTAssertThrowsError(try LengthDistribution(NamedSpec(parsing: "resample", what: "t"), source: nil))
        XCTAssertThrowsError(try NamedSpec(parsing: "zipf:s", what: "--prompt-len"))
        XCTAssertThrowsError(try LengthDistribution(NamedSpec(parsing: "fixed:n=3,m=4", what: "t"), source: nil)) {
            XCTAssertTrue("\($0)".contains("unknown option 'm'"))
        }
    }

    /// The shipped samples regenerate bit-identically from the commands in dataset/README.md.
    func testShippedSampleRegenerates() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shipped = try String(contentsOf: root.appendingPathComponent("dataset/sharegpt-like-100.tsv"), encoding: .utf8)
        let again = try SyntheticWorkload(count: 100, arrivals: .poisson(rate: 10),
                                          prompt: .logNormal(median: 180, sigma: 1, min: 1, max: 2048),
                                          output: .logNormal(median: 150, sigma: 0.9, min: 1, max: 1024), seed: 42).generate()
        XCTAssertEqual(TraceWriter.render(again, as: .llmservingsimTSV), shipped)
        let bursty = try String(contentsOf: root.appendingPathComponent("dataset/bursty-500.burstgpt.csv"), encoding: .utf8)
        let b = try SyntheticWorkload(count: 500, arrivals: .onOff(onRate: 20, offRate: 0.5, onSeconds: 5, offSeconds: 40),
                                      prompt: .zipf(s: 1.2, min: 16, max: 4096),
                                      output: .logNormal(median: 120, sigma: 1, min: 1, max: 2048), seed: 7).generate()
        XCTAssertEqual(TraceWriter.render(b, as: .burstGPT), bursty)
    }
}
