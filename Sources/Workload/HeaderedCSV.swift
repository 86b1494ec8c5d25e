/// A comma-separated file with a header row whose columns are found by name, in any order.
/// Every value is checked as it is read, and every error names the file, line and column.
public enum HeaderedCSV {
    public enum Kind: Sendable {
        /// Kept as text.
        case text
        /// A finite number.
        case number
        /// A finite number ≥ 0.
        case nonNegative
    }

    public struct Column: Sendable {
        public var name: String
        public var kind: Kind
        /// A column the header may lack: its cells read as nil.
        public var optional: Bool
        /// Empty cells read as nil instead of failing (a metric undefined for that row).
        public var blank: Bool
        public init(_ name: String, _ kind: Kind = .nonNegative, optional: Bool = false, blank: Bool = false) {
            self.name = name
            self.kind = kind
            self.optional = optional
            self.blank = blank
        }
    }

    /// One row: per requested column, its number (nil for text columns and absent optional ones)
    /// and its text (empty unless the column is text).
    public struct Row: Sendable {
        public var numbers: [Double?]
        public var texts: [String]
        public func number(_ k: Int) -> Double { numbers[k] ?? 0 }
    }

    public static func read(_ path: String, columns: [Column]) throws -> [Row] {
        try read(try TextBuffer(path: path), columns: columns)
    }

    public static func read(_ text: TextBuffer, columns: [Column]) throws -> [Row] {
        let path = text.path
        var index: [Int?] = []
        var rows: [Row] = []
        var fields: [Range<Int>] = []
        try text.forEachLine { line, r in
            if r.isEmpty { return true }
            text.fields(r, separator: 44, into: &fields)
            if index.isEmpty {
                let names = fields.map { text.string($0).trimmingCharacters(in: .whitespaces) }
                for c in columns {
                    let k = names.firstIndex(of: c.name)
                    if k == nil && !c.optional {
                        throw WorkloadError(file: path, line: line, field: "header",
                                            "expected the columns \(columns.filter { !$0.optional }.map(\.name).joined(separator: ",")); no '\(c.name)'")
                    }
                    index.append(k)
                }
                return true
            }
            var row = Row(numbers: [], texts: [])
            for (c, k) in zip(columns, index) {
                guard let k else { row.numbers.append(nil); row.texts.append(""); continue }
                guard k < fields.count else {
                    throw WorkloadError(file: path, line: line, field: "column '\(c.name)'", "missing (the row has \(fields.count) fields)")
                }
                if c.kind == .text {
                    row.numbers.append(nil)
                    row.texts.append(text.string(fields[k]))
                    continue
                }
                if c.blank && fields[k].isEmpty {
                    row.numbers.append(nil)
                    row.texts.append("")
                    continue
                }
                guard let v = text.number(fields[k]), v.isFinite, c.kind == .number || v >= 0 else {
                    let what = c.kind == .number ? "a number" : "a non-negative number"
                    throw WorkloadError(file: path, line: line, field: "column '\(c.name)'", "expected \(what), got '\(text.string(fields[k]))'")
                }
                row.numbers.append(v)
                row.texts.append("")
            }
            rows.append(row)
            return true
        }
        return rows
    }
}
