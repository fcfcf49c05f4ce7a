import DLCMEngine
import DLCMRuntime
import Testing

/// Batching must not mix sequences: a sequence's logits are the same whether it runs alone or
/// among others (staggered prefills while others decode). Not bit for bit: up to 2 rows (4 for
/// concept-level matrices) go through `matvec`, more through the blocked `matmul`, whose sums are
/// ordered differently
/// (differences ~1e-7). Mixing would show as differences of order 1.
@Suite struct BatchInvarianceTests {
    @Test func logitsAloneEqualLogitsInABatch() throws {
        let m = try ModelBundle(directory: fixtureDirectory, threads: 1).model   // its own: models are single-threaded
        let texts = ["Hello", "The engine", "One, two, three", "def greet(name):", "café", "It was a bright"]
        let prompts = texts.map { [Int32(0)] + sharedBundle.tokenizer.encode($0, parseSpecial: false) }
        // Solo: prompt then 30 fixed tokens each.
        func feed(_ i: Int, _ k: Int) -> Int32 { Int32((i * 37 + k * 11) % 300 + 1) }
        var solo: [[[Float]]] = []
        for (i, p) in prompts.enumerated() {
            let s = m.newSequence()
            var l = [try m.forward([BatchItem(sequence: s, tokens: p)])[0].logits[0]]
            for k in 0..<30 { l.append(try m.forward([BatchItem(sequence: s, tokens: [feed(i, k)])])[0].logits[0]) }
            solo.append(l)
        }
        // Together: staggered prefills while others decode.
        let seqs = prompts.map { _ in m.newSequence() }
        var step = [Int](repeating: -1, count: 6)   // -1 = not prefilled
        var got = [[[Float]]](repeating: [], count: 6)
        var maxDiff: Float = 0
        while step.contains(where: { $0 < 30 }) {
            var items: [BatchItem] = [], who: [Int] = []
            for i in 0..<6 where step[i] >= 0 && step[i] < 30 { items.append(BatchItem(sequence: seqs[i], tokens: [feed(i, step[i])])); who.append(i) }
            if let i = step.firstIndex(of: -1) { items.append(BatchItem(sequence: seqs[i], tokens: prompts[i])); who.append(i) }
            let out = try m.forward(items)
            for (o, i) in zip(out, who) {
                got[i].append(o.logits[0])
                let ref = solo[i][got[i].count - 1]
                maxDiff = max(maxDiff, zip(ref, o.logits[0]).map { abs($0 - $1) }.max()!)
                step[i] += 1
            }
        }
        #expect(maxDiff < 1e-4, "max logit difference \(maxDiff)")
    }
}
