/// Binds the arguments of a filter, test, method or global to its parameter names, as Python
/// binds a call: positionally, then by keyword; unknown or repeated keywords are errors.
struct CallArguments {
    let function: String
    private var values: [Value?]

    init(_ function: String, _ args: [Value], _ kwargs: [(String, Value)], _ names: [String],
         required: Int = 0) throws(TemplateError) {
        self.function = function
        guard args.count <= names.count else {
            throw .runtime("\(function)() takes at most \(names.count) argument(s) (\(args.count) given)")
        }
        var values = Array(repeating: Optional<Value>.none, count: names.count)
        for (i, v) in args.enumerated() { values[i] = v }
        for (key, v) in kwargs {
            guard let i = names.firstIndex(of: key) else { throw .runtime("\(function)() got an unexpected keyword argument '\(key)'") }
            guard values[i] == nil else { throw .runtime("\(function)() got multiple values for argument '\(key)'") }
            values[i] = v
        }
        for i in 0..<required where values[i] == nil {
            throw .runtime("\(function)() missing required argument '\(names[i])'")
        }
        self.values = values
    }

    subscript(_ i: Int) -> Value? { values[i] }

    /// A string argument; `None` or absent is nil.
    func string(_ i: Int) throws(TemplateError) -> String? {
        switch values[i] {
        case nil, .none?: return nil
        case .string(let s)?: return s
        case let v?: throw .runtime("\(function)(): expected a string, got \(v.typeName)")
        }
    }

    func int(_ i: Int, default d: Int) throws(TemplateError) -> Int {
        switch values[i] {
        case nil: return d
        case .int(let n)?: return n
        case .bool(let b)?: return b ? 1 : 0
        case let v?: throw .runtime("\(function)(): expected an integer, got \(v.typeName)")
        }
    }

    func bool(_ i: Int, default d: Bool) -> Bool { values[i]?.truthy ?? d }
}
