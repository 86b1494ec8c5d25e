import XCTest
@testable import Workload

final class FeatureTests: XCTestCase {
    func trace(_ arrivals: [Double], prompt: [Int32], output: [Int32]) -> Trace {
        var t = Trace()
        t.arrivals = arrivals.map { Int64(($0 * 1e9).rounded()) }
        t.promptTokens = prompt
        t.outputTokens = output
        return t
    }

    func testWindowsByHand() throws {
        // Arrivals at 0.1, 0.5, 2.2, 2.9 s → 1 s windows: [0,1): 2 requests, [1,2): 0, [2,3): 2.
        let t = trace([0, 0.4, 2.1, 2.8].map { $0 }, prompt: [10, 20, 30, 40], output: [1, 2, 3, 4])
        let f = try FeatureTable(trace: t, frequency: 1, rollingWindow: 2)
        XCTAssertEqual(f.rows.map(\.requests), [2, 0, 2])
        XCTAssertEqual(f.rows.map(\.promptTokens), [30, 0, 70])
        XCTAssertEqual(f.rows.map(\.outputTokens), [3, 0, 7])
        XCTAssertEqual(f.rows[2].meanPrompt, 35)
        let roll = f.rolling()
        // Rolling over 2 rows: [2], [2,0], [0,2] → means 2, 1, 1; stds 0, 1, 1.
        XCTAssertEqual(roll.map(\.mean), [2, 1, 1])
        XCTAssertEqual(roll.map(\.std), [0, 1, 1])
        XCTAssertTrue(f.csv().hasPrefix("window_start_s,requests,prompt_tokens,output_tokens"))
    }

    func testIncrementalMatchesBatchAtAnyFrequency() throws {
        let t = try SyntheticWorkload(count: 3000, arrivals: .gamma(rate: 20, shape: 0.3), prompt: .fixed(7), output: .fixed(3), seed: 2).generate()
        for freq in [0.1, 1, 60] {
            var inc = IncrementalFeatures(frequency: freq)
            var rows: [FeatureRow] = []
            for i in 0..<t.count { inc.add(arrival: t.arrivals[i], prompt: t.promptTokens[i], output: t.outputTokens[i]) { rows.append($0) } }
            inc.flush { rows.append($0) }
            XCTAssertEqual(rows, try FeatureTable(trace: t, frequency: freq).rows)
            XCTAssertEqual(rows.reduce(0) { $0 + $1.requests }, 3000)
        }
    }

    func testDurations() throws {
        XCTAssertEqual(try parseDuration("100ms", what: "f"), 0.1, accuracy: 1e-12)
        XCTAssertEqual(try parseDuration("1s", what: "f"), 1)
        XCTAssertEqual(try parseDuration("1m", what: "f"), 60)
        XCTAssertEqual(try parseDuration("2min", what: "f"), 120)
        XCTAssertEqual(try parseDuration("0.5", what: "f"), 0.5)
        XCTAssertThrowsError(try parseDuration("fast", what: "--freq")) { XCTAssertTrue("\($0)".contains("--freq")) }
        XCTAssertThrowsError(try parseDuration("0s", what: "--freq"))
    }

    func testBurstEpisodesByHand() {
        // 1 request per second for 100 s, plus 20 extra in second 50: mean rate 120/100 = 1.2,
        // threshold max(3 × 1.2, 3) = 3.6 → one episode. Bins start at the first arrival (0.5 s),
        // so the burst falls in the bin [49.5, 50.5) with 21 requests.
        var times = (0..<100).map { Double($0) + 0.5 }
        times += (0..<20).map { 50.0 + Double($0) * 0.01 }
        times.sort()
        let t = trace(times, prompt: Array(repeating: 1, count: times.count), output: Array(repeating: 1, count: times.count))
        let r = PatternAnalysis.analyse(t, window: 10)
        XCTAssertEqual(r.episodes.count, 1)
        XCTAssertEqual(r.episodes.first?.start, 49.5)
        XCTAssertEqual(r.episodes.first?.end, 50.5)
        XCTAssertEqual(r.episodes.first?.requests, 21)
        XCTAssertEqual(r.windows.count, 10)
        // The window holding the burst: 30 requests in 10 s, CV far above 2 → burst; others steady (CV 0).
        XCTAssertEqual(r.windows[5].pattern, .burst)
        XCTAssertEqual(r.windows[2].pattern, .steady)
    }

    func testSummaryOfATinyTrace() {
        // Gaps 1, 1, 2 s: mean 4/3, population std √(2/9) → CV = 0.3536; rate = 3 gaps / 4 s.
        let t = trace([0, 1, 2, 4], prompt: [1, 2, 3, 4], output: [4, 3, 2, 1])
        var r = LoadReport()
        r.format = .llmservingsimTSV
        let s = TraceSummary(trace: t, report: r)
        XCTAssertEqual(s.meanRate, 0.75)
        XCTAssertEqual(s.interarrivalCV, (2.0 / 9).squareRoot() / (4.0 / 3), accuracy: 1e-12)
        // p99 of [1,2,3,4]: rank 0.99 × 3 = 2.97 → 3 + 0.97 × 1 = 3.97.
        XCTAssertEqual(s.inputTokens.p99, 3.97, accuracy: 1e-12)
        XCTAssertEqual(s.inputTokens.p50, 2.5)
    }
}

final class SHA256Tests: XCTestCase {
    /// FIPS 180-4 example vectors.
    func testKnownVectors() {
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
