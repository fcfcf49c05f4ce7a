#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Python's `==` (numbers across int/float/bool, strings by code point, dicts regardless of order).
func pyEqual(_ a: Value, _ b: Value, depth: Int = 0) -> Bool {
    if depth > PythonText.maxDepth { return false }
    switch (a, b) {
    case (.undefined, .undefined), (.none, .none): return true
    case let (.string(x), .string(y)): return x.utf8.elementsEqual(y.utf8)
    case let (.list(x), .list(y)), let (.tuple(x), .tuple(y)):
        return x.count == y.count && zip(x, y).allSatisfy { pyEqual($0, $1, depth: depth + 1) }
    case let (.dict(x), .dict(y)):
        guard x.count == y.count else { return false }
        for (k, v) in x.pairs {
            guard let w = y[k], pyEqual(v, w, depth: depth + 1) else { return false }
        }
        return true
    case let (.namespace(x), .namespace(y)): return x === y
    case let (.iterator(x), .iterator(y)): return x === y
    default:
        if let x = Operators.number(a), let y = Operators.number(b) {
            switch (x, y) {
            case let (.int(i), .int(j)): return i == j
            default: return x.double == y.double
            }
        }
        return false
    }
}

enum Number {
    case int(Int)
    case double(Double)
    var double: Double {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        }
    }
}

enum Operators {
    /// A number as Python sees it: bools are ints.
    static func number(_ v: Value) -> Number? {
        switch v {
        case .int(let i): .int(i)
        case .bool(let b): .int(b ? 1 : 0)
        case .double(let d): .double(d)
        default: nil
        }
    }

    static func undefinedError(_ a: Value, _ b: Value) -> TemplateError? {
        if case .undefined(let hint) = a { return .runtime(hint) }
        if case .undefined(let hint) = b { return .runtime(hint) }
        return nil
    }

    static func compare(_ op: CompareOperator, _ a: Value, _ b: Value) throws(TemplateError) -> Bool {
        switch op {
        case .eq: return pyEqual(a, b)
        case .ne: return !pyEqual(a, b)
        case .in: return try contains(b, a)
        case .notIn: return !(try contains(b, a))
        case .lt: return try less(a, b)
        case .gt: return try less(b, a)
        case .le: return try less(a, b) || pyEqual(a, b) && comparable(a, b)
        case .ge: return try less(b, a) || pyEqual(a, b) && comparable(a, b)
        }
    }

    private static func comparable(_ a: Value, _ b: Value) -> Bool {
        (try? less(a, b)) != nil
    }

