import Foundation

/// Draws a chart as a self-contained SVG document (no scripts, no external fonts or styles), so
/// that it can be inlined in an HTML report, opened in a browser or converted by any SVG tool.
public enum SVGRenderer {
    public static func render(_ chart: Chart, width: Int = 720, height: Int = 400) -> String {
        var svg = SVGDocument(width: Double(width), height: Double(height))
        svg.text(chart.title, x: svg.width / 2, y: 22, size: 15, anchor: "middle", weight: "bold")
        switch chart {
        case .xy(let c): drawXY(c, into: &svg)
        case .bars(let c): drawBars(c, into: &svg)
        }
        return svg.document()
    }

    // MARK: Lines, steps, points, bands

    static func drawXY(_ c: XYChart, into svg: inout SVGDocument) {
        let legend = c.series.map { LegendEntry(name: $0.name, colour: $0.colour, dashed: $0.dashed, points: $0.mark == .points) }
            + c.bands.map { LegendEntry(name: $0.name, colour: $0.colour, dashed: false, points: false, band: true) }
        let frame = svg.frame(legend: legend)
        if c.isEmpty {
            svg.text("no data", x: (frame.x0 + frame.x1) / 2, y: (frame.y0 + frame.y1) / 2, size: 13, anchor: "middle", colour: "#666")
            return
        }
        let xs = AxisScale(c.x, values: c.series.flatMap(\.x) + c.bands.flatMap(\.x) + c.rules.map(\.x))
        let ys = AxisScale(c.y, values: c.series.flatMap(\.y) + c.bands.flatMap(\.lower) + c.bands.flatMap(\.upper))
        svg.axes(frame, x: xs, y: ys, xLabel: c.x.label, yLabel: c.y.label)
        func px(_ v: Double) -> Double? { xs.unit(v).map { frame.x0 + $0 * (frame.x1 - frame.x0) } }
        func py(_ v: Double) -> Double? { ys.unit(v).map { frame.y1 - $0 * (frame.y1 - frame.y0) } }
        svg.beginClip(frame)
        for b in c.bands {
            var upper: [(Double, Double)] = [], lower: [(Double, Double)] = []
            for k in b.x.indices {
                guard let x = px(b.x[k]), let lo = py(b.lower[k]), let hi = py(b.upper[k]) else { continue }
                upper.append((x, hi))
                lower.append((x, lo))
            }
            guard !upper.isEmpty else { continue }
            let pts = (upper + lower.reversed()).map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ")
            svg.raw("<polygon points=\"\(pts)\" fill=\"\(Palette.colour(b.colour))\" fill-opacity=\"0.18\" stroke=\"none\"/>")
        }
        for r in c.rules {
            guard let x = px(r.x) else { continue }
            svg.raw("<line x1=\"\(n(x))\" y1=\"\(n(frame.y0))\" x2=\"\(n(x))\" y2=\"\(n(frame.y1))\" stroke=\"#555\" stroke-dasharray=\"3 3\"/>")
        }
        for s in c.series {
            var pts: [(Double, Double)] = []
            for (x, y) in zip(s.x, s.y) { if let a = px(x), let b = py(y) { pts.append((a, b)) } }
            let colour = Palette.colour(s.colour)
            switch s.mark {
            case .points:
                for p in thin(pts, limit: 4000) {
                    svg.raw("<circle cx=\"\(n(p.0))\" cy=\"\(n(p.1))\" r=\"1.8\" fill=\"\(colour)\" fill-opacity=\"0.6\"/>")
                }
            case .line, .step:
                let kept = decimate(pts, across: frame.x1 - frame.x0)
                guard let first = kept.first else { continue }
                var d = "M\(n(first.0)),\(n(first.1))"
                for p in kept.dropFirst() { d += s.mark == .step ? "H\(n(p.0))V\(n(p.1))" : "L\(n(p.0)),\(n(p.1))" }
                let dash = s.dashed ? " stroke-dasharray=\"6 4\"" : ""
                svg.raw("<path d=\"\(d)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.8\"\(dash) stroke-linejoin=\"round\"/>")
            }
        }
        svg.endClip()
        for r in c.rules {
            guard let x = px(r.x) else { continue }
            svg.text(r.label, x: x + 4, y: frame.y0 + 12, size: 11, anchor: "start", colour: "#333")
        }
        svg.legend(legend, below: frame)
    }

    // MARK: Bars

