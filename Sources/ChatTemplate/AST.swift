/// A constant in the template source.
enum Constant: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
}

/// An expression, as jinja2's parser builds it.
indirect enum Expr: Sendable {
    case constant(Constant)
    case name(String)
    case list([Expr])
    case tuple([Expr])
    case dict([(Expr, Expr)])
    /// `a.b` (an attribute first, then the key, as jinja2 does).
    case attribute(Expr, String)
    /// `a[b]` (the key first, then an attribute of that name).
    case item(Expr, Expr)
    case slice(Expr, start: Expr?, stop: Expr?, step: Expr?)
    case call(Expr, Arguments)
    /// `value | name(args)`; value is nil for `{% filter %}` blocks (applied to the body).
    case filter(Expr?, String, Arguments, line: Int)
    case test(Expr, String, Arguments, line: Int)
    case negate(Expr)
    case plus(Expr)
    case not(Expr)
    case and(Expr, Expr)
    case or(Expr, Expr)
    case binary(BinaryOperator, Expr, Expr)
    /// `a < b <= c`: Python's chained comparison.
    case compare(Expr, [(CompareOperator, Expr)])
    /// `a ~ b ~ c`
    case concat([Expr])
    /// `a if test else b`; without else, undefined.
    case conditional(test: Expr, then: Expr, otherwise: Expr?)
}

struct Arguments: Sendable {
    var positional: [Expr] = []
    var keywords: [(String, Expr)] = []
    var spread: Expr? = nil
    var keywordSpread: Expr? = nil
}

enum BinaryOperator: Sendable { case add, subtract, multiply, divide, floorDivide, modulo, power }
enum CompareOperator: Sendable { case eq, ne, lt, le, gt, ge, `in`, notIn }

/// The left side of `set`, `for` and `with`.
indirect enum Target: Sendable {
    case name(String)
    case tuple([Target])
    /// `ns.attr` (namespace attribute, `set` only)
    case namespaceAttribute(String, String)
}

struct MacroDefinition: Sendable {
    let name: String
    let parameters: [String]
    /// Defaults of the last parameters, aligned right (Python's rule).
    let defaults: [Expr]
    let body: [Statement]
    /// Whether the body reads `varargs` / `kwargs` (jinja2 then accepts extra arguments) or
    /// `caller` (the body of a `{% call %}` block).
    let takesVarargs: Bool
    let takesKwargs: Bool
    let takesCaller: Bool
}

struct Statement: Sendable {
    indirect enum Kind: Sendable {
        case text(String)
        case output(Expr)
        case ifChain([(Expr, [Statement])], otherwise: [Statement])
        case forLoop(target: Target, iterable: Expr, filter: Expr?, body: [Statement], otherwise: [Statement])
        case set(Target, Expr)
        case setBlock(Target, filter: Expr?, body: [Statement])
        case macro(MacroDefinition)
        /// `{% call(params) m(args) %}body{% endcall %}`: calls `m` with the body as `caller`.
        case callBlock(Expr, caller: MacroDefinition)
        case with([(Target, Expr)], body: [Statement])
        case filterBlock(Expr, body: [Statement])
        /// `{% generation %}` (transformers' assistant-mask marker): renders its body.
        case block([Statement])
        case breakLoop
        case continueLoop
    }
    let kind: Kind
    let line: Int
}
