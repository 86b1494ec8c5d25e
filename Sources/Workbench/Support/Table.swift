import Foundation

/// Plain-text tables for the terminal: numeric columns right-aligned, text left-aligned.
public struct TextTable {
    public var header: [String]
    public var rows: [[String]] = []

    public init(_ header: [String]) { self.header = header }

    public mutating func add(_ row: [String]) { rows.append(row) }

    public func render() -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        let numeric = widths.indices.map { i in
            i > 0 && rows.allSatisfy { i >= $0.count || Double($0[i].trimmingCharacters(in: ["%"])) != nil || $0[i] == "-" || $0[i].isEmpty }
        }
        func line(_ cells: [String]) -> String {
            let text = cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: max(0, widths[i] - c.count))
                return numeric[i] ? pad + c : c + pad
            }.joined(separator: "  ")
            return String(text.reversed().drop(while: { $0 == " " }).reversed())
        }
        var out = line(header) + "\n"
        out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for r in rows { out += line(r) + "\n" }
        return out
    }
}

/// Fixed-precision number formatting for human output.
public func fixed(_ v: Double, _ digits: Int = 2) -> String {
    guard v.isFinite else { return "-" }
    var p = 1.0
    for _ in 0..<digits { p *= 10 }
    let r = (v * p).rounded() / p
    var s = "\(abs(r) < 1e15 && digits == 0 ? "\(Int64(r))" : "\(r)")"
    if digits > 0 {
        if s.contains("e") { return s }
        if !s.contains(".") { s += "." }
        let decimals = s.split(separator: ".", omittingEmptySubsequences: false).last!.count
        s += String(repeating: "0", count: max(0, digits - decimals))
    }
    return s
}

/// A latency for people, in the unit that keeps it short: ms below 10 s, then s, min and h
/// (an overloaded run's hours read "2.8 h", not "9941243.8 ms").
public func duration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "-" }
    let a = abs(seconds)
    if a < 10 { return fixed(seconds * 1000, 1) + " ms" }
    if a < 600 { return fixed(seconds, 2) + " s" }
    if a < 36_000 { return fixed(seconds / 60, 1) + " min" }
    return fixed(seconds / 3600, 1) + " h"
}
