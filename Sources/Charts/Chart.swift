/// What a chart shows, independent of how it is drawn: the SVG renderer (reports, `plot --out`)
/// and the terminal renderer (the shell's `plot`) draw the same value.
public enum Chart: Sendable {
    /// Lines, steps, points and bands over two numeric axes.
    case xy(XYChart)
    /// Bars per category, one bar per group, with optional error whiskers.
    case bars(BarChart)

    public var title: String {
        switch self {
        case .xy(let c): return c.title
        case .bars(let c): return c.title
        }
    }
}

/// A numeric axis: its label carries the unit ("TTFT (ms)").
public struct Axis: Sendable {
    public enum Scale: Sendable { case linear, log }
    public var label: String
    public var scale: Scale
    /// Fixed ends; nil fits the data (the lower end of a linear axis includes 0 when `fromZero`).
    public var min: Double?
    public var max: Double?
    public var fromZero: Bool

    public init(_ label: String, scale: Scale = .linear, min: Double? = nil, max: Double? = nil, fromZero: Bool = false) {
        self.label = label
        self.scale = scale
        self.min = min
        self.max = max
        self.fromZero = fromZero
    }
}

/// One named series on an `XYChart`.
public struct ChartSeries: Sendable {
    public enum Mark: Sendable {
        /// Straight segments between consecutive points.
        case line
        /// Horizontal then vertical segments (empirical CDFs, per-interval counts).
        case step
        /// Unconnected dots.
        case points
    }
    public var name: String
    public var x: [Double]
    public var y: [Double]
    public var mark: Mark
    /// Dashed (a second series of the same run, such as a P99 beside a mean).
    public var dashed: Bool
    /// Index into the palette; series sharing a colour belong together (a run's mean and P99).
    public var colour: Int

    public init(_ name: String, x: [Double], y: [Double], mark: Mark = .line, dashed: Bool = false, colour: Int) {
        self.name = name
        self.x = x
        self.y = y
        self.mark = mark
        self.dashed = dashed
        self.colour = colour
    }
}

/// A shaded region between two curves over the same x values (a forecast's interval).
public struct Band: Sendable {
    public var name: String
    public var x: [Double]
    public var lower: [Double]
    public var upper: [Double]
    public var colour: Int

    public init(_ name: String, x: [Double], lower: [Double], upper: [Double], colour: Int) {
        self.name = name
        self.x = x
        self.lower = lower
        self.upper = upper
        self.colour = colour
    }
}

public struct XYChart: Sendable {
    public var title: String
    public var x: Axis
    public var y: Axis
    public var series: [ChartSeries]
    public var bands: [Band]
    /// Labelled vertical rules (where a forecast starts).
    public var rules: [(x: Double, label: String)]

    public init(title: String, x: Axis, y: Axis, series: [ChartSeries], bands: [Band] = [], rules: [(x: Double, label: String)] = []) {
        self.title = title
        self.x = x
        self.y = y
        self.series = series
        self.bands = bands
        self.rules = rules
    }

    /// True when no series or band holds a finite point: renderers say so instead of drawing axes.
    public var isEmpty: Bool {
        !series.contains { s in zip(s.x, s.y).contains { $0.isFinite && $1.isFinite } } && bands.allSatisfy { $0.x.isEmpty }
    }
}

public struct BarChart: Sendable {
    /// One coloured bar in every category, with optional whiskers (a confidence interval).
    public struct Group: Sendable {
        public var name: String
        public var values: [Double]
        public var low: [Double]?
        public var high: [Double]?
        public var colour: Int

        public init(_ name: String, values: [Double], low: [Double]? = nil, high: [Double]? = nil, colour: Int) {
            self.name = name
            self.values = values
            self.low = low
            self.high = high
            self.colour = colour
        }
    }
    public var title: String
    public var y: Axis
    public var categories: [String]
    public var groups: [Group]

    public init(title: String, y: Axis, categories: [String], groups: [Group]) {
        self.title = title
        self.y = y
        self.categories = categories
        self.groups = groups
    }
}

/// Colours that stay distinct for colour-blind readers (Okabe and Ito) and dark enough for print;
/// renderers add dash patterns and markers so that series also differ in grey.
public enum Palette {
    public static let colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#7F5F00"]
    public static func colour(_ k: Int) -> String { colours[((k % colours.count) + colours.count) % colours.count] }
}
