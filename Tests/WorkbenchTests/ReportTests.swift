import CZlib
import Foundation
import XCTest
@testable import Charts
@testable import Workbench
import Forecasting
import ServeAPI
import Workload

/// The pixels of a PNG: enough of the format for what rsvg-convert writes (8-bit RGB or RGBA,
/// not interlaced), so tests can look at a rendered chart.
struct PNGImage {
    var width = 0, height = 0
    var rgba: [UInt8] = []

    init(_ data: Data) throws {
        let bytes = [UInt8](data)
        guard bytes.count > 8, bytes[1] == 0x50, bytes[2] == 0x4E, bytes[3] == 0x47 else { throw UsageError("not a PNG") }
        func be32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
        var i = 8
        var idat: [UInt8] = []
        var channels = 4
        while i + 8 <= bytes.count {
            let length = be32(i)
            let type = String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self)
            let body = Array(bytes[(i + 8)..<(i + 8 + length)])
            if type == "IHDR" {
                width = Int(body[0]) << 24 | Int(body[1]) << 16 | Int(body[2]) << 8 | Int(body[3])
                height = Int(body[4]) << 24 | Int(body[5]) << 16 | Int(body[6]) << 8 | Int(body[7])
                guard body[8] == 8, body[12] == 0, body[9] == 6 || body[9] == 2 else { throw UsageError("unsupported PNG layout") }
                channels = body[9] == 6 ? 4 : 3
            } else if type == "IDAT" {
                idat += body
            }
            i += 12 + length
        }
        let stride = width * channels
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        var size = uLongf(raw.count)
        let status = raw.withUnsafeMutableBufferPointer { out in idat.withUnsafeBufferPointer { uncompress(out.baseAddress, &size, $0.baseAddress, uLong(idat.count)) } }
        guard status == Z_OK else { throw UsageError("PNG data does not inflate (\(status))") }
        var pixels = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            for x in 0..<stride {
                let v = Int(raw[y * (stride + 1) + 1 + x])
                let a = x >= channels ? Int(pixels[y * stride + x - channels]) : 0
                let b = y > 0 ? Int(pixels[(y - 1) * stride + x]) : 0
                let c = x >= channels && y > 0 ? Int(pixels[(y - 1) * stride + x - channels]) : 0
                let p: Int
                switch filter {
                case 1: p = a
                case 2: p = b
                case 3: p = (a + b) / 2
                case 4:
                    let e = a + b - c, pa = abs(e - a), pb = abs(e - b), pc = abs(e - c)
                    p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: p = 0
                }
                pixels[y * stride + x] = UInt8((v + p) & 0xFF)
            }
        }
        rgba = []
        rgba.reserveCapacity(width * height * 4)
        for k in 0..<(width * height) {
            rgba += pixels[(k * channels)..<(k * channels + 3)]
            rgba.append(channels == 4 ? pixels[k * channels + 3] : 255)
        }
    }

    /// Pixels within `tolerance` of a colour given as #RRGGBB.
    func count(_ hex: String, tolerance: Int = 24) -> Int {
        let v = Int(hex.dropFirst(), radix: 16)!
        let (r, g, b) = (v >> 16 & 0xFF, v >> 8 & 0xFF, v & 0xFF)
        var n = 0
        for k in 0..<(width * height) where rgba[k * 4 + 3] > 200 {
            if abs(Int(rgba[k * 4]) - r) <= tolerance && abs(Int(rgba[k * 4 + 1]) - g) <= tolerance && abs(Int(rgba[k * 4 + 2]) - b) <= tolerance { n += 1 }
        }
        return n
    }
}

