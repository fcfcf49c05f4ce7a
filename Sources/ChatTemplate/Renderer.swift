/// Runs the statements of a template. One renderer per render: it holds the output and the
/// counters the limits apply to.
///
/// Scoping follows jinja2: `set` writes to the current frame; each loop iteration, macro call and
/// `with` block gets a new frame over its parent (so a loop's `set` does not outlive the
/// iteration, which is what `namespace()` is for); `if` has no frame of its own. A macro reads the
/// frame it was defined in, as it is when the macro is called.
final class Renderer {
    let limits: ChatTemplate.Limits
    var output = ""
    var iterations = 0
    var callDepth = 0

    init(limits: ChatTemplate.Limits) { self.limits = limits }

    enum Flow { case normal, breakLoop, continueLoop }

    func write(_ text: String) throws(TemplateError) {
        output += text
        if output.utf8.count > limits.maxOutputBytes {
            throw TemplateError(.limit, "rendered text exceeds the limit of \(limits.maxOutputBytes) bytes")
        }
    }

    /// Counts one loop iteration (or one element handled by a filter) against the limit.
    func tick(_ n: Int = 1) throws(TemplateError) {
        iterations += n
        if iterations > limits.maxLoopIterations {
            throw TemplateError(.limit, "template exceeds the limit of \(limits.maxLoopIterations) loop iterations")
        }
    }

    func execute(_ body: [Statement], _ scope: Scope) throws(TemplateError) -> Flow {
        for statement in body {
            do {
                let flow = try execute(statement, scope)
                if flow != .normal { return flow }
            } catch {
                var e = error
                if e.line == nil { e.line = statement.line }
                throw e
            }
        }
        return .normal
    }

    private func execute(_ statement: Statement, _ scope: Scope) throws(TemplateError) -> Flow {
        switch statement.kind {
        case .text(let text):
            try write(text)
        case .output(let e):
            try write(try PythonText.str(try eval(e, scope)))
        case .ifChain(let branches, let otherwise):
            for (test, body) in branches where try eval(test, scope).truthy {
                return try execute(body, scope)
            }
            return try execute(otherwise, scope)
        case .forLoop(let target, let iterable, let filter, let body, let otherwise):
            return try runLoop(target: target, iterable: iterable, filter: filter, body: body, otherwise: otherwise, scope)
        case .set(let target, let e):
            try assign(target, try eval(e, scope), in: scope)
        case .setBlock(let target, let filter, let body):
            var value = Value.string(try capture(body, scope))
            if let filter { value = try applyFilterChain(filter, to: value, scope) }
            try assign(target, value, in: scope)
        case .macro(let definition):
            scope.variables[definition.name] = .callable(.macro(MacroValue(definition: definition, scope: scope)))
        case .callBlock(let call, let caller):
            guard case .call(let callee, let arguments) = call else { return .normal }
            let f = try eval(callee, scope)
            var (args, kwargs) = try evalArguments(arguments, scope)
            kwargs.append(("caller", .callable(.macro(MacroValue(definition: caller, scope: scope)))))
            try write(try PythonText.str(try self.call(f, args, kwargs)))
        case .with(let assignments, let body):
            let inner = Scope(parent: scope)
            for (target, e) in assignments { try assign(target, try eval(e, scope), in: inner) }
            return try execute(body, inner)
        case .filterBlock(let filter, let body):
            let text = try capture(body, Scope(parent: scope))
            try write(try PythonText.str(try applyFilterChain(filter, to: .string(text), scope)))
        case .block(let body):
            return try execute(body, scope)
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    /// The output of `body`, rendered apart (macro calls, `{% set %}` and `{% filter %}` blocks).
    func capture(_ body: [Statement], _ scope: Scope) throws(TemplateError) -> String {
        var saved = ""
        swap(&saved, &output)
        do {
            _ = try execute(body, scope)
        } catch {
            output = saved
            throw error
        }
        swap(&saved, &output)
        return saved
    }

    private func runLoop(target: Target, iterable: Expr, filter: Expr?, body: [Statement], otherwise: [Statement],
                         _ scope: Scope) throws(TemplateError) -> Flow {
        var items = try iterate(try eval(iterable, scope))
        if let filter {
            var kept: [Value] = []
            for item in items {
                try tick()
                let probe = Scope(parent: scope)
                try assign(target, item, in: probe)
                if try eval(filter, probe).truthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty { return try execute(otherwise, Scope(parent: scope)) }
        for index in items.indices {
            try tick()
            let frame = Scope(parent: scope)
            try assign(target, items[index], in: frame)
            frame.variables["loop"] = .loop(LoopState(items: items, index0: index))
            if try execute(body, frame) == .breakLoop { break }
        }
        return .normal
    }

    func assign(_ target: Target, _ value: Value, in scope: Scope) throws(TemplateError) {
        switch target {
        case .name(let name):
            scope.variables[name] = value
        case .tuple(let targets):
            let items = try iterate(value)
            guard items.count == targets.count else {
                throw .runtime(items.count < targets.count
                    ? "not enough values to unpack (expected \(targets.count), got \(items.count))"
                    : "too many values to unpack (expected \(targets.count))")
            }
            for (t, v) in zip(targets, items) { try assign(t, v, in: scope) }
        case .namespaceAttribute(let name, let attribute):
            guard case .namespace(let ns) = scope.lookup(name) ?? .undefinedName(name) else {
                throw .runtime("cannot assign attribute on non-namespace object")
            }
            ns.attributes[.string(attribute)] = value
        }
    }

    func callMacro(_ macro: MacroValue, _ args: [Value], _ kwargs: [(String, Value)]) throws(TemplateError) -> Value {
        let def = macro.definition
        callDepth += 1
        defer { callDepth -= 1 }
        if callDepth > limits.maxCallDepth {
            throw TemplateError(.limit, "macro calls nested deeper than the limit of \(limits.maxCallDepth)")
        }
        let frame = Scope(parent: macro.scope)
        if args.count > def.parameters.count && !def.takesVarargs {
            throw .runtime("macro '\(def.name)' takes not more than \(def.parameters.count) argument(s)")
        }
        var bound = Array(repeating: Optional<Value>.none, count: def.parameters.count)
        for (i, v) in args.prefix(def.parameters.count).enumerated() { bound[i] = v }
        var extraKeywords = Dict()
        for (key, v) in kwargs {
            if key == "caller" && def.takesCaller && !def.parameters.contains(key) {
                frame.variables["caller"] = v
            } else if let i = def.parameters.firstIndex(of: key) {
                if bound[i] != nil { throw .runtime("macro '\(def.name)' got multiple values for argument '\(key)'") }
                bound[i] = v
            } else if def.takesKwargs {
                extraKeywords[.string(key)] = v
            } else {
                throw .runtime("macro '\(def.name)' takes no keyword argument '\(key)'")
            }
        }
        let firstDefault = def.parameters.count - def.defaults.count
        for (i, name) in def.parameters.enumerated() {
            if let v = bound[i] {
                frame.variables[name] = v
            } else if i >= firstDefault {
                frame.variables[name] = try eval(def.defaults[i - firstDefault], frame)
            } else {
                frame.variables[name] = .undefined(hint: "parameter '\(name)' was not provided")
            }
        }
        if def.takesVarargs { frame.variables["varargs"] = .tuple(Array(args.dropFirst(def.parameters.count))) }
        if def.takesKwargs { frame.variables["kwargs"] = .dict(extraKeywords) }
        if def.takesCaller && frame.variables["caller"] == nil {
            frame.variables["caller"] = .undefined(hint: "'caller' is undefined")
        }
        return .string(try capture(def.body, frame))
    }
}
