/// jinja2's builtin tests (`x is defined`, `x is string`, `n is divisibleby 3`, ...).
extension Renderer {
    func applyTest(_ name: String, _ v: Value, _ args: [Value], _ kwargs: [(String, Value)]) throws(TemplateError) -> Bool {
        func other() throws(TemplateError) -> Value {
            let b = try CallArguments(name, args, kwargs, ["other"], required: 1)
            return b[0] ?? .none
        }
        func noArguments() throws(TemplateError) { _ = try CallArguments(name, args, kwargs, []) }
        switch name {
        case "defined": try noArguments(); return !v.isUndefined
        case "undefined": try noArguments(); return v.isUndefined
        case "none": try noArguments(); return v.isNone
        case "boolean": try noArguments(); if case .bool = v { return true }; return false
        case "true": try noArguments(); if case .bool(true) = v { return true }; return false
        case "false": try noArguments(); if case .bool(false) = v { return true }; return false
        case "integer": try noArguments(); if case .int = v { return true }; return false
        case "float": try noArguments(); if case .double = v { return true }; return false
        case "number": try noArguments(); return Operators.number(v) != nil
        case "string": try noArguments(); if case .string = v { return true }; return false
        case "mapping": try noArguments(); if case .dict = v { return true }; return false
        case "iterable":
            try noArguments()
            switch v {
            case .string, .list, .tuple, .dict, .iterator, .undefined, .loop: return true
            default: return false
            }
        case "sequence":
            try noArguments()
            switch v {
            case .string, .list, .tuple, .dict, .undefined: return true
            default: return false
            }
        case "callable":
            try noArguments()
            switch v {
            case .callable(let c): if case .unsafe = c { return false }; return true
            case .loop: return true
            default: return false
            }
        case "escaped": try noArguments(); return false
        case "lower", "upper":
            try noArguments()
            let c = StringOps.isCased(try PythonText.str(v))
            return c.hasCased && (name == "lower" ? c.allLower : c.allUpper)
        case "odd", "even":
            try noArguments()
            guard let n = Operators.number(v) else { throw .runtime("unsupported operand type(s) for %: '\(v.typeName)' and 'int'") }
            let r = try Operators.arithmetic(.modulo, n, .int(2))
            let isOne: Bool
            switch r {
            case .int(let i): isOne = i == 1
            case .double(let d): isOne = d == 1
            default: isOne = false
            }
            return name == "odd" ? isOne : !isOne && pyEqual(r, .int(0))
        case "divisibleby":
            let d = try other()
            guard let x = Operators.number(v), let y = Operators.number(d) else {
                throw .runtime("unsupported operand type(s) for %: '\(v.typeName)' and '\(d.typeName)'")
            }
            return pyEqual(try Operators.arithmetic(.modulo, x, y), .int(0))
        case "eq", "equalto", "==": return pyEqual(v, try other())
        case "ne", "!=": return !pyEqual(v, try other())
        case "lt", "lessthan", "<": return try Operators.compare(.lt, v, try other())
        case "le", "<=": return try Operators.compare(.le, v, try other())
        case "gt", "greaterthan", ">": return try Operators.compare(.gt, v, try other())
        case "ge", ">=": return try Operators.compare(.ge, v, try other())
        case "in": return try Operators.contains(try other(), v)
        case "sameas":
            let o = try other()
            switch (v, o) {
            case (.none, .none): return true
            case let (.bool(a), .bool(b)): return a == b
            case let (.int(a), .int(b)): return a == b && (-5...256).contains(a)
            case let (.namespace(a), .namespace(b)): return a === b
            default: return false
            }
        case "filter", "test":
            try noArguments()
            guard case .string(let n) = v else { return false }
            return name == "filter" ? Parser.filterNames.contains(n) : Parser.testNames.contains(n)
        default:
            throw .runtime("No test named '\(name)'.")
        }
    }
}
