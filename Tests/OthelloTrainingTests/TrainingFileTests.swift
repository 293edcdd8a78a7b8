import Foundation
import OthelloTraining
import WorkbenchSupport
import XCTest

/// Training logs and checkpoints from elsewhere: read as written, or refused with a one-line error naming the file
/// (inputs found while fuzzing the readers, scripts/fuzz).
final class TrainingFileTests: XCTestCase {
    /// Windows line ends ("\r\n" is one Character in Swift) end lines too; found by the fuzz target's seeds.
    func testLogWithWindowsLineEnds() throws {
        let line = #"{"elapsed":1.5,"games":128,"games_per_second":85.3,"legal_top1":0.25,"loss":4.1,"lr":1e-05,"step":1}"#
        let entries = try TrainingLog.read(data: Data((line + "\r\n" + line.replacingOccurrences(of: "\"step\":1", with: "\"step\":2") + "\r\n").utf8), source: "crlf.jsonl")
        XCTAssertEqual(entries.map(\.step), [1, 2])
    }
}
