/// The grammar's tables as raw pointers: valid while the grammar lives (a constraint holds its
/// grammar), and the memory never changes, hence Sendable.
struct Tables: @unchecked Sendable {
    let elems: UnsafePointer<Int32>
    let sets: UnsafePointer<UInt64>
    let suffixMin: UnsafePointer<Int32>
    let nullable: UnsafePointer<Bool>
    let consumes: UnsafePointer<Bool>
    let stepInfo: UnsafePointer<Int32>
    let classes: UnsafePointer<UInt16>
    let classEntry: UnsafePointer<Int32>
    let resultRanges: UnsafePointer<Int32>
    let results: UnsafePointer<Int32>
    let frames: UnsafePointer<Int32>

    init(_ f: GrammarTables) {
        elems = f.elems.pointer; sets = f.setWords.pointer; suffixMin = f.suffixMin.pointer; nullable = f.nullable.pointer
        consumes = f.consumes.pointer; stepInfo = f.stepInfo.pointer; classes = f.classes.pointer
        classEntry = f.classEntry.pointer; resultRanges = f.resultRanges.pointer; results = f.results.pointer; frames = f.frames.pointer
    }
}

/// Working memory of one matcher operation (a mask walk, an advance): frames in an arena,
/// interned so that equal stacks are equal (top, below) pairs, and stacks in levels (one per
/// byte consumed) as (top position, index of the frame below) pairs. A top of -1 is the finished
/// stack (the document is complete). Frames are never freed during one operation.
struct Scratch: ~Copyable {
    /// A stack may not grow deeper than this: the byte that would push past it is refused (JSON
    /// nests ~500 deep at most, below JSONParser's 512).
    static let maxFrames: Int32 = 500
    /// A level of more stacks than this is refused (`overflow`): the bytes leading there are not
    /// allowed. The JSON Schema and tool grammars keep a handful of stacks per state.
    static let maxStacks = 4096

    let t: Tables

    // Frames: position, the frame below (-1: none), depth, fewest bytes to finish from here down.
    private(set) var pos: UnsafeMutablePointer<Int32>
    private(set) var parent: UnsafeMutablePointer<Int32>
    private var depth: UnsafeMutablePointer<Int32>
    private var rem: UnsafeMutablePointer<Int32>
    private var nodes = 0
    private var nodeCapacity: Int
    // Intern table: key (position, parent) -> frame index, open addressing.
    private var hashKeys: UnsafeMutablePointer<UInt64>
    private var hashValues: UnsafeMutablePointer<Int32>
    private var hashMask: Int
    private var hashCount = 0

    // Stacks of the levels.
    private(set) var top: UnsafeMutablePointer<Int32>
    private(set) var below: UnsafeMutablePointer<Int32>
    var count = 0
    private var capacity: Int
    var overflow = false

    // Deduplication of large levels.
    private var dedupKeys: UnsafeMutablePointer<UInt64>? = nil
    private var dedupStamps: UnsafeMutablePointer<UInt32>? = nil
    private var stamp: UInt32 = 0
    private var generation = 0
    private var hashedGeneration = -1
    private static let dedupSize = 2 * maxStacks

    init(_ tables: Tables) {
        t = tables
        nodeCapacity = 256
        pos = .allocate(capacity: nodeCapacity); parent = .allocate(capacity: nodeCapacity)
        depth = .allocate(capacity: nodeCapacity); rem = .allocate(capacity: nodeCapacity)
        hashMask = 511
        hashKeys = .allocate(capacity: hashMask + 1)
        hashValues = .allocate(capacity: hashMask + 1)
        hashValues.initialize(repeating: -1, count: hashMask + 1)
        capacity = 256
        top = .allocate(capacity: capacity); below = .allocate(capacity: capacity)
    }

    deinit {
        pos.deallocate(); parent.deallocate(); depth.deallocate(); rem.deallocate()
        hashKeys.deallocate(); hashValues.deallocate()
        top.deallocate(); below.deallocate()
        dedupKeys?.deallocate(); dedupStamps?.deallocate()
    }

    // MARK: Frames

