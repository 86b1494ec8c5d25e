/// A library with no smartserve entry point.
public func unrelated() -> Int { 42 }
