@testable import DLCMServer
import Foundation
import Locking
import Testing

/// The log's writer thread: lines from any thread come out whole and in each thread's order, a
/// destination that stops reading never blocks whoever logs, and what does not fit is dropped
/// and counted in a line of its own.
@Suite struct LogWriterTests {
    final class Destination: @unchecked Sendable {
        let text = Locked("")
        let gate = DispatchSemaphore(value: 0)
        let blocked: Bool
        init(blocked: Bool) { self.blocked = blocked }
        func write(_ bytes: UnsafeRawBufferPointer) {
            if blocked { gate.wait(); gate.signal() }   // once opened, stays open
            let s = String(decoding: bytes, as: UTF8.self)
            text.withLock { $0 += s }
        }
    }

    @Test func linesFromManyThreadsComeOutWholeAndInOrder() {
        let out = Destination(blocked: false)
        let writer = LogWriter { out.write($0) }
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            for i in 0..<500 { writer.append(Array("thread \(t) line \(i)".utf8)) }
        }
        #expect(writer.flush(timeout: 10))
        let lines = out.text.withLock { $0 }.split(separator: "\n")
        #expect(lines.count == 2000)
        for t in 0..<4 {
            let mine = lines.filter { $0.hasPrefix("thread \(t) ") }
            #expect(mine == (0..<500).map { "thread \(t) line \($0)"[...] })
        }
    }

    @Test func aStalledReaderNeitherBlocksLoggingNorLosesCount() {
        let out = Destination(blocked: true)
        let writer = LogWriter(capacity: 1000) { out.write($0) }
        // The destination takes nothing: appends must still return, the excess dropped.
        let done = DispatchSemaphore(value: 0)
        Thread {
            for i in 0..<100 { writer.append(Array(String(format: "line %03d %@", i, String(repeating: "x", count: 90)).utf8)) }
            done.signal()
        }.start()
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(!writer.flush(timeout: 0.05))
        out.gate.signal()
        #expect(writer.flush(timeout: 10))
        let lines = out.text.withLock { $0 }.split(separator: "\n")
        // The first batch may have been taken before the reader stalled; either way, every line
        // is either written (in order) or counted as dropped.
        let written = lines.filter { $0.hasPrefix("line ") }
        let dropped = lines.compactMap { $0.hasPrefix("log: ") ? Int($0.split(separator: " ")[1]) : nil }.reduce(0, +)
        #expect(written.count + dropped == 100)
        #expect(dropped > 0)
        #expect(written == written.sorted())
    }
}
