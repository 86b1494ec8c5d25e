/// Piecewise-linear lookups over measured samples, shared by the profile bundle's tables.
///
/// The rule everywhere: linear between neighbouring samples, linear extrapolation from the two top
/// samples above the range, and the lowest sample's value below it (a kernel never gets cheaper
/// than the smallest shape measured). On the count axes of a nested grid (prefill chunk, decodes)
/// zero is its own regime: a query of 0 reads the 0 sample, a positive query brackets among the
/// positive samples only, so "no decodes" never blends with "one decode". Context axes are
/// continuous through 0.

/// One axis of samples, sorted by x.
public struct Curve: Sendable, Equatable {
    public let xs: [Double]
    public let ys: [Double]

    /// Samples in any order; repeated x values are averaged.
    public init(_ points: [(x: Double, y: Double)]) {
        var merged: [(Double, Double, Int)] = []
        for p in points.sorted(by: { $0.x < $1.x }) {
            if let last = merged.last, last.0 == p.x {
                merged[merged.count - 1] = (last.0, last.1 + p.y, last.2 + 1)
            } else {
                merged.append((p.x, p.y, 1))
            }
        }
        xs = merged.map(\.0)
        ys = merged.map { $0.1 / Double($0.2) }
    }

    public func at(_ x: Double) -> Double {
        let (i, w) = Bracket.find(xs, x, from: 0)
        guard i + 1 < xs.count, w != 0 else { return ys[i] }
        return ys[i] + (ys[i + 1] - ys[i]) * w
    }
}

enum Bracket {
    /// Index i and weight w such that the value is v[i] + (v[i+1] − v[i]) × w over xs[from...].
    /// Below the first sample w = 0 (clamp); above the last, w > 1 extrapolates the top two.
    @inline(__always)
    static func find(_ xs: [Double], _ x: Double, from lo: Int) -> (Int, Double) {
        let n = xs.count
        guard n - lo > 1, x > xs[lo] else { return (lo, 0) }
        var a = lo, b = n - 1
        if x >= xs[b] { a = n - 2 } else {
            while b - a > 1 {
                let mid = (a + b) / 2
                if xs[mid] <= x { a = mid } else { b = mid }
            }
        }
        return (a, (x - xs[a]) / (xs[a + 1] - xs[a]))
    }
}

/// Scattered samples on a nested grid of any depth: the keys of each axis may differ from one
/// branch to the next (the profiler's attention sweep uses other context values for other chunk
/// sizes), so interpolation walks the tree, two branches per level.
public struct NestedGrid: Sendable {
    public let depth: Int
    /// Per axis: whether 0 is a regime apart (a count) rather than the start of a continuum.
    public let zeroApart: [Bool]
    /// Per node: its keys are keys[start[node] ..< start[node] + count[node]], sorted.
    private var start: [Int32] = []
    private var count: [Int32] = []
    private var keys: [Double] = []
    /// Per key slot: the child node, or at the last level the index into `values`.
    private var child: [Int32] = []
    private var values: [Double] = []

    /// - Parameter rows: coordinates (depth of them) and a value; repeated coordinates are averaged.
    public init(depth: Int, zeroApart: [Bool]? = nil, rows: [([Double], Double)]) {
        precondition((1...4).contains(depth) && !rows.isEmpty, "a nested grid has 1 to 4 axes and at least one sample")
        self.depth = depth
        self.zeroApart = zeroApart ?? Array(repeating: false, count: depth)
        build(rows[...], level: 0)
    }

    /// Builds the node for rows sharing their first `level` coordinates; returns its index.
    @discardableResult
    private mutating func build(_ rows: ArraySlice<([Double], Double)>, level: Int) -> Int32 {
        let all = rows.sorted { $0.0[level] < $1.0[level] }
        var groups: [(Double, ArraySlice<([Double], Double)>)] = []
        var g = 0
        while g < all.count {
            var h = g
            while h < all.count && all[h].0[level] == all[g].0[level] { h += 1 }
            groups.append((all[g].0[level], all[g..<h]))
            g = h
        }
        let node = Int32(start.count)
        start.append(Int32(keys.count))
        count.append(Int32(groups.count))
        let base = keys.count
        for (k, _) in groups { keys.append(k); child.append(-1) }
        for (j, (_, rowsOfKey)) in groups.enumerated() {
            if level == depth - 1 {
                child[base + j] = Int32(values.count)
                values.append(rowsOfKey.reduce(0) { $0 + $1.1 } / Double(rowsOfKey.count))
            } else {
                child[base + j] = build(rowsOfKey, level: level + 1)
            }
        }
        return node
    }

    public var isEmpty: Bool { values.isEmpty }

    /// The interpolated value at a point; coordinates beyond the grid's depth are ignored.
    public func value(_ q0: Double, _ q1: Double, _ q2: Double = 0, _ q3: Double = 0) -> Double {
        var q = (q0, q1, q2, q3)
        return withUnsafePointer(to: &q) {
            $0.withMemoryRebound(to: Double.self, capacity: 4) { value(node: 0, level: 0, q: $0) }
        }
    }

    private func value(node: Int, level: Int, q: UnsafePointer<Double>) -> Double {
        let s = Int(start[node]), n = Int(count[node])
        let x = q[level]
        var lo = s, hi = s + n - 1
        if zeroApart[level] {
            // Choose the regime: the 0 key for a zero query, else the positive keys.
            let hasZero = keys[s] == 0
            if x <= 0 || (hasZero && n == 1) {
                hi = s                                     // 0, or the smallest key when 0 was not sampled
            } else if hasZero {
                lo = s + 1
            }
        }
        func at(_ slot: Int) -> Double {
            level == depth - 1 ? values[Int(child[slot])] : value(node: Int(child[slot]), level: level + 1, q: q)
        }
        guard hi > lo else { return at(lo) }
        var a = lo, b = hi
        let w: Double
        if x <= keys[lo] {
            return at(lo)
        } else if x >= keys[hi] {
            a = hi - 1
            w = (x - keys[a]) / (keys[hi] - keys[a])
        } else {
            while b - a > 1 {
                let mid = (a + b) / 2
                if keys[mid] <= x { a = mid } else { b = mid }
            }
            w = (x - keys[a]) / (keys[a + 1] - keys[a])
        }
        let v0 = at(a)
        if w == 0 { return v0 }
        return v0 + (at(a + 1) - v0) * w
    }
}
