/// Small dense linear systems, for the regressions the models fit (normal equations of a few dozen unknowns).
enum LinearSystem {
    /// Solves A·x = b for a k × k matrix A (row-major) by Gaussian elimination with partial
    /// pivoting; nil when A is singular to working precision.
    static func solve(_ a: [Double], _ b: [Double], _ k: Int) -> [Double]? {
        var m = a, v = b
        for c in 0..<k {
            var p = c
            for r in (c + 1)..<k where abs(m[r * k + c]) > abs(m[p * k + c]) { p = r }
            guard abs(m[p * k + c]) > 1e-14 else { return nil }
            if p != c {
                for j in 0..<k { m.swapAt(c * k + j, p * k + j) }
                v.swapAt(c, p)
            }
            for r in (c + 1)..<k {
                let f = m[r * k + c] / m[c * k + c]
                if f == 0 { continue }
                for j in c..<k { m[r * k + j] -= f * m[c * k + j] }
                v[r] -= f * v[c]
            }
        }
        var x = [Double](repeating: 0, count: k)
        for r in stride(from: k - 1, through: 0, by: -1) {
            var s = v[r]
            for j in (r + 1)..<k { s -= m[r * k + j] * x[j] }
            x[r] = s / m[r * k + r]
        }
        return x
    }
}
