import Foundation
import Tokenization
import MonotonicTime

// Single-thread encoding throughput of the Swift tokenizer, on the documents of JSONL files
// (one {"text": ...} object per line), each document encoded separately.
// Usage: tokenizer-bench <tokenizer.json> <file.jsonl>... ; Scripts/bench.sh runs it beside the library.
// Output lines (bench.sh parses the first): `swift_mb_per_s=<x> tokens=<n> bytes=<b> seconds=<s>`.

func loadDocuments(_ paths: ArraySlice<String>) throws -> [String] {
    var documents = [String]()
    for path in paths {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for line in text.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            if let text = object?["text"] as? String { documents.append(text) }
        }
    }
    return documents
}

func encodeAll(_ tokenizer: Tokenizer, _ documents: [String]) -> Int {
    var tokens = 0
    for document in documents { tokens += tokenizer.encode(document).count }
    return tokens
}

func main() throws {
    let arguments = CommandLine.arguments
    guard arguments.count >= 3 else {
        FileHandle.standardError.write(Data("usage: tokenizer-bench <tokenizer.json> <file.jsonl>...\n".utf8))
        exit(2)
    }
    let documents = try loadDocuments(arguments[2...])
    let bytes = documents.reduce(0) { $0 + $1.utf8.count }
    // The first line uses the library's cache size (the comparable figure); the second a bigger cache.
    for (label, capacity) in [("swift", 10_000), ("swift_cache100k", 100_000)] {
        let tokenizer = try Tokenizer(contentsOf: URL(fileURLWithPath: arguments[1]), wordCacheCapacity: capacity)
        _ = encodeAll(tokenizer, documents)  // warm the word cache, as the library's is after one pass
        var best = Double.infinity
        var tokens = 0
        for _ in 0..<5 {
            let start = monotonicNanoseconds()
            tokens = encodeAll(tokenizer, documents)
            best = min(best, Double(monotonicNanoseconds() - start) / 1e9)
        }
        print(String(format: "%@_mb_per_s=%.2f tokens=%d bytes=%d seconds=%.3f", label, Double(bytes) / best / 1e6, tokens, bytes, best))
    }
}

try main()
