import Foundation
import Tokenization

// Encoding throughput of the Swift tokenizer on one thread.
// Usage: tokenizer-bench <tokenizer.json> <text file> [repeats]
// Prints a machine-readable line: `swift_mb_per_s=<x> tokens=<n> bytes=<b>`.
// Each line of the text file is encoded separately (documents), as the Python side does.

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write("usage: tokenizer-bench <tokenizer.json> <text file> [repeats]\n".data(using: .utf8)!)
    exit(2)
}
let tokenizer = try Tokenizer(contentsOf: URL(fileURLWithPath: arguments[1]))
let documents = try String(contentsOfFile: arguments[2], encoding: .utf8)
    .split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
let repeats = arguments.count > 3 ? Int(arguments[3]) ?? 3 : 3
let totalBytes = documents.reduce(0) { $0 + $1.utf8.count }

func run() -> Int {
    var tokens = 0
    for document in documents { tokens += tokenizer.encode(document).count }
    return tokens
}

_ = run()  // warm the word cache, as the library's own cache is warm after its first pass
var best = Double.infinity
var tokens = 0
for _ in 0..<repeats {
    let start = DispatchTime.now().uptimeNanoseconds
    tokens = run()
    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}
print(String(format: "swift_mb_per_s=%.2f tokens=%d bytes=%d seconds=%.3f", Double(totalBytes) / best / 1e6, tokens, totalBytes, best))