    static func drawBars(_ c: BarChart, into svg: inout SVGDocument) {
        let legend = c.groups.map { LegendEntry(name: $0.name, colour: $0.colour, dashed: false, points: false, band: true) }
        let frame = svg.frame(legend: legend)
        let values = c.groups.flatMap { g in g.values + (g.low ?? []) + (g.high ?? []) }
        guard !c.categories.isEmpty, values.contains(where: \.isFinite) else {
            svg.text("no data", x: (frame.x0 + frame.x1) / 2, y: (frame.y0 + frame.y1) / 2, size: 13, anchor: "middle", colour: "#666")
            return
        }
        var axis = c.y
        axis.fromZero = true
        let ys = AxisScale(axis, values: values)
        func py(_ v: Double) -> Double { frame.y1 - (ys.unit(v) ?? 0) * (frame.y1 - frame.y0) }
        svg.axes(frame, x: nil, y: ys, xLabel: "", yLabel: c.y.label)
        let slot = (frame.x1 - frame.x0) / Double(c.categories.count)
        let barWidth = slot * 0.8 / Double(max(1, c.groups.count))
        let zero = py(0)
        for (k, category) in c.categories.enumerated() {
            let left = frame.x0 + Double(k) * slot + slot * 0.1
            svg.text(category, x: frame.x0 + (Double(k) + 0.5) * slot, y: frame.y1 + 16, size: 11, anchor: "middle")
            for (g, group) in c.groups.enumerated() where k < group.values.count && group.values[k].isFinite {
                let x = left + Double(g) * barWidth
                let y = py(group.values[k])
                svg.raw("<rect x=\"\(n(x + 1))\" y=\"\(n(min(y, zero)))\" width=\"\(n(max(1, barWidth - 2)))\" height=\"\(n(max(0.5, abs(zero - y))))\" fill=\"\(Palette.colour(group.colour))\"/>")
                if let lo = group.low?[k], let hi = group.high?[k], lo.isFinite, hi.isFinite {
                    let mid = x + barWidth / 2
                    svg.raw("<path d=\"M\(n(mid)),\(n(py(lo)))V\(n(py(hi)))M\(n(mid - 4)),\(n(py(lo)))h8M\(n(mid - 4)),\(n(py(hi)))h8\" stroke=\"#222\" stroke-width=\"1.2\" fill=\"none\"/>")
                }
            }
        }
        svg.raw("<line x1=\"\(n(frame.x0))\" y1=\"\(n(zero))\" x2=\"\(n(frame.x1))\" y2=\"\(n(zero))\" stroke=\"#222\"/>")
        svg.legend(legend, below: frame)
    }

    // MARK: Point reduction

    /// Keeps, per pixel column, the first, lowest, highest and last point: a line through a
    /// million points looks the same with a few thousand, peaks included.
    static func decimate(_ pts: [(Double, Double)], across width: Double) -> [(Double, Double)] {
        guard pts.count > Int(width) * 4 else { return pts }
        var out: [(Double, Double)] = []
        var k = 0
        while k < pts.count {
            let column = pts[k].0.rounded(.down)
            var j = k
            var lo = k, hi = k
            while j < pts.count && pts[j].0.rounded(.down) == column {
                if pts[j].1 < pts[lo].1 { lo = j }
                if pts[j].1 > pts[hi].1 { hi = j }
                j += 1
            }
            for i in Set([k, lo, hi, j - 1]).sorted() { out.append(pts[i]) }
            k = j
        }
        return out
    }

    /// Every k-th point, so that a scatter stays a few thousand dots.
    static func thin(_ pts: [(Double, Double)], limit: Int) -> [(Double, Double)] {
        guard pts.count > limit else { return pts }
        let every = (pts.count + limit - 1) / limit
        return stride(from: 0, to: pts.count, by: every).map { pts[$0] }
    }
}

struct LegendEntry {
    var name: String
    var colour: Int
    var dashed: Bool
    var points: Bool
    var band = false
}

/// Plot-area corners, in SVG pixels (y grows downward).
struct Frame {
    var x0: Double, y0: Double, x1: Double, y1: Double
}

/// An SVG document being written: the frame, the axes and the legend all charts share.
struct SVGDocument {
    let width: Double
    let height: Double
    private var body: [String] = []
    private var clips = 0

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// Legend rows the entries need at this width.
    func legendRows(_ entries: [LegendEntry]) -> [[LegendEntry]] {
        var rows: [[LegendEntry]] = [[]]
        var used = 0.0
        for e in entries {
            let w = 34 + Double(e.name.count) * 6.6
            if used + w > width - 80 && !rows[rows.count - 1].isEmpty { rows.append([]); used = 0 }
            rows[rows.count - 1].append(e)
            used += w
        }
        return rows.filter { !$0.isEmpty }
    }

    func frame(legend: [LegendEntry]) -> Frame {
        let rows = legendRows(legend).count
        return Frame(x0: 72, y0: 36, x1: width - 20, y1: height - 48 - Double(rows) * 16)
    }

    mutating func raw(_ s: String) { body.append(s) }

