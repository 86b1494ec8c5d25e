import Foundation

/// Draws a chart with characters for a quick look in a terminal: braille dots (2 × 4 per cell)
/// for lines, `░` for bands, `│` for rules, a labelled frame and a legend. With `colour` each
/// series gets its ANSI colour; without it, several series are told apart by their own marker
/// character instead of braille.
public enum TerminalRenderer {
    static let markers: [Character] = ["*", "+", "o", "x", "#", "%", "@", "="]
    static let ansi = [34, 31, 32, 35, 33, 36, 30, 33]

    public static func render(_ chart: Chart, width: Int = 72, height: Int = 16, colour: Bool = false) -> String {
        switch chart {
        // Bounded: the drawing holds a grid of width × height cells.
        case .xy(let c): return renderXY(c, width: min(1000, max(24, width)), height: min(500, max(6, height)), colour: colour)
        case .bars(let c): return renderBars(c, width: min(1000, max(40, width)), colour: colour)
        }
    }

    static func paint(_ s: String, _ colourIndex: Int, _ on: Bool) -> String {
        on ? "\u{1B}[\(ansi[((colourIndex % ansi.count) + ansi.count) % ansi.count])m\(s)\u{1B}[0m" : s
    }

    static func renderXY(_ c: XYChart, width: Int, height: Int, colour: Bool) -> String {
        var out = c.title + "\n"
        if c.isEmpty { return out + "  (no data)\n" }
        let labelWidth = 9
        let cols = width - labelWidth - 1
        let xs = AxisScale(c.x, values: c.series.flatMap(\.x) + c.bands.flatMap(\.x) + c.rules.map(\.x))
        let ys = AxisScale(c.y, values: c.series.flatMap(\.y) + c.bands.flatMap(\.lower) + c.bands.flatMap(\.upper))
        let dotsX = cols * 2, dotsY = height * 4
        // Positions far off a fixed axis are clamped just outside it: drawn segments stay short.
        func dx(_ v: Double) -> Int? { xs.unit(v).map { Int((max(-1, min(2, $0)) * Double(dotsX - 1)).rounded()) } }
        func dy(_ v: Double) -> Int? { ys.unit(v).map { dotsY - 1 - Int((max(-1, min(2, $0)) * Double(dotsY - 1)).rounded()) } }
        // Braille dots cannot tell series apart by themselves: without colour, or where series
        // share a colour (a run's running and waiting), each series gets its own marker.
        let distinct = Set(c.series.map(\.colour)).count
        let useMarkers = c.series.count > 1 && (!colour || distinct < c.series.count)
        // Per cell: braille dot bits, the series that drew last, and the background.
        var bits = Array(repeating: Array(repeating: UInt8(0), count: cols), count: height)
        var owner = Array(repeating: Array(repeating: -1, count: cols), count: height)
        var back = Array(repeating: Array(repeating: Character(" "), count: cols), count: height)
        let shades: [Character] = ["░", "▒", "▓"]
        for (j, b) in c.bands.enumerated() {
            for k in b.x.indices {
                guard let x = dx(b.x[k]), let top = dy(b.upper[k]), let bottom = dy(b.lower[k]) else { continue }
                let col = x / 2
                guard col >= 0 && col < cols else { continue }
                for r in max(0, min(top, bottom) / 4)...min(height - 1, max(top, bottom) / 4) { back[r][col] = shades[min(j, 2)] }
            }
        }
        for r in c.rules {
            guard let x = dx(r.x) else { continue }
            let col = x / 2
            if col >= 0 && col < cols { for row in 0..<height { back[row][col] = "│" } }
        }
        func plot(_ x: Int, _ y: Int, _ s: Int) {
            guard x >= 0, y >= 0, x < dotsX, y < dotsY else { return }
            let (col, row) = (x / 2, y / 4)
            // Braille dot numbering: columns of 1,2,3,7 and 4,5,6,8.
            let bit: [[UInt8]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]
            bits[row][col] |= bit[x % 2][y % 4]
            owner[row][col] = s
        }
        for (s, series) in c.series.enumerated() {
            var prev: (Int, Int)?
            for (xv, yv) in zip(series.x, series.y) {
                guard let x = dx(xv), let y = dy(yv) else { prev = nil; continue }
                if series.mark != .points, let p = prev {
                    if series.mark == .step {
                        line(p.0, p.1, x, p.1) { plot($0, $1, s) }
                        line(x, p.1, x, y) { plot($0, $1, s) }
                    } else {
                        line(p.0, p.1, x, y) { plot($0, $1, s) }
                    }
                } else {
                    plot(x, y, s)
                }
                prev = (x, y)
            }
        }
        let yTicks = [ys.hi, (ys.lo + ys.hi) / 2, ys.lo].map { ys.log ? pow10($0) : $0 }
        for row in 0..<height {
            let label = row == 0 ? tickLabel(yTicks[0]) : row == height / 2 ? tickLabel(yTicks[1]) : row == height - 1 ? tickLabel(yTicks[2]) : ""
            var line = String(repeating: " ", count: max(0, labelWidth - label.count)) + label + "┤"
            for col in 0..<cols {
                let s = owner[row][col]
                if s < 0 { line.append(back[row][col]); continue }
                let ch = useMarkers ? String(markers[s % markers.count]) : String(Character(Unicode.Scalar(0x2800 + UInt32(bits[row][col]))!))
                line += paint(ch, c.series[s].colour, colour)
            }
            out += line + "\n"
        }
        out += String(repeating: " ", count: labelWidth) + "└" + String(repeating: "─", count: cols) + "\n"
        let xl = [xs.lo, (xs.lo + xs.hi) / 2, xs.hi].map { tickLabel(xs.log ? pow10($0) : $0) }
        var axis = Array(repeating: Character(" "), count: labelWidth + 1 + cols)
        for (k, label) in xl.enumerated() {
            let centre = labelWidth + 1 + [0, cols / 2, cols - 1][k]
            let start = max(0, min(axis.count - label.count, centre - label.count / 2))
            for (j, ch) in label.enumerated() { axis[start + j] = ch }
        }
        out += String(axis) + "\n"
        out += String(repeating: " ", count: labelWidth + 1) + c.x.label + "   (y: \(c.y.label))\n"
        var legend: [String] = []
        var seen = Set<String>()
        for (k, s) in c.series.enumerated() where seen.insert(s.name).inserted {
            let mark = useMarkers ? String(markers[k % markers.count]) : "⣿"
            legend.append(paint(mark, s.colour, colour) + " " + s.name)
        }
        for (j, b) in c.bands.enumerated() { legend.append("\(shades[min(j, 2)]) " + b.name) }
        for r in c.rules { legend.append("│ " + r.label) }
        out += String(repeating: " ", count: labelWidth + 1) + legend.joined(separator: "   ") + "\n"
        return out
    }

