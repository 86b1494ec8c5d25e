/// A terminal chart of actual values against a forecast with its 95% band: `*` actual, `o`
/// forecast, `:` inside the band, a `|` where the forecast starts.
public enum TerminalChart {
    public static func render(actual: [Double], forecast: [Double], lower: [Double], upper: [Double], height: Int = 16) -> String {
        let all = actual + forecast + lower + upper
        guard let lo0 = all.min(), let hi0 = all.max() else { return "" }
        let lo = lo0, hi = hi0 > lo0 ? hi0 : lo0 + 1
        let width = actual.count + forecast.count
        var grid = Array(repeating: Array(repeating: Character(" "), count: width + 1), count: height)
        func row(_ v: Double) -> Int { height - 1 - Int(((v - lo) / (hi - lo) * Double(height - 1)).rounded()) }
        for (k, _) in forecast.enumerated() {
            let x = actual.count + 1 + k
            for r in row(upper[k])...row(lower[k]) { grid[r][x] = ":" }
        }
        for r in 0..<height { grid[r][actual.count] = "|" }
        for (k, v) in actual.enumerated() { grid[row(v)][k] = "*" }
        for (k, v) in forecast.enumerated() { grid[row(v)][actual.count + 1 + k] = "o" }
        var out = ""
        for (r, line) in grid.enumerated() {
            let label = r == 0 ? fixed(hi, 1) : r == height - 1 ? fixed(lo, 1) : ""
            out += String(repeating: " ", count: max(0, 9 - label.count)) + label + " " + String(line) + "\n"
        }
        return out
    }
}
