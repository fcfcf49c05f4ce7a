#if canImport(Glibc)
import Locking
import Glibc
#endif

/// The IMF-fixdate for the Date header (RFC 9110 6.6.1), formatted once per second and shared:
/// responses are built on many threads, and formatting a date per response would cost more
/// than the rest of the head.
enum HTTPDate {
    private struct Cache {
        var second = -1
        var bytes: [UInt8] = []
    }

    private static let cache = Locked(Cache())
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func now() -> [UInt8] {
        let second = time(nil)
        return cache.withLock { c in
            if c.second != second {
                c.second = second
                c.bytes = format(second)
            }
            return c.bytes
        }
    }

    /// "Sun, 06 Nov 1994 08:49:37 GMT"
    static func format(_ seconds: Int) -> [UInt8] {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let text = "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
        return Array(text.utf8)
    }
}
