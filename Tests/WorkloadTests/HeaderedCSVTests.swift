import XCTest
@testable import Workload

final class HeaderedCSVTests: XCTestCase {
    func testColumnsByNameInAnyOrderWithOptionalOnes() throws {
        let text = TextBuffer(string: "b,a,label\n2,-1,x\n\n4,0.5,y\n", path: "t.csv")
        let rows = try HeaderedCSV.read(text, columns: [.init("a", .number), .init("b"), .init("label", .text), .init("c", optional: true)])
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(rows[0].numbers[0], -1)
        XCTAssertEqual(rows[1].numbers[1], 4)
        XCTAssertEqual(rows.map { $0.texts[2] }, ["x", "y"])
        XCTAssertNil(rows[0].numbers[3])
    }

    func testErrorsNameFileLineAndColumn() {
        let missing = TextBuffer(string: "a\n1\n", path: "t.csv")
        XCTAssertThrowsError(try HeaderedCSV.read(missing, columns: [.init("a"), .init("b")])) {
            XCTAssertEqual("\($0)", "t.csv:1: header: expected the columns a,b; no 'b'")
        }
        let negative = TextBuffer(string: "a\n1\n-2\n", path: "t.csv")
        XCTAssertThrowsError(try HeaderedCSV.read(negative, columns: [.init("a")])) {
            XCTAssertEqual("\($0)", "t.csv:3: column 'a': expected a non-negative number, got '-2'")
        }
        let short = TextBuffer(string: "a,b\n1\n", path: "t.csv")
        XCTAssertThrowsError(try HeaderedCSV.read(short, columns: [.init("a"), .init("b", .number)])) {
            XCTAssertEqual("\($0)", "t.csv:2: column 'b': missing (the row has 1 fields)")
        }
        let nan = TextBuffer(string: "a\nnan\n", path: "t.csv")
        XCTAssertThrowsError(try HeaderedCSV.read(nan, columns: [.init("a", .number)]))
    }
}
