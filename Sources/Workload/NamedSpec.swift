/// A component named with its options, as written on the command line and in scripts:
/// `name` or `name:key=value,key=value` (e.g. `gamma:rate=10,cv=3`, `sjf:predictor=oracle`).
public struct NamedSpec: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var options: [String: String]
    /// Keys in the order written (for messages and round trips).
    public var order: [String]

    public init(name: String, options: [String: String] = [:]) {
        self.name = name
        self.options = options
        self.order = options.keys.sorted()
    }

    public init(parsing text: String, what: String) throws {
        let trimmed = text.trimmingCharactersInWhitespace()
        let parts = trimmed.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        name = String(parts[0]).lowercased()
        guard !name.isEmpty else { throw UsageError("\(what): expected NAME or NAME:key=value,..., got '\(text)'") }
        options = [:]
        order = []
        if parts.count == 2 {
            for item in parts[1].split(separator: ",") {
                let kv = item.split(separator: "=", maxSplits: 1)
                guard kv.count == 2, !kv[0].isEmpty else {
                    throw UsageError("\(what): expected key=value in '\(text)', got '\(item)'")
                }
                let key = String(kv[0]).trimmingCharactersInWhitespace()
                guard options[key] == nil else { throw UsageError("\(what): option '\(key)' given twice in '\(text)'") }
                options[key] = String(kv[1]).trimmingCharactersInWhitespace()
                order.append(key)
            }
        }
    }

    public var description: String {
        order.isEmpty ? name : name + ":" + order.map { "\($0)=\(options[$0]!)" }.joined(separator: ",")
    }

    /// Reads a numeric option, erroring with the spec and the expectation.
    public func number(_ key: String, default value: Double? = nil, what: String, positive: Bool = false) throws -> Double {
        guard let text = options[key] else {
            if let value { return value }
            throw UsageError("\(what) '\(name)' needs option '\(key)' (e.g. \(name):\(key)=...)")
        }
        guard let v = Double(text), v.isFinite else { throw UsageError("\(what) '\(name)': option '\(key)' expects a number, got '\(text)'") }
        if positive && v <= 0 { throw UsageError("\(what) '\(name)': option '\(key)' must be positive, got '\(text)'") }
        return v
    }

    /// Fails on any option not in `known`.
    public func expectOnly(_ known: [String], what: String) throws {
        for key in order where !known.contains(key) {
            throw UsageError("\(what) '\(name)': unknown option '\(key)' (options: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
        }
    }
}