    /// Python's `<` for the types that order; other pairs are a TypeError.
    static func less(_ a: Value, _ b: Value, depth: Int = 0) throws(TemplateError) -> Bool {
        if let x = number(a), let y = number(b) {
            if case .int(let i) = x, case .int(let j) = y { return i < j }
            return x.double < y.double
        }
        switch (a, b) {
        case let (.string(x), .string(y)):
            return x.utf8.lexicographicallyPrecedes(y.utf8)
        case let (.list(x), .list(y)), let (.tuple(x), .tuple(y)):
            guard depth < PythonText.maxDepth else { throw .runtime("values nested too deeply to compare") }
            for (u, v) in zip(x, y) where !pyEqual(u, v) { return try less(u, v, depth: depth + 1) }
            return x.count < y.count
        default:
            if let e = undefinedError(a, b) { throw e }
            throw .runtime("'<' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
        }
    }

    /// Python's `item in container`.
    static func contains(_ container: Value, _ item: Value) throws(TemplateError) -> Bool {
        switch container {
        case .string(let s):
            guard case .string(let sub) = item else {
                throw .runtime("'in <string>' requires string as left operand, not \(item.typeName)")
            }
            return StringOps.contains(s, sub)
        case .list(let a), .tuple(let a): return a.contains { pyEqual($0, item) }
        case .dict(let d):
            guard HashKey(item) != nil else { throw .runtime("unhashable type: '\(item.typeName)'") }
            return d[item] != nil
        case .undefined: return false
        case .iterator(let it): return it.drain().contains { pyEqual($0, item) }
        default: throw .runtime("argument of type '\(container.typeName)' is not iterable")
        }
    }

    static func negate(_ v: Value) throws(TemplateError) -> Value {
        switch v {
        case .int(let i):
            guard i != .min else { throw .runtime("integer overflow") }
            return .int(-i)
        case .bool(let b): return .int(b ? -1 : 0)
        case .double(let d): return .double(-d)
        case .undefined(let hint): throw .runtime(hint)
        default: throw .runtime("bad operand type for unary -: '\(v.typeName)'")
        }
    }

    static func binary(_ op: BinaryOperator, _ a: Value, _ b: Value, limits: ChatTemplate.Limits) throws(TemplateError) -> Value {
        if let e = undefinedError(a, b) { throw e }
        if let x = number(a), let y = number(b) { return try arithmetic(op, x, y) }
        switch (op, a, b) {
        case let (.add, .string(x), .string(y)):
            guard x.utf8.count + y.utf8.count <= limits.maxOutputBytes else {
                throw TemplateError(.limit, "a string exceeds the limit of \(limits.maxOutputBytes) bytes")
            }
            return .string(x + y)
        case let (.add, .list(x), .list(y)):
            guard x.count + y.count <= limits.maxListLength else { throw TemplateError(.limit, "a list exceeds the limit of \(limits.maxListLength) items") }
            return .list(x + y)
        case let (.add, .tuple(x), .tuple(y)):
            guard x.count + y.count <= limits.maxListLength else { throw TemplateError(.limit, "a list exceeds the limit of \(limits.maxListLength) items") }
            return .tuple(x + y)
        case (.multiply, .string, _), (.multiply, .list, _), (.multiply, .tuple, _):
            return try repeated(a, b, limits)
        case (.multiply, _, .string), (.multiply, _, .list), (.multiply, _, .tuple):
            return try repeated(b, a, limits)
        case let (.modulo, .string(format), _):
            let args: [Value]
            if case .tuple(let items) = b { args = items } else { args = [b] }
            return .string(try StringOps.percentFormat(format, args, b))
        default:
            let symbol = [BinaryOperator.add: "+", .subtract: "-", .multiply: "*", .divide: "/", .floorDivide: "//",
                          .modulo: "%", .power: "** or pow()"][op] ?? "?"
            throw .runtime("unsupported operand type(s) for \(symbol): '\(a.typeName)' and '\(b.typeName)'")
        }
    }

    private static func repeated(_ seq: Value, _ count: Value, _ limits: ChatTemplate.Limits) throws(TemplateError) -> Value {
        guard let n = number(count), case .int(let times) = n else {
            throw .runtime("can't multiply sequence by non-int of type '\(count.typeName)'")
        }
        let k = max(0, times)
        switch seq {
        case .string(let s):
            let (total, overflow) = s.utf8.count.multipliedReportingOverflow(by: k)
            guard !overflow, total <= limits.maxOutputBytes else { throw TemplateError(.limit, "a string exceeds the limit of \(limits.maxOutputBytes) bytes") }
            return .string(String(repeating: s, count: k))
        case .list(let a), .tuple(let a):
            let (total, overflow) = a.count.multipliedReportingOverflow(by: k)
            guard !overflow, total <= limits.maxListLength else { throw TemplateError(.limit, "a list exceeds the limit of \(limits.maxListLength) items") }
            var out: [Value] = []
            out.reserveCapacity(total)
            for _ in 0..<k { out += a }
            if case .tuple = seq { return .tuple(out) }
            return .list(out)
        default:
            throw .runtime("can't multiply sequence")
        }
    }

    static func arithmetic(_ op: BinaryOperator, _ x: Number, _ y: Number) throws(TemplateError) -> Value {
        if case .int(let i) = x, case .int(let j) = y {
            switch op {
            case .add: return try overflowChecked(i.addingReportingOverflow(j))
            case .subtract: return try overflowChecked(i.subtractingReportingOverflow(j))
            case .multiply: return try overflowChecked(i.multipliedReportingOverflow(by: j))
            case .divide:
                guard j != 0 else { throw .runtime("division by zero") }
                return .double(Double(i) / Double(j))
            case .floorDivide, .modulo:
                guard j != 0 else { throw .runtime("integer division or modulo by zero") }
                guard !(i == .min && j == -1) else { throw .runtime("integer overflow") }
                var q = i / j
                var r = i % j
                if r != 0 && ((r < 0) != (j < 0)) { q -= 1; r += j }
                return .int(op == .floorDivide ? q : r)
            case .power:
                if j < 0 {
                    guard i != 0 else { throw .runtime("0.0 cannot be raised to a negative power") }
                    return .double(pow(Double(i), Double(j)))
                }
                var result = 1
                var base = i
                var e = j
                while e > 0 {
                    if e & 1 == 1 { result = try overflowInt(result.multipliedReportingOverflow(by: base)) }
                    e >>= 1
                    if e > 0 { base = try overflowInt(base.multipliedReportingOverflow(by: base)) }
                }
                return .int(result)
            }
        }
        let a = x.double
        let b = y.double
        switch op {
        case .add: return .double(a + b)
        case .subtract: return .double(a - b)
        case .multiply: return .double(a * b)
        case .divide:
            guard b != 0 else { throw .runtime("float division by zero") }
            return .double(a / b)
        case .floorDivide, .modulo:
            guard b != 0 else { throw .runtime("float modulo") }
            // CPython's float_divmod.
            var mod = fmod(a, b)
            var div = (a - mod) / b
            if mod != 0 {
                if (b < 0) != (mod < 0) { mod += b; div -= 1 }
            } else {
                mod = b < 0 ? -0.0 : 0.0
            }
            var floorDiv: Double
            if div != 0 {
                floorDiv = div.rounded(.down)
                if div - floorDiv > 0.5 { floorDiv += 1 }
            } else {
                floorDiv = (a / b) < 0 ? -0.0 : 0.0
            }
            return .double(op == .floorDivide ? floorDiv : mod)
        case .power:
            if a == 0 && b < 0 { throw .runtime("0.0 cannot be raised to a negative power") }
            if a < 0 && b != b.rounded() { throw .runtime("a negative number raised to a fractional power is complex") }
            return .double(pow(a, b))
        }
    }

    private static func overflowChecked(_ r: (partialValue: Int, overflow: Bool)) throws(TemplateError) -> Value {
        .int(try overflowInt(r))
    }

    private static func overflowInt(_ r: (partialValue: Int, overflow: Bool)) throws(TemplateError) -> Int {
        guard !r.overflow else { throw .runtime("integer overflow") }
        return r.partialValue
    }
}
