/// Where a sequence stands: tokens read and concepts completed. Taken before a pass, it says
/// which part of the state that pass added (`SequenceState.captureBlock(since:)`).
public struct StateMark: Equatable, Sendable {
    public let length: Int
    public let concepts: Int

    public init(length: Int, concepts: Int) { self.length = length; self.concepts = concepts }
}

/// What reading tokens `start..<end` added to a sequence that stood at `start`, enough to bring
/// another sequence standing at `start` (with the same tokens before) to `end` exactly as if it
/// had read them: the token stacks' new KV rows (a windowed stack: the rows its window still
/// reaches at `end`), the backbone KV, cross-attention K/V and lengths of the concepts those
/// tokens completed, and the open segment and router state at `end`. A concept completed in
/// the block is one whose successor's first token lies in it: the boundary that closes concept c
/// is decided by the first token of c+1, so a block never holds a concept its tokens did not
/// decide. Immutable: a prefix cache hands one block to any number of sequences.
public final class StateBlock {
    public let start: StateMark
    public let end: StateMark
    let encoder: KVRows
    let decoder: KVRows
    let backbone: KVRows
    /// Cross-attention keys and values of the concepts completed in the block. (concepts, d_token)
    let crossK: [Float]
    let crossV: [Float]
    let segLengths: [Int32]
    // The state at `end`: router q, open segment, smoothed concept (SequenceState's fields).
    let qPrev: [Float]
    let segSum: [Float]
    let segFirst: [Float]
    let segLen: Int
    let pOpen: Float
    let zPrev: [Float]

    init(start: StateMark, of s: SequenceState) {
        self.start = start
        end = StateMark(length: s.length, concepts: s.conceptCount)
        encoder = s.encoder.exportRows(from: start.length, to: s.length)
        decoder = s.decoder.exportRows(from: start.length, to: s.length)
        backbone = s.backbone.exportRows(from: start.concepts, to: s.conceptCount)
        let d = s.segSum.count, c0 = start.concepts, c1 = s.conceptCount
        crossK = Array(UnsafeBufferPointer(start: s.crossK.pointer + c0 * d, count: (c1 - c0) * d))
        crossV = Array(UnsafeBufferPointer(start: s.crossV.pointer + c0 * d, count: (c1 - c0) * d))
        segLengths = Array(s.segLengths[c0..<c1])
        qPrev = s.qPrev; segSum = s.segSum; segFirst = s.segFirst; zPrev = s.zPrev
        segLen = s.segLen; pOpen = s.pOpen
    }

    /// Bytes the block holds.
    public var bytes: Int {
        encoder.bytes + decoder.bytes + backbone.bytes
            + 4 * (crossK.count + crossV.count + segLengths.count + qPrev.count + segSum.count + segFirst.count + zPrev.count)
    }
}

extension SequenceState {
    public var mark: StateMark { StateMark(length: length, concepts: conceptCount) }

    /// What the passes since `mark` added (see `StateBlock`).
    public func captureBlock(since mark: StateMark) -> StateBlock {
        precondition(mark.length <= length && mark.concepts <= conceptCount, "a mark from this sequence's past")
        return StateBlock(start: mark, of: self)
    }

    /// Brings the sequence from `block.start` to `block.end`, as reading the block's tokens would
    /// have, bit for bit.
    public func append(_ block: StateBlock) {
        precondition(mark == block.start, "a block continues the sequence only from where it starts")
        encoder.importRows(block.encoder)
        decoder.importRows(block.decoder)
        backbone.importRows(block.backbone)
        let d = segSum.count, c0 = block.start.concepts, c1 = block.end.concepts
        crossK.reserve(c1 * d, keep: c0 * d)
        crossV.reserve(c1 * d, keep: c0 * d)
        if c1 > c0 {
            block.crossK.withUnsafeBufferPointer { (crossK.pointer + c0 * d).update(from: $0.baseAddress!, count: $0.count) }
            block.crossV.withUnsafeBufferPointer { (crossV.pointer + c0 * d).update(from: $0.baseAddress!, count: $0.count) }
        }
        segLengths += block.segLengths
        qPrev = block.qPrev; segSum = block.segSum; segFirst = block.segFirst; zPrev = block.zPrev
        segLen = block.segLen; pOpen = block.pOpen
        length = block.end.length
    }
}
