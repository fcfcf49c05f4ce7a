import Testing
@testable import Tokenization

/// The scanner's letter / number / whitespace / other classes agree with the library's regex engine
/// on every code point (char_classes.json, probed through the library by make_cases.py).
@Suite struct CharClassTests {
    @Test func everyCodePointMatchesLibrary() throws {
        let runs = try #require(try Fixtures.json("gpt2/char_classes.json") as? [[Any]])
        var mismatches = [String]()
        var mismatchRanges = [(ClosedRange<Int>, CharClass)]()  // to paste into an override table
        var covered = 0
        for run in runs {
            let (first, last, name) = (run[0] as! Int, run[1] as! Int, run[2] as! String)
            let expected: CharClass = ["L": .letter, "N": .number, "S": .whitespace, "O": .other][name]!
            for value in first...last where !(0xD800...0xDFFF).contains(value) {
                covered += 1
                let actual = CharClass.of(UInt32(value))
                guard actual != expected else { continue }
                if mismatches.count < 20 {
                    mismatches.append("U+\(String(value, radix: 16, uppercase: true)) \(actual) expected \(expected)")
                }
                if let last = mismatchRanges.last, last.0.upperBound == value - 1, last.1 == expected {
                    mismatchRanges[mismatchRanges.count - 1].0 = last.0.lowerBound...value
                } else {
                    mismatchRanges.append((value...value, expected))
                }
            }
        }
        #expect(covered == 0x110000 - 0x800)
        #expect(mismatches.isEmpty, "\(mismatchRanges.count) ranges differ: \(mismatches)")
        if !mismatchRanges.isEmpty {
            print(mismatchRanges.map { "(0x\(String($0.0.lowerBound, radix: 16)), 0x\(String($0.0.upperBound, radix: 16)), .\($0.1))," }
                .joined(separator: "\n"))
        }
    }
}
