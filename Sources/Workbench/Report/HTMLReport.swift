import Charts
import Foundation
import ServeSim
import Workload

/// One self-contained HTML page: inline CSS and inline SVG charts, no scripts and nothing fetched,
/// so it opens offline, mails as one file and prints.
public struct HTMLReport {
    public struct Section {
        public var heading: String
        public var note: String
        public var table: String
        public var charts: [Chart]
    }

    public var title: String
    public var inputs: [String]
    public var sections: [Section] = []

    public init(title: String, inputs: [String]) {
        self.title = title
        self.inputs = inputs
    }

    public mutating func add(_ heading: String, note: String = "", table: String = "", charts: [Chart]) {
        sections.append(Section(heading: heading, note: note, table: table, charts: charts))
    }

    /// The standard sections for a set of runs: the summary table, the paired comparison, the
    /// latency CDFs, latency by arrival time and the time series.
    public mutating func addRuns(_ runs: [ReportRun], resamples: Int = 1000) {
        guard !runs.isEmpty else { return }
        add("Runs", table: HTMLReport.summaryTable(runs), charts: [])
        if runs.count > 1 {
            if let c = Figures.comparison(runs, resamples: resamples) {
                add("Comparison", note: "Differences of each run's mean from the first run's, with paired bootstrap 95% confidence intervals (\(resamples) resamples; request i is the same request in every run).",
                    charts: [c])
            } else {
                add("Comparison", note: "The runs served different workloads (arrivals or prompts differ), so no paired comparison is drawn.", charts: [])
            }
        }
        add("Latency distributions", charts: Figures.Latency.allCases.map { Figures.cdf(runs, $0) })
        add("Latency by arrival time", charts: [Figures.latencyOverTime(runs, .ttft), Figures.latencyOverTime(runs, .e2e)])
        let series = Figures.timeSeries(runs)
        if !series.isEmpty { add("Engine over time", note: "Per log interval; dashed lines are the second quantity of a panel.", charts: series) }
    }

    /// Per run: request count and latency statistics (from the requests themselves), then the
    /// summary's throughput, SLO and KV figures where the run has a summary.
    static func summaryTable(_ runs: [ReportRun]) -> String {
        var rows: [(String, [String])] = [("requests", runs.map { String($0.arrival.count) })]
        for (name, m) in [("TTFT", Figures.Latency.ttft), ("TPOT", .tpot), ("E2E", .e2e)] {
            let d = runs.map { Distribution(m.values($0)) }
            rows.append(("\(name) mean", d.map { duration($0.mean) }))
            rows.append(("\(name) P99", d.map { duration($0.p99) }))
        }
        let fromSummary: [(String, [String], Double, Int, String)] = [
            ("throughput", ["throughput_rps"], 1, 2, " req/s"), ("goodput", ["goodput_rps"], 1, 2, " req/s"),
            ("SLO attainment", ["slo_attainment"], 100, 1, "%"), ("preemptions", ["preemptions"], 1, 0, ""),
            ("KV use", ["kv", "utilization"], 100, 1, "%"), ("KV fragmentation", ["kv", "fragmentation"], 100, 2, "%"),
            ("GPU-seconds", ["gpu_seconds"], 1, 0, ""),
        ]
        for (name, path, scale, digits, unit) in fromSummary {
            let cells = runs.map { r -> String in
                var j = r.summary
                for key in path { j = j?[key] }
                return j?.doubleValue.map { fixed($0 * scale, digits) + unit } ?? "–"
            }
            if cells.contains(where: { $0 != "–" }) { rows.append((name, cells)) }
        }
        var html = "<table><thead><tr><th></th>" + runs.map { "<th>\(xmlEscaped($0.label))</th>" }.joined() + "</tr></thead><tbody>\n"
        for (name, cells) in rows {
            html += "<tr><th>\(xmlEscaped(name))</th>" + cells.map { "<td>\(xmlEscaped($0))</td>" }.joined() + "</tr>\n"
        }
        return html + "</tbody></table>"
    }

    public func render() -> String {
        var body = "<h1>\(xmlEscaped(title))</h1>\n<p class=\"meta\">smartserve \(Version.string) · "
        body += inputs.map { "<code>\(xmlEscaped($0))</code>" }.joined(separator: ", ") + "</p>\n"
        if sections.count > 2 {
            body += "<nav>" + sections.enumerated().map { "<a href=\"#s\($0.offset)\">\(xmlEscaped($0.element.heading))</a>" }.joined(separator: " · ") + "</nav>\n"
        }
        for (k, s) in sections.enumerated() {
            body += "<section id=\"s\(k)\"><h2>\(xmlEscaped(s.heading))</h2>\n"
            if !s.note.isEmpty { body += "<p>\(xmlEscaped(s.note))</p>\n" }
            if !s.table.isEmpty { body += s.table + "\n" }
            if !s.charts.isEmpty {
                body += "<div class=\"grid\">\n" + s.charts.map { "<figure>\(SVGRenderer.render($0))</figure>" }.joined(separator: "\n") + "\n</div>\n"
            }
            body += "</section>\n"
        }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(xmlEscaped(title))</title>
        <style>
        body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1500px; padding: 0 1em; color: #111; }
        h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; margin-top: 1.6em; }
        .meta { color: #555; } nav { margin: .8em 0; } nav a { color: #0072B2; }
        table { border-collapse: collapse; margin: .6em 0; } th, td { padding: .25em .7em; border-bottom: 1px solid #e3e3e3; text-align: right; }
        thead th { border-bottom: 2px solid #444; } tbody th { text-align: left; font-weight: normal; color: #333; }
        .grid { display: flex; flex-wrap: wrap; gap: 1em; } figure { margin: 0; } svg { max-width: 100%; height: auto; }
        @media print { .grid { display: block; } figure { page-break-inside: avoid; } nav { display: none; } }
        </style></head>
        <body>
        \(body)</body></html>

        """
    }
}