final class ReportTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    static var rsvg: String? {
        ["/usr/bin/rsvg-convert", "/usr/local/bin/rsvg-convert"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Renders an SVG document with rsvg-convert and decodes the picture.
    func render(_ svg: String, name: String = "chart") throws -> PNGImage {
        guard let rsvg = ReportTests.rsvg else { throw XCTSkip("rsvg-convert is not installed (make setup installs librsvg2-bin)") }
        let svgURL = dir.appendingPathComponent("\(name).svg"), png = dir.appendingPathComponent("\(name).png")
        try svg.write(to: svgURL, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: rsvg)
        p.arguments = ["-o", png.path, svgURL.path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0, "rsvg-convert refused \(name): \(message)")
        return try PNGImage(try Data(contentsOf: png))
    }

    // MARK: Axes

    func testTicksAreRoundNumbersCoveringTheData() {
        XCTAssertEqual(AxisScale.niceStep(0.37), 0.5)
        XCTAssertEqual(AxisScale.niceStep(1.5), 2)
        XCTAssertEqual(AxisScale.niceStep(7), 10)
        let s = AxisScale(Axis("x"), values: [0.3, 9.2])
        // Steps of 2 (9.2 / 5 ≈ 1.8 → 2), ends rounded out to 0 and 10.
        XCTAssertEqual(s.lo, 0)
        XCTAssertEqual(s.hi, 10)
        XCTAssertEqual(s.ticks(), [0, 2, 4, 6, 8, 10])
        let log = AxisScale(Axis("x", scale: .log), values: [0.02, 150])
        XCTAssertEqual(log.ticks(), [0.1, 1, 10, 100])
        // A constant series still gets a range, and fixed ends are kept.
        let flat = AxisScale(Axis("y"), values: [5, 5])
        XCTAssertLessThan(flat.lo, 5)
        XCTAssertGreaterThan(flat.hi, 5)
        XCTAssertEqual(AxisScale(Axis("y", min: 0, max: 1), values: [3]).hi, 1)
        XCTAssertEqual(tickLabel(1500), "1500")
        XCTAssertEqual(tickLabel(25_000), "25k")
        XCTAssertEqual(tickLabel(0.25), "0.25")
    }

    // MARK: Pictures

    func testLineChartDrawsItsSeriesInItsColourAndNothingWhenEmpty() throws {
        let chart = Chart.xy(XYChart(title: "t", x: Axis("x (s)"), y: Axis("y"), series: [ChartSeries("a", x: [0, 1, 2, 3], y: [0, 3, 1, 2], colour: 0)]))
        let picture = try render(SVGRenderer.render(chart))
        XCTAssertEqual(picture.width, 720)
        XCTAssertEqual(picture.height, 400)
        // The line crosses the plot (three segments over ~630 px, 1.8 px wide) plus the legend swatch.
        XCTAssertGreaterThan(picture.count(Palette.colour(0)), 600)
        XCTAssertEqual(picture.count(Palette.colour(1)), 0)
        let empty = try render(SVGRenderer.render(.xy(XYChart(title: "t", x: Axis("x"), y: Axis("y"), series: [ChartSeries("a", x: [], y: [], colour: 0)]))), name: "empty")
        // Only the legend swatch (22 × 2 px) is drawn in the series colour.
        XCTAssertLessThan(empty.count(Palette.colour(0)), 80)
    }

    func testBarHeightsFollowTheValues() throws {
        // Two bars of −50 and −25 on an axis from −50 to 0: the first is twice as tall.
        let chart = Chart.bars(BarChart(title: "bars", y: Axis("Δ (%)"), categories: ["a", "b"],
                                        groups: [BarChart.Group("g", values: [-50, -25], colour: 2)]))
        let p = try render(SVGRenderer.render(chart))
        var columns: [Int: Int] = [:]
        let v = Int(Palette.colour(2).dropFirst(), radix: 16)!
        for y in 0..<p.height {
            for x in 0..<p.width {
                let k = (y * p.width + x) * 4
                if abs(Int(p.rgba[k]) - (v >> 16 & 0xFF)) < 10 && abs(Int(p.rgba[k + 1]) - (v >> 8 & 0xFF)) < 10 && abs(Int(p.rgba[k + 2]) - (v & 0xFF)) < 10 && y < 330 {
                    columns[x, default: 0] += 1
                }
            }
        }
        let left = columns.filter { $0.key < 360 }.values.max() ?? 0, right = columns.filter { $0.key >= 360 }.values.max() ?? 0
        XCTAssertGreaterThan(left, 100)
        XCTAssertEqual(Double(left) / Double(right), 2, accuracy: 0.05)
    }

    func testTextIsEscapedAndHugeValuesDoNotTrap() throws {
        let chart = Chart.xy(XYChart(title: "<b> & \"q\"", x: Axis("x", min: 0, max: 1), y: Axis("y"),
                                     series: [ChartSeries("s<1>", x: [0, 1e300, .nan, 0.5], y: [1, 2, .infinity, 1e-300], colour: 0)]))
        let svg = SVGRenderer.render(chart)
        XCTAssertTrue(svg.contains("&lt;b&gt; &amp; &quot;q&quot;"))
        XCTAssertFalse(svg.contains("<b>"))
        _ = try render(svg)
        let text = TerminalRenderer.render(chart)
        XCTAssertTrue(text.hasPrefix("<b> & \"q\""))
    }

    // MARK: Figures from runs

    func testRequestsCSVIsReadInSecondsWithLLMServingSimsOutputColumn() throws {
        // Request 0: arrives at 0, first token at 1 s, three output tokens (output = input + 3),
        // done at 3 s, so TPOT = (3 − 1) / 2 = 1 s. Request 1: one output token, so no TPOT.
        let csv = dir.appendingPathComponent("requests.csv")
        try """
        request id,model,input,output,arrival,end_time,latency,queuing_delay,TTFT,TPOT,instance,preemptions,itl_mean,itl_max
        0,m,10,13,0,3000000000,3000000000,0,1000000000,1000000000,0,0,1000000000,1500000000
        1,m,5,6,500000000,1000000000,500000000,0,500000000,500000000,0,0,,
        """.write(to: csv, atomically: true, encoding: .utf8)
        let r = try ReportRun.load(csv.path)
        XCTAssertEqual(r.label, "requests")
        XCTAssertEqual(r.arrival, [0, 0.5])
        XCTAssertEqual(r.e2e, [3, 0.5])
        XCTAssertEqual(r.ttft, [1, 0.5])
        XCTAssertEqual(r.tpot, [1, nil])
        XCTAssertEqual(r.itlMax, [1.5, nil])
        XCTAssertEqual(r.outputTokens, [3, 1])
        // A row ending before it arrives names the file and line.
        try "arrival,end_time,TTFT,input,output\n5,4,1,1,2\n".write(to: csv, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ReportRun.load(csv.path)) { XCTAssertTrue("\($0)".contains("requests.csv") && "\($0)".contains("2"), "\($0)") }
    }

    func testCDFPointsAndPairedComparisonByHand() throws {
        let (x, y) = Figures.cdfPoints([1, 2, 3, 4])
        XCTAssertEqual(x, [1, 2, 3, 4])
        XCTAssertEqual(y, [0.25, 0.5, 0.75, 1])
        let (bx, by) = Figures.cdfPoints((1...10_000).map(Double.init))
        XCTAssertEqual(bx.count, 500)
        XCTAssertEqual(bx.last, 10_000)
        XCTAssertEqual(by.last, 1)
        XCTAssertEqual(by.first, 1.0 / 10_000)

        // The same four requests, the candidate's TTFT 1 s shorter and E2E 1 s longer on every
        // request: TTFT −1 / mean 2 s = −50%, E2E +1 / mean 4 s = +25%; constant differences, so
        // every bootstrap resample gives the same mean and the intervals have zero width.
        let base = try makeRun("a", ttft: [1, 2, 3, 2], e2e: [3, 4, 5, 4])
        let cand = try makeRun("b", ttft: [0, 1, 2, 1], e2e: [4, 5, 6, 5])
        guard case .bars(let bars)? = Figures.comparison([base, cand], resamples: 200) else { return XCTFail("no comparison") }
        XCTAssertEqual(bars.categories, ["TTFT", "TPOT", "E2E"])
        XCTAssertEqual(bars.groups[0].values[0], -50, accuracy: 1e-9)
        XCTAssertEqual(bars.groups[0].values[2], 25, accuracy: 1e-9)
        XCTAssertEqual(bars.groups[0].low![0], -50, accuracy: 1e-9)
        XCTAssertEqual(bars.groups[0].high![2], 25, accuracy: 1e-9)
        // Different workloads cannot be paired.
        let other = try makeRun("c", ttft: [1, 1, 1], e2e: [2, 2, 2])
        XCTAssertNil(Figures.comparison([base, other]))
    }

    /// A run folder written by hand: arrivals 0, 1, 2, …; output 3 tokens each; TPOT from TTFT and E2E.
    func makeRun(_ label: String, ttft: [Double], e2e: [Double]) throws -> ReportRun {
        let folder = dir.appendingPathComponent("\(UUID().uuidString.prefix(6))-\(label)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var csv = "arrival,end_time,TTFT,input,output,itl_mean\n"
        for (i, (t, e)) in zip(ttft, e2e).enumerated() {
            let a = Double(i) * 1e9
            csv += "\(Int(a)),\(Int(a + e * 1e9)),\(Int(t * 1e9)),8,11,\(Int((e - t) / 2 * 1e9))\n"
        }
        try csv.write(to: folder.appendingPathComponent("requests.csv"), atomically: true, encoding: .utf8)
        return try ReportRun.load(folder.path, label: label)
    }

    func testForecastIntervalsOfCountsStayAtOrAboveZero() throws {
        let f = Forecast(mean: [-1, 2], lower: [80: [-3, 1]], upper: [80: [-0.5, 3]]).floored(at: 0)
        XCTAssertEqual(f.mean, [0, 2])
        XCTAssertEqual(f.lower[80], [0, 1])
        XCTAssertEqual(f.upper[80], [0, 3])
        // A sparse count series: mostly zeros, so a symmetric conformal band would cross zero.
        var values = Array(repeating: 0.0, count: 200)
        for k in stride(from: 0, to: 200, by: 7) { values[k] = 3 }
        let chart = try Figures.forecast(Forecasting.Series(values: values, step: 1), model: "ses", horizon: 10, season: 7, what: "requests")
        guard case .xy(let c) = chart else { return XCTFail() }
        XCTAssertEqual(c.bands.count, 2)
        for b in c.bands { XCTAssertTrue(b.lower.allSatisfy { $0 >= 0 }, "\(b.name): \(b.lower)") }
        XCTAssertEqual(c.series[0].name, "actual")
        XCTAssertEqual(c.rules.count, 1)
        XCTAssertThrowsError(try Figures.forecast(Forecasting.Series(values: [1, 2, 3], step: 1), model: "ses", horizon: 5, season: 1, what: "requests"))
    }

    // MARK: End to end, as a user runs it

    func testCompareSaveThenReportAndEveryPlotKindRender() throws {
        let cmp = dir.appendingPathComponent("cmp").path
        let sample = CLITests.root.appendingPathComponent("dataset/bursty-500.burstgpt.csv").path
        var (code, out, err) = try runSmartserve(["compare", "--schedulers", "vllm,sarathi,sjf", "--dataset", sample, "--num-gpu-blocks", "400", "--save", cmp])
        XCTAssertEqual(code, 0, err)
        XCTAssertTrue(out.hasPrefix("workload \(sample): 500 requests"), out)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cmp).sorted(), ["1-vllm", "2-sarathi", "3-sjf"])
        // A second comparison into the same folder would mix runs: refused before simulating.
        (code, _, err) = try runSmartserve(["compare", "--schedulers", "vllm", "--save", cmp])
        XCTAssertEqual(code, 2, err)
        XCTAssertTrue(err.contains("not empty"), err)

        let sweep = dir.appendingPathComponent("sweep.json").path
        (code, out, err) = try runSmartserve(["sweep", "--schedulers", "vllm,sarathi", "--rates", "2,8", "--dataset", sample, "--json"])
        XCTAssertEqual(code, 0, err)
        XCTAssertTrue(err.contains("workload"), "the setup line goes to standard error with --json")
        try out.write(toFile: sweep, atomically: true, encoding: .utf8)

        let html = dir.appendingPathComponent("report.html").path
        (code, out, err) = try runSmartserve(["report", cmp, sweep, "--forecast", sample, "--horizon", "10", "--out", html, "--title", "Three schedulers"])
        XCTAssertEqual(code, 0, err)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertTrue(page.contains("<title>Three schedulers</title>"))
        XCTAssertFalse(page.contains("<script"), "the page runs no scripts")
        XCTAssertFalse(page.contains("http://") && page.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http://"), "the page fetches nothing")
        // Runs: 4 CDFs, 2 by arrival, 3 time-series panels (+ preemptions: 400 blocks make this
        // bursty trace preempt), 1 comparison; sweep 3; forecast 1.
        let svgs = page.components(separatedBy: "<svg ").dropFirst().map { "<svg " + $0.components(separatedBy: "</svg>")[0] + "</svg>" }
        XCTAssertEqual(svgs.count, 15, out)
        XCTAssertEqual(out, "wrote \(html): 15 charts, 3 runs\n")
        for (k, svg) in svgs.enumerated() {
            let p = try render(svg, name: "page\(k)")
            // Every chart draws data in the first run's colour (the comparison's first bar is
            // sarathi's, in the second colour).
            let title = svg.components(separatedBy: "font-weight=\"bold\" fill=\"#111\">")[1].components(separatedBy: "<")[0]
            let drawn = p.count(Palette.colour(0)) + p.count(Palette.colour(1)) + p.count(Palette.colour(6))
            XCTAssertGreaterThan(drawn, 200, "chart \(k) '\(title)' looks empty")
        }
        XCTAssertTrue(page.contains(">vllm</th><th>sarathi</th><th>sjf</th>"), "summary table heads the runs in order")

        for (kind, extra) in [("cdf", ["--metric", "e2e"]), ("latency", []), ("timeseries", ["--panel", "kv"]), ("compare", []),
                              ("sweep", [sweep, "--panel", "ttft"]), ("forecast", ["--forecast", sample, "--horizon", "10"])] {
            let svg = dir.appendingPathComponent("\(kind).svg").path
            let inputs = kind == "forecast" ? [] : kind == "sweep" ? [] : [cmp]
            (code, out, err) = try runSmartserve(["plot", kind] + inputs + extra + ["--out", svg])
            XCTAssertEqual(code, 0, "\(kind): \(err)")
            let p = try render(try String(contentsOfFile: svg, encoding: .utf8), name: "plot-\(kind)")
            XCTAssertGreaterThan(p.count(Palette.colour(0)) + p.count(Palette.colour(1)) + p.count(Palette.colour(6)), 200, kind)
            // The terminal version of the same chart: title, frame and legend.
            (code, out, err) = try runSmartserve(["plot", kind] + inputs + extra)
            XCTAssertEqual(code, 0, "\(kind): \(err)")
            XCTAssertTrue(out.contains(kind == "compare" ? "█" : "└──"), "\(kind):\n\(out)")
        }
        (code, _, err) = try runSmartserve(["plot", "cdf", cmp, "--width", "100000000"])
        XCTAssertEqual(code, 2)
        XCTAssertTrue(err.contains("--width must be in 10...1000 columns"), err)
        (code, _, err) = try runSmartserve(["plot", "cfd", cmp])
        XCTAssertEqual(code, 2)
        XCTAssertTrue(err.contains("did you mean 'cdf'"), err)
        (code, _, err) = try runSmartserve(["report", dir.appendingPathComponent("nothing").path])
        XCTAssertEqual(code, 2)
        XCTAssertTrue(err.contains("no file or folder"), err)
    }

    func testValidationChartsFromAMeasuredRun() throws {
        let run = CLITests.root.appendingPathComponent("../shared/data/vllm-measured/RTXPRO6000-Llama-3.1-8B").standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: run) else { throw XCTSkip("\(run) is absent: no measured vLLM run to validate against") }
        let v = try Validation.run(directory: run)
        let charts = Figures.validation(v)
        XCTAssertEqual(charts.count, 3 + v.series.count)
        guard case .xy(let ttft) = charts[0] else { return XCTFail() }
        // The measured CDF ends at 1 over exactly the measured requests.
        XCTAssertEqual(ttft.series[0].y.last, 1)
        XCTAssertEqual(v.samples[0].measured.count, v.samples[0].simulated.count)
        let p = try render(SVGRenderer.render(charts[0]), name: "validation")
        XCTAssertGreaterThan(p.count(Palette.colour(6)), 300)
        XCTAssertGreaterThan(p.count(Palette.colour(1)), 200)
        // A counter by name through the CLI, and a clear error for one the run lacks.
        var (code, out, err) = try runSmartserve(["plot", "validation", "--validate", run, "--panel", "running", "--width", "60", "--height", "8"])
        XCTAssertEqual(code, 0, err)
        XCTAssertTrue(out.hasPrefix("running: measured vs simulated"), out)
        (code, _, err) = try runSmartserve(["plot", "validation", "--validate", run, "--panel", "nope"])
        XCTAssertEqual(code, 2)
        XCTAssertTrue(err.contains("--panel expects one of"), err)
    }

