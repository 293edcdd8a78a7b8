import Foundation

/// Text formatting shared by the commands: grouped digits, right alignment.
enum RulesOutput {
    /// `1234567` as `1,234,567`.
    static func grouped<T: BinaryInteger>(_ value: T) -> String {
        let digits = String(value)
        var groups: [Substring] = []
        var end = digits.endIndex
        while end > digits.startIndex {
            let start = digits.index(end, offsetBy: -3, limitedBy: digits.startIndex) ?? digits.startIndex
            groups.insert(digits[start..<end], at: 0)
            end = start
        }
        return groups.joined(separator: ",")
    }

    /// `text` right-aligned in `width` characters.
    static func padded(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
