/// One token of a template, with the 1-based line it starts on.
struct Token {
    enum Kind: Equatable {
        case data(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case op(String)
        case eof
    }
    let kind: Kind
    let line: Int
}

/// Splits a template into text and tag tokens the way jinja2's lexer does with
/// `trim_blocks=True, lstrip_blocks=True`:
/// - `\r\n` and `\r` read as `\n`, and one trailing newline of the source is dropped;
/// - `{%- ` / `{{-` / `{#-` strip all whitespace before the tag, ` -%}` / ` -}}` / ` -#}` all after it;
/// - trim_blocks: a newline right after `%}` or `#}` is dropped;
/// - lstrip_blocks: spaces and tabs from the start of a line up to `{%` or `{#` are dropped
///   (not before `{{`, and not for `{%+`);
/// - comments vanish, `{% raw %}...{% endraw %}` is text.
struct Lexer {
    private let s: [Unicode.Scalar]
    private var i = 0
    private var line = 1
    private var tokens: [Token] = []
    /// Whether the last match ended with a newline (jinja2's `line_starting`), for lstrip_blocks.
    private var lineStarting = true

    static func tokenize(_ source: String) throws(TemplateError) -> [Token] {
        var lexer = Lexer(normalized: source)
        try lexer.run()
        return lexer.tokens
    }

    private init(normalized source: String) {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(source.utf8.count)
        var previousCR = false
        for c in source.unicodeScalars {
            if c == "\r" { scalars.append("\n"); previousCR = true; continue }
            if c == "\n" && previousCR { previousCR = false; continue }
            previousCR = false
            scalars.append(c)
        }
        if scalars.last == "\n" { scalars.removeLast() }
        s = scalars
    }

    private func fail(_ message: String) -> TemplateError { TemplateError(.syntax, message, line: line) }

    private func at(_ p: Int) -> Unicode.Scalar? { p < s.count ? s[p] : nil }

    private func matches(_ text: String, at p: Int) -> Bool {
        var q = p
        for c in text.unicodeScalars {
            guard q < s.count, s[q] == c else { return false }
            q += 1
        }
        return true
    }

    private func countNewlines(_ range: Range<Int>) -> Int { s[range].reduce(0) { $0 + ($1 == "\n" ? 1 : 0) } }

    private mutating func emitData(_ range: Range<Int>) {
        if !range.isEmpty {
            var text = ""
            text.unicodeScalars.append(contentsOf: s[range])
            tokens.append(Token(kind: .data(text), line: line))
        }
    }

    /// The text before a tag, after the tag's whitespace control (`sign`) or lstrip_blocks.
    private func strippedText(_ start: Int, _ end: Int, sign: Unicode.Scalar?, isBlockOrComment: Bool) -> Range<Int> {
        if sign == "-" {
            var e = end
            while e > start && isPythonSpace(s[e - 1]) { e -= 1 }
            return start..<e
        }
        if sign != "+" && isBlockOrComment {
            var lineStart = end
            while lineStart > start && s[lineStart - 1] != "\n" { lineStart -= 1 }
            if lineStart > start || lineStarting {
                if lineStart < end && s[lineStart..<end].allSatisfy(isPythonSpace) { return start..<lineStart }
            }
        }
        return start..<end
    }

    private mutating func run() throws(TemplateError) {
        while i < s.count {
            // The next tag opener.
            var p = i
            while p + 1 < s.count && !(s[p] == "{" && (s[p + 1] == "{" || s[p + 1] == "%" || s[p + 1] == "#")) { p += 1 }
            if p + 1 >= s.count {
                emitData(i..<s.count)
                line += countNewlines(i..<s.count)
                i = s.count
                break
            }
            let opener = s[p + 1]
            var afterOpener = p + 2
            var sign: Unicode.Scalar? = nil
            if let c = at(afterOpener), c == "-" || c == "+" { sign = c; afterOpener += 1 }
            if opener == "%", let rawEnd = rawBegin(at: afterOpener) {
                let text = strippedText(i, p, sign: sign, isBlockOrComment: true)
                emitData(text)
                line += countNewlines(i..<p)
                lineStarting = s[rawEnd - 1] == "\n"
                line += countNewlines(p..<rawEnd)
                i = rawEnd
                try lexRawBody()
                continue
            }
            let text = strippedText(i, p, sign: sign, isBlockOrComment: opener != "{")
            emitData(text)
            line += countNewlines(i..<p)
            lineStarting = false
            i = afterOpener
            switch opener {
            case "#": try lexComment()
            case "%":
                tokens.append(Token(kind: .blockBegin, line: line))
                try lexTag(block: true)
            default:
                tokens.append(Token(kind: .variableBegin, line: line))
                try lexTag(block: false)
            }
        }
        tokens.append(Token(kind: .eof, line: line))
    }