    static func renderBars(_ c: BarChart, width: Int, colour: Bool) -> String {
        var out = c.title + "   (\(c.y.label))\n"
        let values = c.groups.flatMap { $0.values + ($0.low ?? []) + ($0.high ?? []) }.filter(\.isFinite)
        guard !values.isEmpty else { return out + "  (no data)\n" }
        let lo = min(0, values.min()!), hi = max(0, values.max()!)
        let nameWidth = min(28, (c.categories + c.groups.map(\.name)).map(\.count).max() ?? 8)
        let barCols = max(10, width - 2 * nameWidth - 30)
        let zero = hi > lo ? Int((-lo / (hi - lo) * Double(barCols)).rounded()) : 0
        func col(_ v: Double) -> Int { hi > lo ? Int(((v - lo) / (hi - lo) * Double(barCols)).rounded()) : 0 }
        for (k, category) in c.categories.enumerated() {
            for (g, group) in c.groups.enumerated() where k < group.values.count {
                let v = group.values[k]
                let head = (g == 0 ? pad(category, nameWidth) : String(repeating: " ", count: nameWidth)) + "  " + pad(group.name, nameWidth) + " "
                var bar = Array(repeating: Character(" "), count: barCols + 1)
                if v.isFinite {
                    let end = col(v)
                    for j in min(zero, end)..<max(zero, end) { bar[j] = "█" }
                }
                bar[zero] = "│"
                var tail = v.isFinite ? " " + tickLabel(v) : " -"
                if let l = group.low?[k], let h = group.high?[k], l.isFinite, h.isFinite { tail += " [\(tickLabel(l)), \(tickLabel(h))]" }
                out += head + paint(String(bar), group.colour, colour) + tail + "\n"
            }
        }
        return out
    }

    static func pad(_ s: String, _ w: Int) -> String {
        s.count >= w ? String(s.prefix(w)) : s + String(repeating: " ", count: w - s.count)
    }

    static func pow10(_ v: Double) -> Double { exp(v * 2.302585092994046) }

    /// Bresenham's line between two dot positions.
    static func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ dot: (Int, Int) -> Void) {
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        var guardSteps = dx - dy + 2
        while guardSteps > 0 {
            dot(x, y)
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
            guardSteps -= 1
        }
    }
}
