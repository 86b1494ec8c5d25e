import XCTest
@testable import Workload

/// Every format from small inline fixtures, with values worked out by hand.
final class FormatTests: XCTestCase {
    func load(_ text: String, _ options: LoadOptions = LoadOptions()) throws -> (Trace, LoadReport) {
        try TraceLoader.load(TextBuffer(string: text, path: "fixture"), options: options)
    }

    func testTSV() throws {
        let (t, r) = try load("input_toks\toutput_toks\tarrival_time_ns\n10\t5\t1000\n20\t7\t3000\n")
        XCTAssertEqual(r.format, .llmservingsimTSV)
        XCTAssertEqual(t.arrivals, [0, 2000])
        XCTAssertEqual(t.promptTokens, [10, 20])
        XCTAssertEqual(t.outputTokens, [5, 7])
    }

    func testBurstGPTModelsAndLogTypes() throws {
        let csv = """
        Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type
        5,ChatGPT,472,18,490,Conversation log
        7,GPT-4,100,0,100,API log
        9,GPT-4,50,20,70,API log
        """
        let (t, r) = try load(csv)
        XCTAssertEqual(r.failedDropped, 1)
        XCTAssertEqual(t.arrivals, [0, 4_000_000_000])
        XCTAssertEqual(t.model(of: 1), "GPT-4")
        XCTAssertEqual(t.logType(of: 1), "API log")
        var gpt4 = LoadOptions()
        gpt4.model = "gpt-4"
        let (g, gr) = try load(csv, gpt4)
        XCTAssertEqual(g.count, 1)
        XCTAssertEqual(gr.modelFiltered, 1)
    }

    func testAzureBothTimestampStyles() throws {
        let csv = """
        TIMESTAMP,ContextTokens,GeneratedTokens
        2024-05-10 00:00:00+00:00,100,10
        2024-05-10 00:00:01.5+00:00,200,20
        2024-05-10 00:00:02.2500000,300,30
        """
        let (t, _) = try load(csv)
        XCTAssertEqual(t.arrivals, [0, 1_500_000_000, 2_250_000_000])
    }

    func testAzureDateArithmetic() {
        // 2023-11-16 is 19677 days after 1970-01-01 (python: date(2023,11,16).toordinal() - date(1970,1,1).toordinal()).
        XCTAssertEqual(TextBuffer.daysFromCivil(2023, 11, 16), 19677)
        let (y, m, d) = TextBuffer.civilFromDays(19677)
        XCTAssertEqual([y, m, d], [2023, 11, 16])
        XCTAssertEqual(TextBuffer.daysFromCivil(2000, 3, 1), 11017)
    }

    func testVidurAndSplitwiseColumns() throws {
        let (t, r) = try load("arrived_at,num_prefill_tokens,num_decode_tokens\n0.5,100,10\n1.25,50,5\n")
        XCTAssertEqual(r.format, .vidur)
        XCTAssertEqual(t.arrivals, [0, 750_000_000])
        let (s, _) = try load("request_id,request_type,application_id,arrival_timestamp,batch_size,prompt_size,token_size\n1,0,0,2.0,1,30,3\n")
        XCTAssertEqual(s.promptTokens, [30])
    }

    func testMooncakeAndTokenIdPrefixes() throws {
        let jsonl = """
        {"timestamp": 0, "input_length": 1024, "output_length": 4, "hash_ids": [7, 8]}
        {"timestamp": 250, "input_length": 600, "output_length": 2, "hash_ids": [7, 9]}
        """
        let (t, _) = try load(jsonl)
        XCTAssertEqual(t.arrivals, [0, 250_000_000])
        let p = try XCTUnwrap(t.prefix)
        XCTAssertEqual(Array(p.blocks(of: 0)), [0, 1])
        XCTAssertEqual(Array(p.blocks(of: 1)), [0, 2])
        XCTAssertEqual(p.uniqueCount, 3)

        // 32 shared leading token ids → two shared 16-token blocks; the third block differs.
        let shared = (1...32).map(String.init).joined(separator: ",")
        let a = "{\"input_toks\":48,\"output_toks\":1,\"arrival_time_ns\":0,\"input_tok_ids\":[\(shared),\((100...115).map(String.init).joined(separator: ","))]}"
        let b = "{\"input_toks\":48,\"output_toks\":1,\"arrival_time_ns\":5,\"input_tok_ids\":[\(shared),\((200...215).map(String.init).joined(separator: ","))]}"
        let (j, _) = try load(a + "\n" + b + "\n")
        let q = try XCTUnwrap(j.prefix)
        XCTAssertEqual(q.blockTokens, 16)
        XCTAssertEqual(Array(q.blocks(of: 0).prefix(2)), Array(q.blocks(of: 1).prefix(2)))
        XCTAssertNotEqual(q.blocks(of: 0).last, q.blocks(of: 1).last)
    }

