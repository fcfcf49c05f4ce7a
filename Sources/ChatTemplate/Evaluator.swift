/// Expression evaluation.
extension Renderer {
    func eval(_ e: Expr, _ scope: Scope) throws(TemplateError) -> Value {
        switch e {
        case .constant(let c):
            switch c {
            case .none: return .none
            case .bool(let b): return .bool(b)
            case .int(let i): return .int(i)
            case .double(let d): return .double(d)
            case .string(let s): return .string(s)
            }
        case .name(let name):
            return scope.lookup(name) ?? Globals.lookup(name) ?? .undefinedName(name)
        case .list(let items):
            return .list(try evalAll(items, scope))
        case .tuple(let items):
            return .tuple(try evalAll(items, scope))
        case .dict(let pairs):
            var d = Dict()
            for (k, v) in pairs {
                let key = try eval(k, scope)
                guard HashKey(key) != nil else { throw .runtime("unhashable type: '\(key.typeName)'") }
                d[key] = try eval(v, scope)
            }
            return .dict(d)
        case .attribute(let base, let name):
            return try Access.attribute(try eval(base, scope), name)
        case .item(let base, let key):
            return try Access.item(try eval(base, scope), try eval(key, scope))
        case .slice(let base, let start, let stop, let step):
            let value = try eval(base, scope)
            if case .undefined(let hint) = value { throw .runtime(hint) }
            return try Access.slice(value, start: try start.map { (x) throws(TemplateError) in try eval(x, scope) },
                                    stop: try stop.map { (x) throws(TemplateError) in try eval(x, scope) },
                                    step: try step.map { (x) throws(TemplateError) in try eval(x, scope) })
        case .call(let callee, let arguments):
            let f = try eval(callee, scope)
            let (args, kwargs) = try evalArguments(arguments, scope)
            return try call(f, args, kwargs)
        case .filter(let base, let name, let arguments, _):
            guard let base else { throw .runtime("filter without a value") }
            let value = try eval(base, scope)
            let (args, kwargs) = try evalArguments(arguments, scope)
            return try checked(try applyFilter(name, value, args, kwargs))
        case .test(let base, let name, let arguments, _):
            let value = try eval(base, scope)
            let (args, kwargs) = try evalArguments(arguments, scope)
            return .bool(try applyTest(name, value, args, kwargs))
        case .negate(let x):
            return try Operators.negate(try eval(x, scope))
        case .plus(let x):
            let v = try eval(x, scope)
            switch v {
            case .int, .double: return v
            case .bool(let b): return .int(b ? 1 : 0)
            case .undefined(let hint): throw .runtime(hint)
            default: throw .runtime("bad operand type for unary +: '\(v.typeName)'")
            }
        case .not(let x):
            return .bool(!(try eval(x, scope).truthy))
        case .and(let a, let b):
            let left = try eval(a, scope)
            return left.truthy ? try eval(b, scope) : left
        case .or(let a, let b):
            let left = try eval(a, scope)
            return left.truthy ? left : try eval(b, scope)
        case .binary(let op, let a, let b):
            return try checked(try Operators.binary(op, try eval(a, scope), try eval(b, scope), limits: limits))
        case .compare(let first, let rest):
            var left = try eval(first, scope)
            for (op, e) in rest {
                let right = try eval(e, scope)
                if !(try Operators.compare(op, left, right)) { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .concat(let items):
            var s = ""
            for item in items { s += try PythonText.str(try eval(item, scope)) }
            return try checked(.string(s))
        case .conditional(let test, let then, let otherwise):
            if try eval(test, scope).truthy { return try eval(then, scope) }
            return try otherwise.map { (x) throws(TemplateError) in try eval(x, scope) } ?? .undefined(hint: "the inline if-expression evaluated to false and no else section was defined.")
        }
    }

    func evalAll(_ items: [Expr], _ scope: Scope) throws(TemplateError) -> [Value] {
        var out: [Value] = []
        out.reserveCapacity(items.count)
        for item in items { out.append(try eval(item, scope)) }
        return out
    }

    func evalArguments(_ a: Arguments, _ scope: Scope) throws(TemplateError) -> ([Value], [(String, Value)]) {
        var args = try evalAll(a.positional, scope)
        var kwargs: [(String, Value)] = []
        for (k, e) in a.keywords { kwargs.append((k, try eval(e, scope))) }
        if let spread = a.spread { args += try iterate(try eval(spread, scope)) }
        if let spread = a.keywordSpread {
            guard case .dict(let d) = try eval(spread, scope) else { throw .runtime("argument after ** must be a mapping") }
            for (k, v) in d.pairs {
                guard case .string(let key) = k else { throw .runtime("keywords must be strings") }
                kwargs.append((key, v))
            }
        }
        return (args, kwargs)
    }

    /// A filter chain over a value (`{% filter %}` and `{% set x | f %}` blocks).
    func applyFilterChain(_ e: Expr, to value: Value, _ scope: Scope) throws(TemplateError) -> Value {
        guard case .filter(let base, let name, let arguments, _) = e else { return try eval(e, scope) }
        let input = try base.map { (b) throws(TemplateError) in try applyFilterChain(b, to: value, scope) } ?? value
        let (args, kwargs) = try evalArguments(arguments, scope)
        return try checked(try applyFilter(name, input, args, kwargs))
    }

    /// Strings and lists a template builds stay within the limits.
    func checked(_ v: Value) throws(TemplateError) -> Value {
        switch v {
        case .string(let s) where s.utf8.count > limits.maxOutputBytes:
            throw TemplateError(.limit, "a string exceeds the limit of \(limits.maxOutputBytes) bytes")
        case .list(let a) where a.count > limits.maxListLength, .tuple(let a) where a.count > limits.maxListLength:
            throw TemplateError(.limit, "a list exceeds the limit of \(limits.maxListLength) items")
        default:
            return v
        }
    }

    func call(_ f: Value, _ args: [Value], _ kwargs: [(String, Value)]) throws(TemplateError) -> Value {
        switch f {
        case .callable(let c):
            switch c {
            case .macro(let m): return try callMacro(m, args, kwargs)
            case .global(let name): return try checked(try Globals.call(name, args, kwargs, self))
            case .method(let receiver, let name): return try checked(try Methods.call(receiver, name, args, kwargs, self))
            case .unsafe(let receiver, let name): throw .runtime("access to attribute '\(name)' of '\(receiver)' object is unsafe.")
            }
        case .undefined(let hint): throw .runtime(hint)
        default: throw .runtime("'\(f.typeName)' object is not callable")
        }
    }

    /// The items of an iterable, as a `for` loop sees them: a string's characters, a dict's keys.
    func iterate(_ v: Value) throws(TemplateError) -> [Value] {
        let items: [Value]
        switch v {
        case .undefined: return []
        case .list(let a), .tuple(let a): items = a
        case .string(let s): items = s.unicodeScalars.map { .string(String($0)) }
        case .dict(let d): items = d.keys
        case .iterator(let it): items = it.drain()
        case .namespace, .none, .bool, .int, .double, .callable, .loop:
            throw .runtime("'\(v.typeName)' object is not iterable")
        }
        return items
    }
}
