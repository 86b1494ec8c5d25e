import Foundation
import XCTest
@testable import Workbench

/// Every input that once crashed a fuzz target (or reproduces a crash class from issue 13), run
/// through the same code `make fuzz` drives: the process must still be alive afterwards.
final class FuzzRegressionTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    func testEveryRegressionInputReturns() throws {
        var count = 0
        for target in FuzzTargets.names {
            let dir = FuzzRegressionTests.root.appendingPathComponent("FuzzRegressions/\(target)")
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where !name.hasPrefix(".") {
                FuzzTargets.run(target, try Data(contentsOf: dir.appendingPathComponent(name)))
                count += 1
            }
        }
        XCTAssertGreaterThanOrEqual(count, 12)
    }
}