    mutating func text(_ s: String, x: Double, y: Double, size: Double, anchor: String, weight: String = "normal",
                       colour: String = "#111", rotate: Bool = false) {
        let transform = rotate ? " transform=\"rotate(-90 \(n(x)) \(n(y)))\"" : ""
        body.append("<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" text-anchor=\"\(anchor)\" font-weight=\"\(weight)\" fill=\"\(colour)\"\(transform)>\(xmlEscaped(s))</text>")
    }

    mutating func beginClip(_ f: Frame) {
        clips += 1
        body.append("<clipPath id=\"plot\(clips)\"><rect x=\"\(n(f.x0))\" y=\"\(n(f.y0 - 2))\" width=\"\(n(f.x1 - f.x0))\" height=\"\(n(f.y1 - f.y0 + 4))\"/></clipPath><g clip-path=\"url(#plot\(clips))\">")
    }

    mutating func endClip() { body.append("</g>") }

    /// Grid, frame, tick labels and axis titles.
    mutating func axes(_ f: Frame, x: AxisScale?, y: AxisScale, xLabel: String, yLabel: String) {
        for t in y.ticks() {
            guard let u = y.unit(t), u >= -1e-9, u <= 1 + 1e-9 else { continue }
            let py = f.y1 - u * (f.y1 - f.y0)
            raw("<line x1=\"\(n(f.x0))\" y1=\"\(n(py))\" x2=\"\(n(f.x1))\" y2=\"\(n(py))\" stroke=\"#e3e3e3\"/>")
            text(tickLabel(t), x: f.x0 - 6, y: py + 4, size: 11, anchor: "end", colour: "#333")
        }
        if let x {
            for t in x.ticks(7) {
                guard let u = x.unit(t), u >= -1e-9, u <= 1 + 1e-9 else { continue }
                let px = f.x0 + u * (f.x1 - f.x0)
                raw("<line x1=\"\(n(px))\" y1=\"\(n(f.y0))\" x2=\"\(n(px))\" y2=\"\(n(f.y1))\" stroke=\"#eeeeee\"/>")
                text(tickLabel(t), x: px, y: f.y1 + 16, size: 11, anchor: "middle", colour: "#333")
            }
        }
        raw("<rect x=\"\(n(f.x0))\" y=\"\(n(f.y0))\" width=\"\(n(f.x1 - f.x0))\" height=\"\(n(f.y1 - f.y0))\" fill=\"none\" stroke=\"#444\"/>")
        if !xLabel.isEmpty { text(xLabel, x: (f.x0 + f.x1) / 2, y: f.y1 + 34, size: 12, anchor: "middle") }
        text(yLabel, x: 16, y: (f.y0 + f.y1) / 2, size: 12, anchor: "middle", rotate: true)
    }

    mutating func legend(_ entries: [LegendEntry], below f: Frame) {
        var y = f.y1 + 52
        for row in legendRows(entries) {
            var x = f.x0
            for e in row {
                let colour = Palette.colour(e.colour)
                if e.band {
                    raw("<rect x=\"\(n(x))\" y=\"\(n(y - 8))\" width=\"22\" height=\"10\" fill=\"\(colour)\" fill-opacity=\"\(e.points ? 1 : 0.6)\"/>")
                } else if e.points {
                    raw("<circle cx=\"\(n(x + 11))\" cy=\"\(n(y - 3))\" r=\"3\" fill=\"\(colour)\"/>")
                } else {
                    raw("<line x1=\"\(n(x))\" y1=\"\(n(y - 3))\" x2=\"\(n(x + 22))\" y2=\"\(n(y - 3))\" stroke=\"\(colour)\" stroke-width=\"2\"\(e.dashed ? " stroke-dasharray=\"6 4\"" : "")/>")
                }
                text(e.name, x: x + 27, y: y + 1, size: 11, anchor: "start")
                x += 34 + Double(e.name.count) * 6.6
            }
            y += 16
        }
    }

    func document() -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(n(width))" height="\(n(height))" viewBox="0 0 \(n(width)) \(n(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
        <rect width="100%" height="100%" fill="#ffffff"/>
        \(body.joined(separator: "\n"))
        </svg>

        """
    }
}

/// A coordinate with at most one decimal: enough for a screen, a third of the bytes.
func n(_ v: Double) -> String {
    // Clamped: a point far outside a fixed axis is clipped anyway, and Int() of it would trap.
    let r = v.isNaN ? 0 : (Swift.max(-1e6, Swift.min(1e6, v)) * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(r)
}

/// Text safe inside an XML element or attribute.
public func xmlEscaped(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default:
            // Control characters are not allowed in XML 1.0 at all.
            if c.value < 0x20 && c.value != 0x09 && c.value != 0x0a { out += "?" } else { out.unicodeScalars.append(c) }
        }
    }
    return out
}