    /// After `{%` and its sign: `\s*raw\s*(-%}\s*|%})`; the end of the match, or nil.
    private func rawBegin(at start: Int) -> Int? {
        var p = start
        while let c = at(p), isPythonSpace(c) { p += 1 }
        guard matches("raw", at: p) else { return nil }
        p += 3
        while let c = at(p), isPythonSpace(c) { p += 1 }
        if matches("-%}", at: p) {
            p += 3
            while let c = at(p), isPythonSpace(c) { p += 1 }
            return p
        }
        return matches("%}", at: p) ? p + 2 : nil
    }

    /// Text up to `{% endraw %}`, which takes whitespace control and lstrip like any block tag.
    private mutating func lexRawBody() throws(TemplateError) {
        var p = i
        while p < s.count {
            if s[p] == "{" && at(p + 1) == "%" {
                var q = p + 2
                var sign: Unicode.Scalar? = nil
                if let c = at(q), c == "-" || c == "+" { sign = c; q += 1 }
                while let c = at(q), isPythonSpace(c) { q += 1 }
                if matches("endraw", at: q) {
                    q += 6
                    while let c = at(q), isPythonSpace(c) { q += 1 }
                    if let end = blockEnd(at: q) {
                        emitData(strippedText(i, p, sign: sign, isBlockOrComment: true))
                        line += countNewlines(i..<end)
                        lineStarting = s[end - 1] == "\n"
                        i = end
                        return
                    }
                }
            }
            p += 1
        }
        throw fail("Missing end of raw directive")
    }

    /// `+%}`, `-%}` and the whitespace after it, or `%}` and one newline (trim_blocks): the end, or nil.
    private func blockEnd(at p: Int) -> Int? {
        if matches("+%}", at: p) { return p + 3 }
        if matches("-%}", at: p) {
            var q = p + 3
            while let c = at(q), isPythonSpace(c) { q += 1 }
            return q
        }
        if matches("%}", at: p) { return at(p + 2) == "\n" ? p + 3 : p + 2 }
        return nil
    }

    private mutating func lexComment() throws(TemplateError) {
        var p = i
        while p < s.count {
            var end: Int? = nil
            if matches("+#}", at: p) { end = p + 3 }
            else if matches("-#}", at: p) {
                var q = p + 3
                while let c = at(q), isPythonSpace(c) { q += 1 }
                end = q
            } else if matches("#}", at: p) { end = at(p + 2) == "\n" ? p + 3 : p + 2 }
            if let end {
                line += countNewlines(i..<end)
                lineStarting = s[end - 1] == "\n"
                i = end
                return
            }
            p += 1
        }
        throw fail("Missing end of comment tag")
    }

    private static let twoCharOps: Set<String> = ["//", "**", "==", "!=", ">=", "<="]
    private static let oneCharOps: Set<Unicode.Scalar> = ["+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", "|", ",", ".", ":", ";", "=", "<", ">"]