    /// The frame (p, parent), or -2 when it would be deeper than `maxFrames`.
    @inline(__always)
    mutating func intern(_ p: Int32, _ parentIndex: Int32) -> Int32 {
        let d = (parentIndex >= 0 ? depth[Int(parentIndex)] : 0) &+ 1
        if d > Scratch.maxFrames { return -2 }
        let key = UInt64(UInt32(bitPattern: p)) << 32 | UInt64(UInt32(bitPattern: parentIndex))
        var h = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 40) & hashMask
        while true {
            let v = hashValues[h]
            if v < 0 { break }
            if hashKeys[h] == key { return v }
            h = (h &+ 1) & hashMask
        }
        if nodes == nodeCapacity { growNodes() }
        let i = nodes
        nodes += 1
        pos[i] = p
        parent[i] = parentIndex
        depth[i] = d
        let r = Int(t.suffixMin[Int(p)]) + (parentIndex >= 0 ? Int(rem[Int(parentIndex)]) : 0)
        rem[i] = Int32(min(r, GrammarTables.lengthCap))
        hashKeys[h] = key
        hashValues[h] = Int32(i)
        hashCount += 1
        if hashCount * 2 > hashMask { growHash() }
        return Int32(i)
    }

    private mutating func growNodes() {
        let n = nodeCapacity * 2
        func grow(_ p: inout UnsafeMutablePointer<Int32>) {
            let q = UnsafeMutablePointer<Int32>.allocate(capacity: n)
            q.update(from: p, count: nodes)
            p.deallocate()
            p = q
        }
        grow(&pos); grow(&parent); grow(&depth); grow(&rem)
        nodeCapacity = n
    }

    private mutating func growHash() {
        let size = (hashMask + 1) * 2
        hashKeys.deallocate(); hashValues.deallocate()
        hashKeys = .allocate(capacity: size)
        hashValues = .allocate(capacity: size)
        hashValues.initialize(repeating: -1, count: size)
        hashMask = size - 1
        for i in 0..<nodes {
            let key = UInt64(UInt32(bitPattern: pos[i])) << 32 | UInt64(UInt32(bitPattern: parent[i]))
            var h = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 40) & hashMask
            while hashValues[h] >= 0 { h = (h &+ 1) & hashMask }
            hashKeys[h] = key
            hashValues[h] = Int32(i)
        }
    }

    // MARK: Levels

    /// Starts a new level (for deduplication).
    @inline(__always)
    mutating func beginLevel() { generation &+= 1 }

    /// Adds the stack (q, n) to the level starting at `levelStart`, unless it is there already.
    @inline(__always)
    mutating func emit(_ q: Int32, _ n: Int32, _ levelStart: Int) {
        let size = count - levelStart
        if size == 0 && count < capacity {
            top[count] = q
            below[count] = n
            count += 1
            return
        }
        emitSlow(q, n, levelStart, size)
    }

    @inline(never)
    private mutating func emitSlow(_ q: Int32, _ n: Int32, _ levelStart: Int, _ size: Int) {
        if size < 8 {
            var i = levelStart
            while i < count {
                if top[i] == q && below[i] == n { return }
                i += 1
            }
        } else if !insertDedup(q, n, levelStart) {
            return
        }
        if size >= Scratch.maxStacks { overflow = true; return }
        if count == capacity { growLevels() }
        top[count] = q
        below[count] = n
        count += 1
    }

    /// Hash-set membership for levels past 8 stacks: false if (q, n) is there already.
    private mutating func insertDedup(_ q: Int32, _ n: Int32, _ levelStart: Int) -> Bool {
        if dedupKeys == nil {
            dedupKeys = .allocate(capacity: Scratch.dedupSize)
            dedupStamps = .allocate(capacity: Scratch.dedupSize)
            dedupStamps!.initialize(repeating: 0, count: Scratch.dedupSize)
        }
        let keys = dedupKeys!, stamps = dedupStamps!
        if hashedGeneration != generation {
            hashedGeneration = generation
            stamp &+= 1
            if stamp == 0 { stamps.update(repeating: 0, count: Scratch.dedupSize); stamp = 1 }
            for i in levelStart..<count { _ = probe(keys, stamps, top[i], below[i]) }
        }
        return probe(keys, stamps, q, n)
    }

    private func probe(_ keys: UnsafeMutablePointer<UInt64>, _ stamps: UnsafeMutablePointer<UInt32>, _ q: Int32, _ n: Int32) -> Bool {
        let key = UInt64(UInt32(bitPattern: q)) << 32 | UInt64(UInt32(bitPattern: n))
        let mask = Scratch.dedupSize - 1
        var h = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
        var probes = 0
        while stamps[h] == stamp {
            if keys[h] == key { return false }
            h = (h &+ 1) & mask
            probes += 1
            if probes > mask { return true }   // full: the level overflows anyway
        }
        stamps[h] = stamp
        keys[h] = key
        return true
    }

    private mutating func growLevels() {
        let n = capacity * 2
        let t2 = UnsafeMutablePointer<Int32>.allocate(capacity: n), b2 = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        t2.update(from: top, count: count)
        b2.update(from: below, count: count)
        top.deallocate(); below.deallocate()
        top = t2; below = b2
        capacity = n
    }

    /// Moves the stacks from `start` to the front (the next byte's level starts empty after them).
    mutating func compact(from start: Int) {
        let n = count - start
        if start > 0 {
            top.update(from: top + start, count: n)
            below.update(from: below + start, count: n)
        }
        count = n
    }

    /// Fewest bytes that finish stack k.
    @inline(__always)
    func remaining(_ k: Int) -> Int {
        let q = top[k]
        if q < 0 { return 0 }
        let n = below[k]
        return Int(t.suffixMin[Int(q)]) + (n >= 0 ? Int(rem[Int(n)]) : 0)
    }

    // MARK: Matching

    /// Loads a state's stacks as the level at 0.
    mutating func load(_ stacks: [Int32]) {
        var i = 0
        while i < stacks.count {
            let length = Int(stacks[i])
            i += 1
            if length == 0 {
                emit(-1, -1, 0)
                continue
            }
            var n: Int32 = -1
            for k in 0..<length - 1 { n = intern(stacks[i + k], n) }
            emit(stacks[i + length - 1], n, 0)
            i += length
        }
    }

    /// The stacks that stack (q, n) becomes after byte b, added to the level at `levelStart`.
    @inline(__always)
    mutating func step(_ q0: Int32, _ n0: Int32, _ b: Int, _ levelStart: Int) {
        var q = q0, n = n0
        if q < 0 { return }
        while true {
            let e = t.elems[Int(q)]
            if e >= 0 {
                // A terminal: never nullable, so nothing below it can take the byte.
                if (t.sets[Int(e) &* 4 &+ b &>> 6] &>> UInt64(b & 63)) & 1 != 0 {
                    let next = q &+ 1
                    if t.elems[Int(next)] != GrammarTables.end {
                        emit(next, n, levelStart)
                    } else {
                        pop(n, levelStart)
                    }
                }
                return
            }
            let info = t.stepInfo + 2 &* Int(q)
            let entry = t.classEntry[Int(info[1]) &+ Int(t.classes[Int(info[0]) &+ b])]
            if entry >= 0 {
                emit(entry, n, levelStart)
            } else if entry == GrammarTables.pop {
                pop(n, levelStart)
            } else if entry != GrammarTables.none {
                results(Int(-2 - entry), n, levelStart)
            }
            // The rest of this alternative can be empty: the byte may start what follows below.
            if t.nullable[Int(q)] && n >= 0 {
                q = pos[Int(n)]
                n = parent[Int(n)]
                continue
            }
            return
        }
    }

    /// Several results, or frames to push: the less common case, out of line.
    @inline(never)
    private mutating func results(_ i: Int, _ n: Int32, _ levelStart: Int) {
        var r = Int(t.resultRanges[2 &* i])
        let rEnd = Int(t.resultRanges[2 &* i &+ 1])
        while r < rEnd {
            let newTop = t.results[3 &* r]
            var f = Int(t.results[3 &* r &+ 1])
            let fEnd = Int(t.results[3 &* r &+ 2])
            var m = n
            while f < fEnd {
                m = intern(t.frames[f], m)
                if m == -2 { break }
                f &+= 1
            }
            if m != -2 {
                if newTop >= 0 { emit(newTop, m, levelStart) } else { pop(m, levelStart) }
            }
            r &+= 1
        }
    }

    @inline(__always)
    private mutating func pop(_ n: Int32, _ levelStart: Int) {
        if n < 0 { emit(-1, -1, levelStart) } else { emit(pos[Int(n)], parent[Int(n)], levelStart) }
    }

    /// The stacks from `from` to `count`, canonical: each as [length, frames bottom first], sorted.
    func canonical(from: Int) -> [Int32] {
        var stacks: [[Int32]] = []
        stacks.reserveCapacity(count - from)
        for k in from..<count {
            let q = top[k]
            if q < 0 { stacks.append([]); continue }
            var frames: [Int32] = [q]
            var n = below[k]
            while n >= 0 { frames.append(pos[Int(n)]); n = parent[Int(n)] }
            frames.reverse()
            stacks.append(frames)
        }
        if stacks.count > 1 {
            stacks.sort { a, b in a.count != b.count ? a.count < b.count : a.lexicographicallyPrecedes(b) }
        }
        var out: [Int32] = []
        var previous: [Int32]? = nil
        for s in stacks where s != previous {
            out.append(Int32(s.count))
            out += s
            previous = s
        }
        return out
    }
}
