import Foundation

/// A JSON value with ordered keys and stable number formatting, so that the same results always
/// print the same bytes (replay compares them). NaN and infinities print as null.
public indirect enum JSON: Equatable, Sendable {
    case object([(String, JSON)])
    case array([JSON])
    case number(Double)
    case integer(Int)
    case string(String)
    case bool(Bool)
    case null

    public static func == (a: JSON, b: JSON) -> Bool { a.render() == b.render() }

    public func render(pretty: Bool = true, indent: String = "") -> String {
        let step = pretty ? "  " : ""
        let nl = pretty ? "\n" : ""
        let colon = pretty ? ": " : ":"
        switch self {
        case .object(let pairs):
            if pairs.isEmpty { return "{}" }
            let inner = indent + step
            return "{" + nl + pairs.map { inner + JSON.quote($0.0) + colon + $0.1.render(pretty: pretty, indent: inner) }
                .joined(separator: "," + nl) + nl + indent + "}"
        case .array(let items):
            if items.isEmpty { return "[]" }
            let inner = indent + step
            return "[" + nl + items.map { inner + $0.render(pretty: pretty, indent: inner) }.joined(separator: "," + nl) + nl + indent + "]"
        case .number(let v):
            return JSON.format(v)
        case .integer(let v):
            return String(v)
        case .string(let s):
            return JSON.quote(s)
        case .bool(let b):
            return b ? "true" : "false"
        case .null:
            return "null"
        }
    }

    /// Shortest round-tripping decimal (Swift's description), integers without a fraction.
    public static func format(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    public subscript(key: String) -> JSON? {
        if case .object(let pairs) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var doubleValue: Double? {
        switch self {
        case .number(let v): return v
        case .integer(let v): return Double(v)
        default: return nil
        }
    }

    /// Parses JSON text (through Foundation's decoder, whose numbers read back the exact bits our
    /// shortest round-trip rendering wrote; its JSONSerialization can be one ulp off). Object keys
    /// are sorted; comparison uses the canonical rendering.
    public static func parse(_ data: Data) throws -> JSON {
        try JSONDecoder().decode(JSON.self, from: data)
    }
}

extension JSON: Decodable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        if let object = try? decoder.container(keyedBy: Key.self) {
            self = .object(try object.allKeys.map(\.stringValue).sorted().map { ($0, try object.decode(JSON.self, forKey: Key(stringValue: $0))) })
            return
        }
        if var array = try? decoder.unkeyedContainer() {
            var items: [JSON] = []
            while !array.isAtEnd { items.append(try array.decode(JSON.self)) }
            self = .array(items)
            return
        }
        let value = try decoder.singleValueContainer()
        if value.decodeNil() { self = .null }
        else if let b = try? value.decode(Bool.self) { self = .bool(b) }
        else if let d = try? value.decode(Double.self) { self = .number(d) }
        else { self = .string(try value.decode(String.self)) }
    }
}