    /// The tokens inside `{% %}` or `{{ }}`, through the closing delimiter. The closer counts only
    /// where brackets are balanced (`{{ {'a': 1} }}`).
    private mutating func lexTag(block: Bool) throws(TemplateError) {
        var brackets: [Unicode.Scalar] = []
        while true {
            guard i < s.count else { throw fail(block ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'") }
            if brackets.isEmpty {
                if block, let end = blockEnd(at: i) {
                    tokens.append(Token(kind: .blockEnd, line: line))
                    line += countNewlines(i..<end)
                    lineStarting = s[end - 1] == "\n"
                    i = end
                    return
                }
                if !block {
                    var end: Int? = nil
                    if matches("-}}", at: i) {
                        var q = i + 3
                        while let c = at(q), isPythonSpace(c) { q += 1 }
                        end = q
                    } else if matches("}}", at: i) { end = i + 2 }
                    if let end {
                        tokens.append(Token(kind: .variableEnd, line: line))
                        line += countNewlines(i..<end)
                        lineStarting = s[end - 1] == "\n"
                        i = end
                        return
                    }
                }
            }
            let c = s[i]
            if isPythonSpace(c) {
                if c == "\n" { line += 1 }
                i += 1
            } else if c.properties.numericType == .decimal && c.isASCII {
                try lexNumber()
            } else if c == "_" || (c.isASCII && c.properties.isAlphabetic) {
                let start = i
                while let d = at(i), d == "_" || (d.isASCII && (d.properties.isAlphabetic || d.properties.numericType == .decimal)) { i += 1 }
                var name = ""
                name.unicodeScalars.append(contentsOf: s[start..<i])
                tokens.append(Token(kind: .name(name), line: line))
            } else if c == "'" || c == "\"" {
                try lexString(quote: c)
            } else {
                var op = ""
                if let d = at(i + 1) {
                    op.unicodeScalars.append(c)
                    op.unicodeScalars.append(d)
                }
                if Lexer.twoCharOps.contains(op) {
                    i += 2
                } else if Lexer.oneCharOps.contains(c) {
                    op = String(Character(c))
                    i += 1
                } else {
                    throw fail("unexpected char '\(Character(c))'")
                }
                switch op {
                case "(", "[", "{": brackets.append(op == "(" ? ")" : op == "[" ? "]" : "}")
                case ")", "]", "}":
                    guard let expected = brackets.popLast() else { throw fail("unexpected '\(op)'") }
                    if String(Character(expected)) != op { throw fail("unexpected '\(op)', expected '\(Character(expected))'") }
                default: break
                }
                tokens.append(Token(kind: .op(op), line: line))
            }
        }
    }

    private func isDigit(_ p: Int) -> Bool { at(p).map { $0.value >= 0x30 && $0.value <= 0x39 } ?? false }

    /// Digits with optional single underscores between them; the end, or nil if none at `p`.
    private func digitRun(_ p: Int) -> Int? {
        guard isDigit(p) else { return nil }
        var q = p + 1
        while true {
            if isDigit(q) { q += 1 } else if at(q) == "_" && isDigit(q + 1) { q += 2 } else { return q }
        }
    }

    private mutating func lexNumber() throws(TemplateError) {
        let start = i
        // jinja2 tries its float pattern first: digits, then `.digits` and/or an exponent.
        if let intEnd = digitRun(start) {
            var q = intEnd
            var isFloat = false
            if at(q) == ".", let fracEnd = digitRun(q + 1) { q = fracEnd; isFloat = true }
            if let e = at(q), e == "e" || e == "E" {
                var r = q + 1
                if let sgn = at(r), sgn == "+" || sgn == "-" { r += 1 }
                if let expEnd = digitRun(r) { q = expEnd; isFloat = true }
            }
            if isFloat {
                let text = String(String.UnicodeScalarView(s[start..<q].filter { $0 != "_" }))
                guard let d = Double(text) else { throw fail("invalid number '\(text)'") }
                tokens.append(Token(kind: .float(d), line: line))
                i = q
                return
            }
        }
        // Integers: 0b / 0o / 0x prefixes, a decimal not starting with 0, or zeros.
        var radix = 10
        var q = start
        if s[q] == "0", let x = at(q + 1), "bBoOxX".unicodeScalars.contains(x) {
            radix = (x == "b" || x == "B") ? 2 : (x == "o" || x == "O") ? 8 : 16
            q += 2
            let digitsStart = q
            while let c = at(q), c == "_" || (c.properties.isASCIIHexDigit && Int(String(Character(c)), radix: radix) != nil) { q += 1 }
            guard q > digitsStart else { throw fail("invalid integer literal") }
            let text = String(String.UnicodeScalarView(s[digitsStart..<q].filter { $0 != "_" }))
            guard let v = Int(text, radix: radix) else { throw fail("integer literal too large") }
            tokens.append(Token(kind: .integer(v), line: line))
            i = q
            return
        }
        if s[q] == "0" {
            q += 1
            while true {
                if at(q) == "0" { q += 1 } else if at(q) == "_" && at(q + 1) == "0" { q += 2 } else { break }
            }
            tokens.append(Token(kind: .integer(0), line: line))
            i = q
            return
        }
        let end = digitRun(q) ?? q + 1
        let text = String(String.UnicodeScalarView(s[q..<end].filter { $0 != "_" }))
        guard let v = Int(text) else { throw fail("integer literal too large") }
        tokens.append(Token(kind: .integer(v), line: line))
        i = end
    }

    /// A quoted string with Python's escapes (`unicode-escape`); an unknown escape keeps its backslash.
    private mutating func lexString(quote: Unicode.Scalar) throws(TemplateError) {
        let startLine = line
        var p = i + 1
        var out = String.UnicodeScalarView()
        while true {
            guard let c = at(p) else { throw TemplateError(.syntax, "unexpected end of string", line: startLine) }
            if c == quote { p += 1; break }
            if c == "\n" { line += 1 }
            if c != "\\" { out.append(c); p += 1; continue }
            guard let e = at(p + 1) else { throw TemplateError(.syntax, "unexpected end of string", line: startLine) }
            p += 2
            switch e {
            case "\n": line += 1
            case "\\": out.append("\\")
            case "'": out.append("'")
            case "\"": out.append("\"")
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "v": out.append("\u{0B}")
            case "0"..."7":
                var v = e.value - 0x30
                var n = 1
                while n < 3, let d = at(p), d.value >= 0x30 && d.value <= 0x37 { v = v * 8 + d.value - 0x30; p += 1; n += 1 }
                guard let scalar = Unicode.Scalar(v) else { throw fail("invalid escape") }
                out.append(scalar)
            case "x", "u", "U":
                let width = e == "x" ? 2 : e == "u" ? 4 : 8
                var v: UInt32 = 0
                for k in 0..<width {
                    guard let d = at(p + k), let h = UInt32(String(Character(d)), radix: 16) else {
                        throw TemplateError(.syntax, "truncated \\\(Character(e)) escape in a string", line: startLine)
                    }
                    v = v * 16 + h
                }
                p += width
                guard let scalar = Unicode.Scalar(v) else { throw TemplateError(.syntax, "invalid \\\(Character(e)) escape in a string", line: startLine) }
                out.append(scalar)
            default:
                out.append("\\")
                out.append(e)
            }
        }
        tokens.append(Token(kind: .string(String(out)), line: startLine))
        i = p
    }
}
