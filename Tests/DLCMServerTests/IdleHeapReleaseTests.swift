@testable import DLCMEngine
import Testing

/// When the idle engine gives freed heap back: a plan over clock readings, no model.
@Suite struct IdleHeapReleaseTests {
    let second: UInt64 = 1_000_000_000

    /// `due` at each of these idle turns.
    func turns(_ r: inout IdleHeapRelease, _ times: [UInt64]) -> [Bool] {
        times.map { r.due(now: $0) }
    }

    @Test func releasesOnceAfterAQuietSpellThatFollowsWork() {
        var r = IdleHeapRelease(after: 1)
        #expect(turns(&r, [0, 5 * second]) == [false, false])   // nothing was done: nothing to give back
        r.worked()
        // The quiet spell starts at the first idle turn; once per spell.
        #expect(turns(&r, [10 * second, 10 * second + second / 2, 11 * second, 20 * second]) == [false, false, true, false])
        r.worked()
        #expect(turns(&r, [30 * second, 31 * second + 1]) == [false, true])
    }

    @Test func workRestartsTheSpell() {
        var r = IdleHeapRelease(after: 1)
        r.worked()
        #expect(turns(&r, [0]) == [false])
        r.worked()                                       // busy again before the second passed
        #expect(turns(&r, [second, 2 * second]) == [false, true])
    }

    @Test func nilNeverReleases() {
        var r = IdleHeapRelease(after: nil)
        r.worked()
        #expect(turns(&r, [0, 1_000 * second]) == [false, false])
    }
}
