import DLCMEngine
import DLCMRuntime
import Testing

/// `SequenceState.fork`: the n choices of one prompt read it once and continue apart.
@Suite struct ForkTests {
    @Test func aForkContinuesExactlyLikeAFreshPrefill() throws {
        let m = try ModelBundle(directory: fixtureDirectory, threads: 1).model
        let prompt: [Int32] = [0] + sharedBundle.tokenizer.encode("The quick brown fox jumps over the lazy dog.", parseSpecial: false)
        let original = m.newSequence(), fresh = m.newSequence()
        _ = try m.forward([BatchItem(sequence: original, tokens: prompt)])
        _ = try m.forward([BatchItem(sequence: fresh, tokens: prompt)])
        let fork = original.fork()
        #expect(fork.length == original.length && fork.conceptCount == original.conceptCount)
        // The original moves on first: the fork must not see it.
        for t: Int32 in [5, 9, 77] { _ = try m.forward([BatchItem(sequence: original, tokens: [t])]) }
        for t: Int32 in [40, 41, 42, 200, 7, 7, 7] {
            let a = try m.forward([BatchItem(sequence: fork, tokens: [t])])[0]
            let b = try m.forward([BatchItem(sequence: fresh, tokens: [t])])[0]
            #expect(a.logits == b.logits)
            #expect(a.boundaries == b.boundaries)
        }
        #expect(fork.conceptCount == fresh.conceptCount)
        #expect(original.length == prompt.count + 3)
    }
}
