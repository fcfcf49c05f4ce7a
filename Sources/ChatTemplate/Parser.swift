/// Statements: jinja2's `Parser.subparse` and the `parse_*` tag methods, for the tags chat
/// templates use. Expressions are in Parser+Expressions.swift.
struct Parser {
    var tokens: [Token]
    var p = 0
    /// Open `for` loops in the current macro body (break/continue outside one is an error).
    var loopDepth = 0
    /// Inside an `if` or a conditional expression, jinja2 reports an unknown filter or test only
    /// when it runs; elsewhere when the template is compiled.
    var softDepth = 0
    /// Expression nesting, bounded so a pathological template cannot overflow the stack.
    var depth = 0
    static let maxDepth = 200
    /// Names read inside each macro body being parsed (for `varargs` / `kwargs`).
    var macroNames: [Set<String>] = []

    static func parse(_ source: String) throws(TemplateError) -> [Statement] {
        var parser = Parser(tokens: try Lexer.tokenize(source))
        let body = try parser.subparse(until: [])
        if case .eof = parser.current.kind { return body }
        throw parser.fail("unexpected '\(parser.describe(parser.current))'")
    }

    var current: Token { tokens[min(p, tokens.count - 1)] }
    func peek(_ n: Int = 1) -> Token { tokens[min(p + n, tokens.count - 1)] }
    mutating func advance() { if p < tokens.count - 1 { p += 1 } }

    func fail(_ message: String, line: Int? = nil) -> TemplateError {
        TemplateError(.syntax, message, line: line ?? current.line)
    }

    func describe(_ t: Token) -> String {
        switch t.kind {
        case .data: "template data"
        case .variableBegin: "begin of print statement"
        case .variableEnd: "end of print statement"
        case .blockBegin: "begin of statement block"
        case .blockEnd: "end of statement block"
        case .name(let n): n
        case .string(let s): s
        case .integer(let i): String(i)
        case .float(let d): PythonText.float(d)
        case .op(let o): o
        case .eof: "end of template"
        }
    }

    func isName(_ name: String, _ t: Token? = nil) -> Bool {
        if case .name(let n) = (t ?? current).kind { return n == name }
        return false
    }

    func isOp(_ op: String, _ t: Token? = nil) -> Bool {
        if case .op(let o) = (t ?? current).kind { return o == op }
        return false
    }

    mutating func skipName(_ name: String) -> Bool {
        if isName(name) { advance(); return true }
        return false
    }

    mutating func skipOp(_ op: String) -> Bool {
        if isOp(op) { advance(); return true }
        return false
    }

    mutating func expectOp(_ op: String) throws(TemplateError) {
        guard skipOp(op) else { throw fail("expected token '\(op)', got '\(describe(current))'") }
    }

    mutating func expectName() throws(TemplateError) -> String {
        guard case .name(let n) = current.kind else { throw fail("expected name, got '\(describe(current))'") }
        advance()
        return n
    }

    mutating func expectBlockEnd() throws(TemplateError) {
        guard case .blockEnd = current.kind else { throw fail("expected token 'end of statement block', got '\(describe(current))'") }
        advance()
    }

    /// Statements until a block tag named in `endTags` (left as the current token), or the end.
    mutating func subparse(until endTags: Set<String>) throws(TemplateError) -> [Statement] {
        var body: [Statement] = []
        while true {
            let token = current
            switch token.kind {
            case .data(let text):
                body.append(Statement(kind: .text(text), line: token.line))
                advance()
            case .variableBegin:
                advance()
                let e = try parseTuple()
                guard case .variableEnd = current.kind else { throw fail("expected token 'end of print statement', got '\(describe(current))'") }
                advance()
                body.append(Statement(kind: .output(e), line: token.line))
            case .blockBegin:
                advance()
                if case .name(let n) = current.kind, endTags.contains(n) { return body }
                body.append(try parseStatement())
                try expectBlockEnd()
            case .eof:
                if !endTags.isEmpty {
                    throw fail("Unexpected end of template. Jinja was looking for the following tags: "
                               + endTags.sorted().map { "'\($0)'" }.joined(separator: " or ") + ".")
                }
                return body
            default:
                throw fail("unexpected '\(describe(token))'")
            }
        }
    }

