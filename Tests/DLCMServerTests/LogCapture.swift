import DLCMServer
import Foundation
import Locking
import Logging

/// A logger whose lines are kept for the test to read (text or JSON lines, as served).
final class LogCapture: Sendable {
    private let lines = Locked<[String]>([])
    let format: LineLogHandler.Format

    init(format: LineLogHandler.Format = .text) { self.format = format }

    var logger: Logger {
        let sink = LogSink { [lines] line in lines.withLock { $0.append(line) } }
        return Logger(label: "test") { [format] _ in LineLogHandler(format: format, level: .trace, sink: sink) }
    }

    var all: [String] { lines.withLock { $0 } }

    /// The `request` lines, in order.
    var requests: [String] { all.filter { $0.contains(" request ") || $0.contains(#""msg":"request""#) } }

    /// The request line with this id, waiting briefly: the line is written when the answer is
    /// handed to the loop, which may be just after the client read it.
    func request(id: String, seconds: Double = 5) -> String? {
        let end = Date().addingTimeInterval(seconds)
        repeat {
            if let line = requests.first(where: { $0.contains("id=\(id) ") || $0.contains(#""id":"\#(id)""#) }) { return line }
            usleep(2_000)
        } while Date() < end
        return nil
    }

    /// `key=value` pairs of a text line (values unquoted when they were quoted).
    static func fields(_ line: String) -> [String: String] {
        var out: [String: String] = [:]
        var rest = Substring(line)
        while let eq = rest.firstIndex(of: "=") {
            let keyStart = rest[..<eq].lastIndex(of: " ").map { rest.index(after: $0) } ?? rest.startIndex
            let key = String(rest[keyStart..<eq])
            var after = rest[rest.index(after: eq)...]
            var value: String
            if after.first == "\"" {
                // A JSON string: find its closing quote, skipping escaped ones.
                var i = after.index(after: after.startIndex), escaped = false
                while i < after.endIndex {
                    let c = after[i]
                    if !escaped && c == "\"" { break }
                    escaped = !escaped && c == "\\"
                    i = after.index(after: i)
                }
                let literal = String(after[after.startIndex...min(i, after.index(before: after.endIndex))])
                value = (try? JSONDecoder().decode(String.self, from: Data(literal.utf8))) ?? literal
                after = i < after.endIndex ? after[after.index(after: i)...] : after[after.endIndex...]
            } else {
                let end = after.firstIndex(of: " ") ?? after.endIndex
                value = String(after[..<end])
                after = after[end...]
            }
            out[key] = value
            rest = after
        }
        return out
    }
}