    func testShellPlotsAndReportsTheSessionsRuns() throws {
        var lines: [String] = []
        let shell = ShellRunner(session: Session(), interactive: false, showProgress: false) { lines.append($0) }
        shell.sessionsRoot = dir.appendingPathComponent("sessions")
        let sample = CLITests.root.appendingPathComponent("dataset/sharegpt-like-100.tsv").path
        let html = dir.appendingPathComponent("s.html").path
        for line in ["load \(sample)", "run a", "scheduler sarathi", "run b", "plot cdf --width 50 --height 8", "plot compare 1 2", "report \(html)"] {
            try shell.execute(line)
        }
        XCTAssertTrue(lines.contains { $0.hasPrefix("TTFT: distribution over requests") && $0.contains("* a") && $0.contains("+ b") }, lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.contains("TTFT  b") }, lines.joined(separator: "\n"))
        // 4 CDFs, 2 by arrival time, 3 engine panels, the comparison, and a preemption panel
        // when either run preempted.
        let preempted = shell.session.runs.contains { $0.summary.preemptions > 0 }
        XCTAssertEqual(lines.last, "wrote \(html): \(preempted ? 11 : 10) charts, 2 runs")
        XCTAssertThrowsError(try shell.execute("plot compare 1")) { XCTAssertTrue("\($0)".contains("two or more runs"), "\($0)") }
        // Plots and reports change nothing: not in the transcript.
        XCTAssertFalse(shell.session.transcript.contains { $0.hasPrefix("plot") || $0.hasPrefix("report") })
    }

    func testShellJSONHelpWidthAndForecastChart() throws {
        var lines: [String] = []
        let shell = ShellRunner(session: Session(), interactive: false, showProgress: false) { lines.append($0) }
        shell.sessionsRoot = dir.appendingPathComponent("sessions")
        let sample = CLITests.root.appendingPathComponent("dataset/bursty-500.burstgpt.csv").path
        for line in ["load \(sample)", "run a", "scheduler sarathi", "run b", "show 1 --json", "compare 1 2 --json", "dataset patterns --json"] {
            try shell.execute(line)
        }
        let outputs = lines.suffix(3).map { try? JSON.parse(Data($0.utf8)) }
        XCTAssertEqual(outputs[0]?["scheduler"]?.stringValue, "vllm")
        XCTAssertEqual(outputs[0]?["requests"]?.doubleValue, 500)
        // The same workload twice: paired, with the baseline and a CI per metric.
        XCTAssertEqual(outputs[1]?["baseline"]?.stringValue, "1 a")
        XCTAssertNotNil(outputs[1]?["results"]?["2 b"]?["diff_vs_baseline"]?["ttft_mean"]?["ci95"])
        XCTAssertNotNil(outputs[2], lines.last ?? "")
        XCTAssertTrue(shell.session.transcript.contains("compare 1 2 --json") == false, "a comparison of kept runs changes nothing")

        // help: names, then descriptions broken between words within the width.
        setenv("COLUMNS", "80", 1)
        defer { unsetenv("COLUMNS") }
        lines = []
        try shell.execute("help")
        let help = lines.joined(separator: "\n").split(separator: "\n")
        XCTAssertTrue(help.allSatisfy { $0.count <= 80 }, help.filter { $0.count > 80 }.joined(separator: "\n"))
        XCTAssertTrue(help.contains { $0.hasPrefix("report ") })
        let described = help.map { $0.split(separator: " ").map(String.init) }.joined()
        for word in ShellRunner.command(named: "plot")!.summary.split(separator: " ") { XCTAssertTrue(described.contains(String(word)), "\(word) was split") }

        // forecast: a legend, a time axis, bands never below zero for counts.
        lines = []
        try shell.execute("forecast holt --horizon 10")
        let chart = lines.joined(separator: "\n")
        XCTAssertTrue(chart.contains("forecast (mean)") && chart.contains("95% interval") && chart.contains("time (s)"), chart)
        XCTAssertThrowsError(try shell.execute("forecast holt-winters --freq 10s --horizon 3 --season 60")) {
            XCTAssertTrue("\($0)".contains("a finer --freq such as 1s"), "\($0)")
        }
    }

    func testEvalNamesTheBestOfAllAndItsMarginOverTheBaselines() throws {
        // A straight ramp: a trend model forecasts it almost exactly, the naive lags by one slope
        // per step, so the best is a model and the margin over the best baseline is large.
        let ramp = Forecasting.Series(values: (0..<300).map { 5 + 0.5 * Double($0) }, step: 1)
        let r = try ForecastReport.evaluate(ramp, models: ["naive", "moving-average", "holt"], horizon: 3, season: 10)
        XCTAssertEqual(r.best?.name, "holt")
        XCTAssertEqual(r.bestBaseline?.name, "naive")
        XCTAssertTrue(r.verdict?.hasPrefix("best: holt") == true && r.verdict?.contains("below the best baseline (naive") == true, r.verdict ?? "")
        XCTAssertTrue(r.text().contains("time (s)  best"), r.text())
        // On a noisy series the margin comes with its standard error and test, as computed from
        // the per-origin MASE the evaluation kept.
        var values: [Double] = []
        for k in 0..<400 {
            let wobble = Double((k * 7919) % 13)
            values.append(20 + wobble + 0.02 * Double(k))
        }
        let n = try ForecastReport.evaluate(Forecasting.Series(values: values, step: 1), models: ["naive", "moving-average", "ses"], horizon: 3, season: 10)
        let best = try XCTUnwrap(n.bestModel)
        let base = try XCTUnwrap(n.bestBaseline)
        let c = try XCTUnwrap(n.plan.compare(best, base))
        let se = try XCTUnwrap(best.maseStandardError(overlap: n.plan.overlap))
        let verdict = n.verdict ?? ""
        XCTAssertTrue(verdict.contains("Diebold–Mariano p = " + fixed(c.pValue, 3)), verdict)
        XCTAssertTrue(verdict.contains("(standard error " + fixed(se, 3) + ")"), verdict)
        let best95 = try XCTUnwrap(n.best)
        let coverageSE = try XCTUnwrap(best95.coverageStandardError(overlap: n.plan.overlap))
        XCTAssertTrue(n.text().contains("95% intervals of \(best95.name): " + fixed(best95.average.coverage95 * 100, 1) + "% coverage, standard error "
                                        + fixed(coverageSE * 100, 1) + " points"), n.text())
        // A constant series: the naive is exact, nothing beats it, and the verdict says so.
        let flat = Forecasting.Series(values: Array(repeating: 4, count: 200), step: 1)
        let f = try ForecastReport.evaluate(flat, models: ["naive", "holt"], horizon: 3, season: 10)
        XCTAssertEqual(f.best?.average.mase ?? 1, 0, accuracy: 1e-9)
    }

    func testHardwareFileWithMissingKeysIsAWarningThatListsThem() throws {
        let hw = dir.appendingPathComponent("hw.json").path
        try #"{"name": "H100", "memory_gb": 40, "tflops": 900}"#.write(toFile: hw, atomically: true, encoding: .utf8)
        let (code, _, err) = try runSmartserve(["run", "--hardware", hw, "--req_num", "5"])
        XCTAssertEqual(code, 0, err)
        XCTAssertTrue(err.contains("leaves 12 of 14 constants to the catalog entry H100"), err)
        XCTAssertTrue(err.contains("memory_bandwidth_gbs") && !err.contains("memory_gb,") && !err.contains(" tflops"), err)
        XCTAssertEqual(err.components(separatedBy: "warning: hardware file").count, 2, "said once")
    }
}
