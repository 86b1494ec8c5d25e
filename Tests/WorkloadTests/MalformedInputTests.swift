import XCTest
@testable import Workload

/// Bad input gives an error naming the file, line and what was expected; nothing crashes.
final class MalformedInputTests: XCTestCase {
    func error(_ text: String, format: TraceFormat? = nil) -> String {
        var o = LoadOptions()
        o.format = format
        do {
            _ = try TraceLoader.load(TextBuffer(string: text, path: "bad.file"), options: o)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testEmptyAndUnknown() {
        XCTAssertTrue(error("").contains("bad.file: the file is empty"))
        XCTAssertTrue(error("\n\n").contains("empty"))
        let unknown = error("foo,bar\n1,2\n")
        XCTAssertTrue(unknown.contains("bad.file:1"), unknown)
        XCTAssertTrue(unknown.contains("supported formats: llmservingsim-tsv"), unknown)
    }

    func testTSVErrors() {
        let h = "input_toks\toutput_toks\tarrival_time_ns\n"
        XCTAssertEqual(error(h + "1\t2\t3\n4\t5\n"), "bad.file:3: expected 3 fields, found 2 (truncated or malformed row)")
        XCTAssertEqual(error(h + "1\tx\t3\n"), "bad.file:2: output_toks: expected a token count in 0...100000000, got 'x'")
        XCTAssertEqual(error(h + "1\t2\t-3\n"), "bad.file:2: arrival_time_ns: expected a non-negative integer (ns), got '-3'")
        XCTAssertTrue(error("input_toks\tarrival_time_ns\n1\t2\n").contains("missing column 'output_toks'"))
    }

    func testBurstGPTErrors() {
        let h = "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
        XCTAssertEqual(error(h + "abc,ChatGPT,1,2,3,API log\n"), "bad.file:2: Timestamp: expected a non-negative number of seconds below 292 years, got 'abc'")
        XCTAssertTrue(error(h + "5,ChatGPT,1\n").contains("bad.file:2: expected 6 fields, found 3"))
        XCTAssertTrue(error("Timestamp,Session ID,Elapsed time,Model,Request tokens,Response tokens,Total tokens,Log Type\n1,s,2,GPT-4,x,1,1,API log\n")
            .contains("bad.file:2: Request tokens: expected a token count in 0...100000000"))
    }

    func testAzureErrors() {
        let h = "TIMESTAMP,ContextTokens,GeneratedTokens\n"
        XCTAssertTrue(error(h + "2023-13-16 18:17:03.97,1,2\n").contains("bad.file:2: TIMESTAMP: expected a timestamp"))
        XCTAssertTrue(error(h + "yesterday,1,2\n").contains("bad.file:2: TIMESTAMP"))
        XCTAssertTrue(error(h + "2023-11-16 18:17:03.97,1\n").contains("bad.file:2: expected 3 fields"))
    }

    func testVidurErrors() {
        XCTAssertTrue(error("arrived_at,num_prefill_tokens,num_decode_tokens\n0.1,ten,1\n").contains("bad.file:2: num_prefill_tokens"))
        XCTAssertTrue(error("arrived_at,num_prefill_tokens\n0.1,1\n").contains("missing column 'num_decode_tokens' or 'token_size'"))
    }

    func testJSONLinesErrors() {
        XCTAssertEqual(error("{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 1}\n{\"timestamp\": 1, \"input_len"),
                       "bad.file:2: malformed JSON (truncated line?)")
        XCTAssertEqual(error("{\"timestamp\": 0, \"input_length\": 5}\n"),
                       "bad.file:1: key 'output_length': missing (required for format mooncake)")
        XCTAssertEqual(error("{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 1, \"hash_ids\": \"x\"}\n"),
                       "bad.file:1: key 'hash_ids': expected a list of integers")
        XCTAssertEqual(error("{\"input_toks\": 1.5, \"output_toks\": 1, \"arrival_time_ns\": 0}\n"),
                       "bad.file:1: key 'input_toks': expected a whole token count in 0...100000000, got 1.5")
        XCTAssertTrue(error("{\"input_toks\": 1, \"output_toks\": 1, \"queued_ts\": \"soon\"}\n").contains("key 'queued_ts': expected a non-negative number"))
        XCTAssertTrue(error("[1,2]\n", format: .mooncake).contains("bad.file:1: expected a JSON object"))
    }

    func testMissingFileAndBadOptions() {
        XCTAssertThrowsError(try TraceLoader.load("/nonexistent/trace.csv")) { e in
            XCTAssertEqual("\(e)", "/nonexistent/trace.csv: no such file")
        }
        var o = LoadOptions()
        o.rateScale = 0
        XCTAssertThrowsError(try o.validate()) { XCTAssertTrue("\($0)".contains("--rate-scale")) }
        o = LoadOptions()
        o.requestLimit = 0
        XCTAssertThrowsError(try o.validate()) { XCTAssertTrue("\($0)".contains("--req_num")) }
        XCTAssertThrowsError(try TraceFormat(name: "parquet")) { XCTAssertTrue("\($0)".contains("supported: llmservingsim-tsv")) }
    }

    func testFilterThatLeavesNothing() {
        var o = LoadOptions()
        o.model = "claude"
        XCTAssertTrue(error2("Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n1,ChatGPT,1,1,2,API log\n", o)
            .contains("no requests for model 'claude'"))
    }

    func error2(_ text: String, _ o: LoadOptions) -> String {
        do { _ = try TraceLoader.load(TextBuffer(string: text, path: "bad.file"), options: o); return "no error" } catch { return "\(error)" }
    }
}
