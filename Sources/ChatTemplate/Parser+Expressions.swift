/// Expressions, by jinja2's precedence (lowest first): conditional `a if b else c`, `or`, `and`,
/// `not`, comparisons and `in`, `+ -`, `~`, `* / // %`, `**` (left-associative, as in jinja2),
/// unary `- +`, then primaries with `.attr`, `[item]`, calls, `| filters` and `is tests`.
extension Parser {
    static let filterNames: Set<String> = [
        "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape",
        "filesizeformat", "first", "float", "forceescape", "format", "groupby", "indent", "int", "items", "join",
        "last", "length", "list", "lower", "map", "max", "min", "pprint", "random", "reject", "rejectattr",
        "replace", "reverse", "round", "safe", "select", "selectattr", "slice", "sort", "string", "striptags",
        "sum", "title", "tojson", "trim", "truncate", "unique", "upper", "urlencode", "urlize", "wordcount",
        "wordwrap", "xmlattr",
    ]
    static let testNames: Set<String> = [
        "!=", "<", "<=", "==", ">", ">=", "boolean", "callable", "defined", "divisibleby", "eq", "equalto",
        "escaped", "even", "false", "filter", "float", "ge", "greaterthan", "gt", "in", "integer", "iterable",
        "le", "lessthan", "lower", "lt", "mapping", "ne", "none", "number", "odd", "sameas", "sequence",
        "string", "test", "true", "undefined", "upper",
    ]

    mutating func nest() throws(TemplateError) {
        depth += 1
        if depth > Parser.maxDepth { throw fail("expression nested too deeply") }
    }

