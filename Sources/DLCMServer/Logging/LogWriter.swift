import Dispatch
import Locking
import SystemThread
#if canImport(Glibc)
import Glibc
#endif

/// Log lines handed to a thread of their own, which writes them in batches. Whoever logs (the
/// event loop, the engine thread) only copies the line into a buffer: with a `write(2)` per line
/// on the logging thread, a log reader that stops reading (a full pipe, a stuck collector)
/// blocked that thread, and with it every connection, until it read again. Past `capacity` bytes
/// waiting, lines are dropped and counted, and a line saying how many goes out with the next
/// batch. The writer thread lives as long as the process (the writers are process-wide).
final class LogWriter: @unchecked Sendable {
    private struct State {
        var pending: [UInt8] = []
        var dropped = 0
        /// The writer thread holds a batch it has not finished writing.
        var writing = false
        /// The writer thread waits for a signal (else it looks again on its own within `pause`).
        var asleep = true
    }

    /// How long the writer lets lines gather between batches while lines keep coming: a wake-up
    /// per line cost the logging thread a futex call each (and, on 2 cores, a context switch).
    static let pause: useconds_t = 2_000

    /// Bytes that may wait to be written.
    let capacity: Int
    private let state = Locked(State())
    private let wake = DispatchSemaphore(value: 0)
    private let output: @Sendable (UnsafeRawBufferPointer) -> Void

    /// - Parameter output: writes a batch (whole lines) to the destination; may block.
    init(capacity: Int = 4 << 20, output: @escaping @Sendable (UnsafeRawBufferPointer) -> Void) {
        self.capacity = capacity
        self.output = output
        final class Main: ThreadMain {
            let writer: LogWriter
            init(_ writer: LogWriter) { self.writer = writer }
            func threadMain() { writer.run() }
        }
        do {
            _ = try startThread(Main(self))
        } catch {
            preconditionFailure("cannot start the log writer thread: \(error)")
        }
    }

    /// Queues one line (its newline is added); never blocks on the destination.
    func append(_ line: [UInt8]) {
        let wakeWriter = state.withLock { s -> Bool in
            guard s.pending.count + line.count + 1 <= capacity else {
                s.dropped += 1
                return false
            }
            s.pending += line
            s.pending.append(0x0A)
            defer { s.asleep = false }
            return s.asleep
        }
        if wakeWriter { wake.signal() }
    }

    /// Waits until every line queued so far has been written, at most `timeout` seconds; false on
    /// timeout (the destination is not reading).
    @discardableResult
    func flush(timeout: Double) -> Bool {
        let deadline = DispatchTime.now() + timeout
        while DispatchTime.now() < deadline {
            if state.withLock({ $0.pending.isEmpty && !$0.writing && $0.dropped == 0 }) { return true }
            usleep(1_000)
        }
        return false
    }

    private func run() {
        var batch: [UInt8] = []
        while true {
            wake.wait()
            // Batches until a look finds nothing, pausing between them so lines gather.
            while true {
                let dropped = state.withLock { s -> Int in
                    swap(&batch, &s.pending)
                    s.writing = !batch.isEmpty || s.dropped > 0
                    if !s.writing { s.asleep = true }
                    defer { s.dropped = 0 }
                    return s.dropped
                }
                if dropped > 0 { batch += "log: \(dropped) lines dropped: the log's reader fell behind\n".utf8 }
                if batch.isEmpty { break }
                batch.withUnsafeBytes { output($0) }
                batch.removeAll(keepingCapacity: batch.capacity <= 1 << 20)
                state.withLock { $0.writing = false }
                usleep(Self.pause)
            }
        }
    }
}

extension LogWriter {
    /// Standard error, written whole (retrying short writes and EINTR).
    static let standardError = LogWriter { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = write(2, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}