    func testVLLMRequests() throws {
        let (t, r) = try load("{\"request_id\": \"a\", \"input_toks\": 5, \"output_toks\": 3, \"queued_ts\": 100.5}\n{\"request_id\": \"b\", \"input_toks\": 6, \"output_toks\": 2, \"queued_ts\": 101.0}\n")
        XCTAssertEqual(r.format, .vllmMeasured)
        XCTAssertEqual(t.arrivals, [0, 500_000_000])
    }

    func testOutOfOrderRowsAreSortedStablyAndCounted() throws {
        let (t, r) = try load("input_toks\toutput_toks\tarrival_time_ns\n1\t1\t300\n2\t1\t100\n3\t1\t100\n4\t1\t200\n")
        // Rows 2, 3 and 4 (100, 100, 200 ns) each come after a row with a later time (300 ns).
        XCTAssertEqual(r.outOfOrder, 3)
        XCTAssertEqual(t.promptTokens, [2, 3, 4, 1])
        XCTAssertEqual(t.arrivals, [0, 0, 100, 200])
    }

    func testLoadOptions() throws {
        let tsv = "input_toks\toutput_toks\tarrival_time_ns\n" + (0..<10).map { "\(100 * ($0 + 1))\t\(10)\t\($0 * 1_000_000_000)" }.joined(separator: "\n")
        var o = LoadOptions()
        o.requestLimit = 3
        XCTAssertEqual(try load(tsv, o).0.count, 3)
        o = LoadOptions()
        o.windowStart = 2
        o.windowEnd = 5
        let (w, wr) = try load(tsv, o)
        XCTAssertEqual(w.promptTokens, [300, 400, 500])
        XCTAssertEqual(w.arrivals, [0, 1_000_000_000, 2_000_000_000])
        XCTAssertEqual(wr.outsideWindow, 7)
        o = LoadOptions()
        o.rateScale = 2
        XCTAssertEqual(try load(tsv, o).0.arrivals[3], 1_500_000_000)
        o = LoadOptions()
        o.maxContext = 305
        let (c, cr) = try load(tsv, o)
        XCTAssertEqual(cr.contextCapped, 8)
        XCTAssertEqual(c.promptTokens[9], 295)
        XCTAssertEqual(c.outputTokens[9], 10)
        o.contextPolicy = .drop
        let (d, dr) = try load(tsv, o)
        XCTAssertEqual(d.count, 2)
        XCTAssertEqual(dr.contextDropped, 8)
    }

    func testRoundTripThroughEveryWriter() throws {
        var t = Trace()
        t.arrivals = [0, 1_250_000_000, 3_000_000_000]
        t.promptTokens = [10, 20, 30]
        t.outputTokens = [1, 2, 3]
        for format in TraceFormat.allCases {
            let text = TraceWriter.render(t, as: format)
            let (back, report) = try TraceLoader.load(TextBuffer(string: text, path: format.rawValue))
            XCTAssertEqual(report.format, format == .burstGPTv3 ? .burstGPTv3 : format, "\(format)")
            XCTAssertEqual(back.promptTokens, t.promptTokens, "\(format)")
            XCTAssertEqual(back.outputTokens, t.outputTokens, "\(format)")
            // BurstGPT v1 keeps whole seconds only.
            let expected: [Int64] = format == .burstGPT ? [0, 1_000_000_000, 3_000_000_000] : t.arrivals
            XCTAssertEqual(back.arrivals, expected, "\(format)")
        }
    }
}