    /// Expressions separated by commas make a tuple (`{{ a, b }}`, `{% set x = 1, 2 %}`).
    mutating func parseTuple(withCondition: Bool = true, endNames: Set<String> = [], explicitParentheses: Bool = false) throws(TemplateError) -> Expr {
        var items: [Expr] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if isTupleEnd(endNames) { break }
            items.append(withCondition ? try parseExpression() : try parseOr())
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let only = items.first { return only }
            if !explicitParentheses { throw fail("Expected an expression, got '\(describe(current))'") }
        }
        return .tuple(items)
    }

    mutating func parseExpression() throws(TemplateError) -> Expr {
        try nest()
        defer { depth -= 1 }
        var e = try parseOr()
        while skipName("if") {
            softDepth += 1
            defer { softDepth -= 1 }
            let test = try parseOr()
            let otherwise: Expr? = skipName("else") ? try parseExpression() : nil
            e = .conditional(test: test, then: e, otherwise: otherwise)
        }
        return e
    }

    mutating func parseOr() throws(TemplateError) -> Expr {
        var left = try parseAnd()
        while skipName("or") { left = .or(left, try parseAnd()) }
        return left
    }

    mutating func parseAnd() throws(TemplateError) -> Expr {
        var left = try parseNot()
        while skipName("and") { left = .and(left, try parseNot()) }
        return left
    }

    mutating func parseNot() throws(TemplateError) -> Expr {
        if skipName("not") {
            try nest()
            defer { depth -= 1 }
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    mutating func parseCompare() throws(TemplateError) -> Expr {
        let first = try parseMath1()
        var ops: [(CompareOperator, Expr)] = []
        while true {
            let op: CompareOperator
            if case .op(let o) = current.kind, let c = [
                "==": CompareOperator.eq, "!=": .ne, "<": .lt, "<=": .le, ">": .gt, ">=": .ge,
            ][o] {
                op = c
                advance()
            } else if skipName("in") {
                op = .in
            } else if isName("not") && isName("in", peek()) {
                advance(); advance()
                op = .notIn
            } else {
                break
            }
            ops.append((op, try parseMath1()))
        }
        return ops.isEmpty ? first : .compare(first, ops)
    }

    mutating func parseMath1() throws(TemplateError) -> Expr {
        var left = try parseConcat()
        while true {
            if skipOp("+") { left = .binary(.add, left, try parseConcat()) }
            else if skipOp("-") { left = .binary(.subtract, left, try parseConcat()) }
            else { return left }
        }
    }

    mutating func parseConcat() throws(TemplateError) -> Expr {
        var items = [try parseMath2()]
        while skipOp("~") { items.append(try parseMath2()) }
        return items.count == 1 ? items[0] : .concat(items)
    }

    mutating func parseMath2() throws(TemplateError) -> Expr {
        var left = try parsePow()
        while true {
            let op: BinaryOperator
            if skipOp("*") { op = .multiply }
            else if skipOp("/") { op = .divide }
            else if skipOp("//") { op = .floorDivide }
            else if skipOp("%") { op = .modulo }
            else { return left }
            left = .binary(op, left, try parsePow())
        }
    }

    mutating func parsePow() throws(TemplateError) -> Expr {
        var left = try parseUnary()
        while skipOp("**") { left = .binary(.power, left, try parseUnary()) }
        return left
    }

    mutating func parseUnary(withFilter: Bool = true) throws(TemplateError) -> Expr {
        try nest()
        defer { depth -= 1 }
        var e: Expr
        if skipOp("-") { e = .negate(try parseUnary(withFilter: false)) }
        else if skipOp("+") { e = .plus(try parseUnary(withFilter: false)) }
        else { e = try parsePrimary() }
        e = try parsePostfix(e)
        if withFilter { e = try parseFilterExpression(e) }
        return e
    }

    mutating func parsePrimary() throws(TemplateError) -> Expr {
        let token = current
        switch token.kind {
        case .name(let n):
            advance()
            switch n {
            case "true", "True": return .constant(.bool(true))
            case "false", "False": return .constant(.bool(false))
            case "none", "None": return .constant(.none)
            default:
                for k in macroNames.indices { macroNames[k].insert(n) }
                return .name(n)
            }
        case .string(var s):
            advance()
            while case .string(let more) = current.kind { s += more; advance() }   // adjacent literals join
            return .constant(.string(s))
        case .integer(let i): advance(); return .constant(.int(i))
        case .float(let d): advance(); return .constant(.double(d))
        case .op("("):
            advance()
            let e = try parseTuple(explicitParentheses: true)
            try expectOp(")")
            return e
        case .op("["):
            advance()
            var items: [Expr] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return .list(items)
        case .op("{"):
            advance()
            var pairs: [(Expr, Expr)] = []
            while !isOp("}") {
                if !pairs.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let key = try parseExpression()
                try expectOp(":")
                pairs.append((key, try parseExpression()))
            }
            try expectOp("}")
            return .dict(pairs)
        default:
            throw fail("unexpected '\(describe(token))'")
        }
    }

    mutating func parsePostfix(_ base: Expr) throws(TemplateError) -> Expr {
        var e = base
        while true {
            if isOp(".") || isOp("[") { e = try parseSubscript(e) }
            else if isOp("(") { e = .call(e, try parseCallArguments()) }
            else { return e }
        }
    }

    mutating func parseFilterExpression(_ base: Expr) throws(TemplateError) -> Expr {
        var e = base
        while true {
            if isOp("|") {
                if let f = try parseFilter(e) { e = f }
            } else if isName("is") {
                e = try parseTest(e)
            } else if isOp("(") {
                e = .call(e, try parseCallArguments())
            } else {
                return e
            }
        }
    }

    mutating func parseSubscript(_ base: Expr) throws(TemplateError) -> Expr {
        if skipOp(".") {
            let token = current
            advance()
            switch token.kind {
            case .name(let n): return .attribute(base, n)
            case .integer(let i): return .item(base, .constant(.int(i)))
            default: throw fail("expected name or number", line: token.line)
            }
        }
        try expectOp("[")
        var args: [Expr] = []
        while !isOp("]") {
            if !args.isEmpty { try expectOp(",") }
            args.append(try parseSubscribed())
        }
        try expectOp("]")
        if args.count == 1 {
            if case .slice(_, let start, let stop, let step) = args[0] { return .slice(base, start: start, stop: stop, step: step) }
            return .item(base, args[0])
        }
        return .item(base, .tuple(args))
    }

    /// One subscript: an expression or a slice `a:b:c` (returned as a slice of a placeholder).
    private mutating func parseSubscribed() throws(TemplateError) -> Expr {
        var start: Expr? = nil
        if !isOp(":") {
            let e = try parseExpression()
            if !isOp(":") { return e }
            start = e
        }
        advance()   // ':'
        var stop: Expr? = nil
        if !isOp(":") && !isOp("]") && !isOp(",") { stop = try parseExpression() }
        var step: Expr? = nil
        if skipOp(":") {
            if !isOp("]") && !isOp(",") { step = try parseExpression() }
        }
        return .slice(.constant(.none), start: start, stop: stop, step: step)
    }

    mutating func parseCallArguments() throws(TemplateError) -> Arguments {
        let line = current.line
        try expectOp("(")
        var args = Arguments()
        var requireComma = false
        while !isOp(")") {
            if requireComma {
                try expectOp(",")
                if isOp(")") { break }
            }
            if skipOp("*") {
                guard args.spread == nil, args.keywordSpread == nil else { throw fail("invalid syntax for function call expression", line: line) }
                args.spread = try parseExpression()
            } else if skipOp("**") {
                guard args.keywordSpread == nil else { throw fail("invalid syntax for function call expression", line: line) }
                args.keywordSpread = try parseExpression()
            } else if case .name(let key) = current.kind, isOp("=", peek()) {
                guard args.keywordSpread == nil else { throw fail("invalid syntax for function call expression", line: line) }
                advance(); advance()
                args.keywords.append((key, try parseExpression()))
            } else {
                guard args.spread == nil, args.keywordSpread == nil, args.keywords.isEmpty else {
                    throw fail("invalid syntax for function call expression", line: line)
                }
                args.positional.append(try parseExpression())
            }
            requireComma = true
        }
        try expectOp(")")
        return args
    }

    /// `| name(args) | name ...`; with `startInline`, the first filter has no `|` (`{% filter upper %}`).
    mutating func parseFilter(_ base: Expr?, startInline: Bool = false) throws(TemplateError) -> Expr? {
        var e = base
        var inline = startInline
        while isOp("|") || inline {
            if !inline { advance() }
            let line = current.line
            var name = try expectName()
            while skipOp(".") { name += "." + (try expectName()) }
            if !Parser.filterNames.contains(name) && softDepth == 0 { throw fail("No filter named '\(name)'.", line: line) }
            let args = isOp("(") ? try parseCallArguments() : Arguments()
            e = .filter(e, name, args, line: line)
            inline = false
        }
        return e
    }

    mutating func parseTest(_ base: Expr) throws(TemplateError) -> Expr {
        let line = current.line
        advance()   // 'is'
        let negated = skipName("not")
        var name = try expectName()
        while skipOp(".") { name += "." + (try expectName()) }
        if !Parser.testNames.contains(name) && softDepth == 0 { throw fail("No test named '\(name)'.", line: line) }
        var args = Arguments()
        if isOp("(") {
            args = try parseCallArguments()
        } else {
            var startsArgument = false
            switch current.kind {
            case .name(let n): startsArgument = !["else", "or", "and"].contains(n)
            case .string, .integer, .float, .op("("), .op("["), .op("{"): startsArgument = true
            default: break
            }
            if startsArgument {
                if isName("is") { throw fail("You cannot chain multiple tests with is") }
                args.positional = [try parsePostfix(try parsePrimary())]
            }
        }
        let test = Expr.test(base, name, args, line: line)
        return negated ? .not(test) : test
    }
}
