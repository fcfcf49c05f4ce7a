import DLCMServer
import Dispatch
import Foundation
import Logging

/// SIGINT/SIGTERM handling for `dlcm serve`: the first signal starts a graceful drain (`wait()`
/// returns it); a second one, while the drain runs, exits at once with status 128 + signal
/// (130 for SIGINT, 143 for SIGTERM), cutting whatever is still in flight.
final class ShutdownSignals: @unchecked Sendable {
    private let first = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var received: [Int32] = []
    private var sources: [DispatchSourceSignal] = []

    init(logger: Logger, signals: [Int32] = [SIGINT, SIGTERM]) {
        for sig in signals {
            signal(sig, SIG_IGN)  // the dispatch source sees it; the default action would kill us
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            // Held strongly (the sources keep this object alive): a signal may still arrive while
            // `serve` returns, and must find the handler there.
            source.setEventHandler { [self] in
                let count = lock.withLock { received.append(sig); return received.count }
                if count == 1 {
                    first.signal()
                } else {
                    logger.warning("second signal: exiting without finishing the drain", metadata: ["signal": .string(Self.name(sig))])
                    LogSink.flushStandardError(timeout: 0.5)   // that line and those before it, briefly
                    _exit(128 + sig)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Blocks until the first signal; returns its name.
    func wait() -> String {
        first.wait()
        return lock.withLock { Self.name(received[0]) }
    }

    static func name(_ sig: Int32) -> String {
        switch sig {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        default: "signal \(sig)"
        }
    }
}
