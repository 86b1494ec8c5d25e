import XCTest
@testable import Workload

/// Real traces from ../shared/data. Expected figures were computed independently with Python's
/// csv/json/statistics modules (population std for CV, variance/mean of per-bin counts for IoD).
final class SharedTraceTests: XCTestCase {
    func testAzureCode() throws {
        let (t, r) = try TraceLoader.load(SharedData.path("azure2023/AzureLLMInferenceTrace_code.csv"))
        XCTAssertEqual(r.format, .azure)
        XCTAssertEqual(t.count, 8819)
        XCTAssertEqual(t.spanSeconds, 3435.948, accuracy: 0.001)
        XCTAssertEqual(Stats.interarrivalCV(t.arrivals), 13.15, accuracy: 0.01)
        XCTAssertEqual(Stats.mean(t.promptTokens), 2047.848, accuracy: 0.001)
        XCTAssertEqual(Stats.indexOfDispersion(t.arrivals[...], width: 1), 13.18, accuracy: 0.01)
        XCTAssertEqual(Stats.indexOfDispersion(t.arrivals[...], width: 60), 160.54, accuracy: 0.01)
        XCTAssertEqual(PatternRule().classify(t.arrivals[...]), .burst)
        // First row: 2023-11-16 18:17:03.9799600,4808,10; second 0.052 s later.
        XCTAssertEqual(t.promptTokens[0], 4808)
        XCTAssertEqual(t.outputTokens[0], 10)
        XCTAssertEqual(t.arrivals[1], 52_000_000)
    }

    func testAzureConversationIsSteady() throws {
        let (t, _) = try TraceLoader.load(SharedData.path("azure2023/AzureLLMInferenceTrace_conv.csv"))
        XCTAssertEqual(t.count, 19366)
        XCTAssertEqual(Stats.interarrivalCV(t.arrivals), 1.094, accuracy: 0.001)
        XCTAssertEqual(Stats.mean(t.promptTokens), 1154.697, accuracy: 0.001)
        XCTAssertEqual(PatternRule().classify(t.arrivals[...]), .steady)
    }

    func testBurstGPTv1DropsFailedRows() throws {
        let path = try SharedData.path("burstgpt/BurstGPT_1_first400.csv")
        let (t, r) = try TraceLoader.load(path)
        XCTAssertEqual(r.format, .burstGPT)
        XCTAssertEqual(r.failedDropped, 17)
        XCTAssertEqual(t.count, 383)
        XCTAssertEqual(Set(t.labels.models), ["ChatGPT", "GPT-4"])
        XCTAssertEqual(PatternRule().classify(t.arrivals[...]), .sparse)
        var keep = LoadOptions()
        keep.keepFailed = true
        let (all, r2) = try TraceLoader.load(path, options: keep)
        XCTAssertEqual(all.count, 400)
        XCTAssertEqual(r2.failedKept, 17)
        XCTAssertEqual(all.failed?.filter { $0 }.count, 17)
    }

    func testBurstGPTv3ReadsColumnsByName() throws {
        let (t, r) = try TraceLoader.load(SharedData.path("burstgpt/BurstGPT_3_slice400.csv"))
        XCTAssertEqual(r.format, .burstGPTv3)
        XCTAssertEqual(r.failedDropped, 1)
        XCTAssertEqual(t.count, 399)
        // First row: 19440110.0, GPT-4, 906 request tokens, 446 response tokens.
        XCTAssertEqual(t.promptTokens[0], 906)
        XCTAssertEqual(t.outputTokens[0], 446)
        XCTAssertEqual(t.model(of: 0), "GPT-4")
        XCTAssertNotNil(t.sessionIndex)
        XCTAssertEqual(PatternRule().classify(t.arrivals[...]), .sparse)
    }

    func testMooncakePrefixes() throws {
        let (t, r) = try TraceLoader.load(SharedData.path("mooncake/synthetic_trace.jsonl"))
        XCTAssertEqual(r.format, .mooncake)
        XCTAssertEqual(t.count, 3993)
        XCTAssertEqual(t.spanSeconds, 1022.025, accuracy: 1e-9)
        XCTAssertEqual(Stats.mean(t.promptTokens), 15325.477, accuracy: 0.001)
        let p = try XCTUnwrap(t.prefix)
        XCTAssertEqual(p.blockTokens, 512)
        // First line: 40160 input tokens and hash ids 0...78 (79 blocks).
        XCTAssertEqual(p.blocks(of: 0).count, 79)
    }

    func testLLMServingSimSamples() throws {
        let (t, r) = try TraceLoader.load(SharedData.path("llmservingsim/share-gpt-req100-rate10.tsv"))
        XCTAssertEqual(r.format, .llmservingsimTSV)
        XCTAssertEqual(t.count, 100)
        XCTAssertEqual(Stats.mean(t.promptTokens), 22.41, accuracy: 1e-9)
        XCTAssertEqual(Stats.mean(t.outputTokens), 68.06, accuracy: 1e-9)
        // Arrivals are rebased to the first (46926808 ns in the file).
        XCTAssertEqual(t.arrivals[1], 347_938_952 - 46_926_808)
        XCTAssertEqual(PatternRule().classify(t.arrivals[...]), .steady)

        let (j, rj) = try TraceLoader.load(SharedData.path("llmservingsim/example_trace.jsonl"))
        XCTAssertEqual(rj.format, .llmservingsimJSONL)
        XCTAssertEqual(j.count, 10)
        XCTAssertNotNil(j.prefix)
    }

    func testVLLMMeasurementAnchorsOnQueuedTime() throws {
        let (t, r) = try TraceLoader.load(SharedData.path("vllm-measured/RTXPRO6000-Llama-3.1-8B/requests.jsonl"))
        XCTAssertEqual(r.format, .vllmMeasured)
        XCTAssertEqual(t.count, 300)
        XCTAssertEqual(Stats.mean(t.promptTokens), 857.4633, accuracy: 1e-4)
        // bench-1 queued 479748.625554681 − 479748.340626232 = 0.284928449 s after bench-0.
        XCTAssertEqual(Double(t.arrivals[1]) / 1e9, 0.284928449, accuracy: 1e-6)
    }
}