    /// `: %}` then statements up to one of `endTags`; the end tag's name is the current token.
    mutating func parseBody(until endTags: Set<String>) throws(TemplateError) -> [Statement] {
        _ = skipOp(":")
        try expectBlockEnd()
        let body = try subparse(until: endTags)
        if case .eof = current.kind { throw fail("unexpected end of template") }
        return body
    }

    mutating func parseStatement() throws(TemplateError) -> Statement {
        let line = current.line
        guard case .name(let tag) = current.kind else { throw fail("tag name expected") }
        switch tag {
        case "if": return Statement(kind: try parseIf(), line: line)
        case "for": return Statement(kind: try parseFor(), line: line)
        case "set": return Statement(kind: try parseSet(), line: line)
        case "macro": return Statement(kind: try parseMacro(), line: line)
        case "with": return Statement(kind: try parseWith(), line: line)
        case "filter":
            advance()
            guard let filter = try parseFilter(nil, startInline: true) else { throw fail("expected a filter") }
            let body = try parseBody(until: ["endfilter"])
            advance()
            return Statement(kind: .filterBlock(filter, body: body), line: line)
        case "generation":
            advance()
            let body = try parseBody(until: ["endgeneration"])
            advance()
            return Statement(kind: .block(body), line: line)
        case "break", "continue":
            guard loopDepth > 0 else { throw fail("'\(tag)' outside of a loop") }
            advance()
            return Statement(kind: tag == "break" ? .breakLoop : .continueLoop, line: line)
        case "call": return Statement(kind: try parseCallBlock(), line: line)
        case "block", "extends", "include", "import", "from", "autoescape", "do", "raw", "endraw":
            throw fail("the '\(tag)' tag is not supported")
        default:
            throw fail("Encountered unknown tag '\(tag)'.")
        }
    }

    mutating func parseIf() throws(TemplateError) -> Statement.Kind {
        advance()
        softDepth += 1
        defer { softDepth -= 1 }
        var branches: [(Expr, [Statement])] = []
        var otherwise: [Statement] = []
        while true {
            let test = try parseTuple(withCondition: false)
            let body = try parseBody(until: ["elif", "else", "endif"])
            branches.append((test, body))
            let tag = try expectName()
            if tag == "elif" { continue }
            if tag == "else" {
                otherwise = try parseBody(until: ["endif"])
                advance()
            }
            break
        }
        return .ifChain(branches, otherwise: otherwise)
    }

    mutating func parseFor() throws(TemplateError) -> Statement.Kind {
        advance()
        let target = try parseAssignTarget(endNames: ["in"])
        guard skipName("in") else { throw fail("expected token 'in', got '\(describe(current))'") }
        let iterable = try parseTuple(withCondition: false, endNames: ["recursive"])
        var filter: Expr? = nil
        if skipName("if") { filter = try parseExpression() }
        if isName("recursive") { throw fail("recursive for loops are not supported") }
        loopDepth += 1
        let body = try parseBody(until: ["endfor", "else"])
        loopDepth -= 1
        var otherwise: [Statement] = []
        if try expectName() == "else" {
            otherwise = try parseBody(until: ["endfor"])
            advance()
        }
        return .forLoop(target: target, iterable: iterable, filter: filter, body: body, otherwise: otherwise)
    }

    mutating func parseSet() throws(TemplateError) -> Statement.Kind {
        advance()
        let target = try parseAssignTarget(withNamespace: true)
        if skipOp("=") { return .set(target, try parseTuple()) }
        let filter = try parseFilter(nil)
        let body = try parseBody(until: ["endset"])
        advance()
        return .setBlock(target, filter: filter, body: body)
    }

    mutating func parseWith() throws(TemplateError) -> Statement.Kind {
        advance()
        var assignments: [(Target, Expr)] = []
        while !isBlockEnd {
            if !assignments.isEmpty { try expectOp(",") }
            let target = try parseAssignTarget()
            try expectOp("=")
            assignments.append((target, try parseExpression()))
        }
        let body = try parseBody(until: ["endwith"])
        advance()
        return .with(assignments, body: body)
    }

    var isBlockEnd: Bool { if case .blockEnd = current.kind { true } else { false } }

    mutating func parseMacro() throws(TemplateError) -> Statement.Kind {
        advance()
        let name = try expectName()
        let (parameters, defaults) = try parseSignature()
        return .macro(try parseMacroBody(name: name, parameters: parameters, defaults: defaults, endTag: "endmacro"))
    }

    mutating func parseCallBlock() throws(TemplateError) -> Statement.Kind {
        advance()
        var signature: ([String], [Expr]) = ([], [])
        if isOp("(") { signature = try parseSignature() }
        let call = try parseExpression()
        guard case .call = call else { throw fail("expected call") }
        let caller = try parseMacroBody(name: "caller", parameters: signature.0, defaults: signature.1, endTag: "endcall")
        return .callBlock(call, caller: caller)
    }

    /// `(a, b=1, ...)`
    private mutating func parseSignature() throws(TemplateError) -> ([String], [Expr]) {
        try expectOp("(")
        var parameters: [String] = []
        var defaults: [Expr] = []
        while !isOp(")") {
            if !parameters.isEmpty { try expectOp(",") }
            let parameter = try expectName()
            if skipOp("=") { defaults.append(try parseExpression()) }
            else if !defaults.isEmpty { throw fail("non-default argument follows default argument") }
            parameters.append(parameter)
        }
        try expectOp(")")
        return (parameters, defaults)
    }

    private mutating func parseMacroBody(name: String, parameters: [String], defaults: [Expr], endTag: String) throws(TemplateError) -> MacroDefinition {
        let savedLoops = loopDepth
        loopDepth = 0
        macroNames.append([])
        let body = try parseBody(until: [endTag])
        let names = macroNames.removeLast()
        loopDepth = savedLoops
        advance()
        return MacroDefinition(name: name, parameters: parameters, defaults: defaults, body: body,
                               takesVarargs: names.contains("varargs"), takesKwargs: names.contains("kwargs"),
                               takesCaller: names.contains("caller"))
    }

    /// A name, `ns.attr` (with `withNamespace`), or names separated by commas.
    mutating func parseAssignTarget(withNamespace: Bool = false, endNames: Set<String> = []) throws(TemplateError) -> Target {
        var targets: [Target] = []
        var isTuple = false
        while true {
            if !targets.isEmpty { try expectOp(",") }
            if isTupleEnd(endNames) { break }
            targets.append(try parseTargetPrimary(withNamespace: withNamespace))
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple, let only = targets.first { return only }
        if targets.isEmpty { throw fail("expected an assignment target, got '\(describe(current))'") }
        return .tuple(targets)
    }

    private mutating func parseTargetPrimary(withNamespace: Bool) throws(TemplateError) -> Target {
        if skipOp("(") {
            let inner = try parseAssignTarget(withNamespace: withNamespace)
            try expectOp(")")
            return inner
        }
        guard case .name(let name) = current.kind else { throw fail("can't assign to '\(describe(current))'") }
        if ["true", "false", "none", "True", "False", "None"].contains(name) { throw fail("can't assign to const") }
        advance()
        if withNamespace && isOp(".") {
            advance()
            return .namespaceAttribute(name, try expectName())
        }
        return .name(name)
    }

    func isTupleEnd(_ endNames: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd: return true
        case .op(")"): return true
        case .name(let n): return endNames.contains(n)
        default: return false
        }
    }
}
