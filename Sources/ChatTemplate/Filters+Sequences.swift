/// Filters over sequences: first, last, join, map, select..., sort, unique, min, max, sum, ...
extension Renderer {
    func sequenceFilter(_ name: String, _ v: Value, _ args: [Value], _ kwargs: [(String, Value)]) throws(TemplateError) -> Value {
        func bind(_ names: [String], required: Int = 0) throws(TemplateError) -> CallArguments {
            try CallArguments(name, args, kwargs, names, required: required)
        }
        switch name {
        case "list":
            _ = try bind([])
            return .list(try items(v))
        case "first":
            _ = try bind([])
            return try items(v).first ?? .undefined(hint: "No first item, sequence was empty.")
        case "last":
            _ = try bind([])
            if case .iterator = v { throw .runtime("'generator' object is not reversible") }
            return try items(v).last ?? .undefined(hint: "No last item, sequence was empty.")
        case "items":
            _ = try bind([])
            switch v {
            case .undefined: return .iterator(IteratorBox([]))
            case .dict(let d): return .iterator(IteratorBox(d.pairs.map { .tuple([$0.0, $0.1]) }))
            default: throw .runtime("Can only get item pairs from a mapping.")
            }
        case "reverse":
            _ = try bind([])
            switch v {
            case .string(let s): return .string(StringOps.string(s.unicodeScalars.reversed()))
            case .iterator(let it): return .list(it.drain().reversed())
            case .list, .tuple, .dict, .undefined: return .iterator(IteratorBox(try items(v).reversed()))
            default: throw .runtime("argument to reversed() must be a sequence")
            }
        case "join":
            let b = try bind(["d", "attribute"])
            var parts = try items(v)
            if let attribute = b[1], !attribute.isNone { parts = try parts.map(attributeGetter(attribute)) }
            let separator = try PythonText.str(b[0] ?? .string(""))
            var out = ""
            for (i, p) in parts.enumerated() {
                if i > 0 { out += separator }
                out += try PythonText.str(p)
                if out.utf8.count > limits.maxOutputBytes { return .string(out) }   // `checked` reports it
            }
            return .string(out)
        case "map":
            guard v.truthy else { return .iterator(IteratorBox([])) }
            let input = try items(v)
            var out: [Value] = []
            if args.isEmpty, let attribute = kwargs.first(where: { $0.0 == "attribute" })?.1 {
                var fallback: Value? = nil
                for (k, x) in kwargs where k != "attribute" {
                    guard k == "default" else { throw .runtime("Unexpected keyword argument '\(k)'") }
                    fallback = x
                }
                let get = attributeGetter(attribute)
                for item in input {
                    try tick()
                    var x = try get(item)
                    if x.isUndefined, let fallback, !fallback.isNone { x = fallback }
                    out.append(x)
                }
            } else {
                guard case .string(let filter)? = args.first else { throw .runtime("map requires a filter name or attribute=") }
                guard Parser.filterNames.contains(filter) else { throw .runtime("No filter named '\(filter)'.") }
                for item in input {
                    try tick()
                    out.append(try applyFilter(filter, item, Array(args.dropFirst()), kwargs))
                }
            }
            return .iterator(IteratorBox(out))
        case "select", "reject", "selectattr", "rejectattr":
            guard v.truthy else { return .iterator(IteratorBox([])) }
            let input = try items(v)
            let byAttribute = name.hasSuffix("attr")
            let keep = name.hasPrefix("select")
            var rest = args[...]
            var get: (Value) throws(TemplateError) -> Value = { $0 }
            if byAttribute {
                guard let attribute = rest.popFirst() else { throw .runtime("Missing parameter for attribute name") }
                get = attributeGetter(attribute)
            }
            let test: String?
            switch rest.popFirst() {
            case nil: test = nil
            case .string(let t)?: test = t
            case let other?: throw .runtime("test name must be a string, not \(other.typeName)")
            }
            var out: [Value] = []
            for item in input {
                try tick()
                let x = try get(item)
                let passed = try test.map { (t) throws(TemplateError) in try applyTest(t, x, Array(rest), kwargs) } ?? x.truthy
                if passed == keep { out.append(item) }
            }
            return .iterator(IteratorBox(out))
        case "sort":
            let b = try bind(["reverse", "case_sensitive", "attribute"])
            let key = sortKey(caseSensitive: b.bool(1, default: false), attribute: b[2])
            return .list(try sorted(try items(v), key: key, reverse: b.bool(0, default: false)))
        case "dictsort":
            let b = try bind(["case_sensitive", "by", "reverse"])
            guard case .dict(let d) = v else { throw .runtime("dictsort requires a mapping") }
            let byValue: Bool
            switch try b.string(1) ?? "key" {
            case "key": byValue = false
            case "value": byValue = true
            default: throw .runtime("You can only sort by either \"key\" or \"value\"")
            }
            let caseSensitive = b.bool(0, default: false)
            let pairs = d.pairs.map { Value.tuple([$0.0, $0.1]) }
            return .list(try sorted(pairs, key: { (pair) throws(TemplateError) in
                guard case .tuple(let kv) = pair else { return pair }
                let x = kv[byValue ? 1 : 0]
                return caseSensitive ? x : Renderer.ignoreCase(x)
            }, reverse: b.bool(2, default: false)))
        case "unique":
            let b = try bind(["case_sensitive", "attribute"])
            let key = sortKey(caseSensitive: b.bool(0, default: false), attribute: b[1])
            var seen = Set<HashKey>()
            var out: [Value] = []
            for item in try items(v) {
                try tick()
                let k = try key(item)
                guard let h = HashKey(k) else { throw .runtime("unhashable type: '\(k.typeName)'") }
                if seen.insert(h).inserted { out.append(item) }
            }
            return .iterator(IteratorBox(out))
        case "min", "max":
            let b = try bind(["case_sensitive", "attribute"])
            let all = try items(v)
            guard var best = all.first else { return .undefined(hint: "No aggregated item, sequence was empty.") }
            let key = sortKey(caseSensitive: b.bool(0, default: false), attribute: b[1])
            var bestKey = try key(best)
            for item in all.dropFirst() {
                try tick()
                let k = try key(item)
                if name == "min" ? try Operators.less(k, bestKey) : try Operators.less(bestKey, k) { best = item; bestKey = k }
            }
            return best
        case "sum":
            let b = try bind(["attribute", "start"])
            var total = b[1] ?? .int(0)
            if case .string = total { throw .runtime("sum() can't sum strings [use ''.join(seq) instead]") }
            let get = b[0].map(attributeGetter) ?? { $0 }
            for item in try items(v) {
                try tick()
                total = try checked(try Operators.binary(.add, total, try get(item), limits: limits))
            }
            return total
        case "batch":
            let b = try bind(["linecount", "fill_with"], required: 1)
            let size = try b.int(0, default: 1)
            guard size > 0 else { throw .runtime("batch size must be positive") }
            var out: [Value] = []
            var row: [Value] = []
            for item in try items(v) {
                try tick()
                row.append(item)
                if row.count == size { out.append(.list(row)); row = [] }
            }
            if !row.isEmpty {
                if let fill = b[1], !fill.isNone { row += Array(repeating: fill, count: size - row.count) }
                out.append(.list(row))
            }
            return .iterator(IteratorBox(out))
        default:
            if Renderer.unsupportedFilters.contains(name) { throw .runtime("the '\(name)' filter is not supported") }
            throw .runtime("No filter named '\(name)'.")
        }
    }

    /// The items of an iterable, counted against the iteration limit.
    func items(_ v: Value) throws(TemplateError) -> [Value] {
        let all = try iterate(v)
        try tick(all.count / 8)   // filters walk sequences far faster than loops run bodies
        return all
    }

    /// jinja2's `make_attrgetter`: `"a.b.0"` looks up `a`, then `b`, then item 0 (keys first).
    func attributeGetter(_ attribute: Value) -> (Value) throws(TemplateError) -> Value {
        let parts: [Value]
        switch attribute {
        case .string(let path):
            parts = path.split(separator: ".", omittingEmptySubsequences: false).map { part in
                if let i = Int(part) { return .int(i) }
                return .string(String(part))
            }
        default:
            parts = [attribute]
        }
        return { (item) throws(TemplateError) -> Value in
            var x = item
            for part in parts { x = try Access.item(x, part) }
            return x
        }
    }

    static func ignoreCase(_ v: Value) -> Value {
        if case .string(let s) = v { return .string(StringOps.lower(s)) }
        return v
    }

    private func sortKey(caseSensitive: Bool, attribute: Value?) -> (Value) throws(TemplateError) -> Value {
        let get: (Value) throws(TemplateError) -> Value = attribute.flatMap { $0.isNone ? nil : attributeGetter($0) } ?? { $0 }
        if caseSensitive { return get }
        return { (x) throws(TemplateError) in Renderer.ignoreCase(try get(x)) }
    }

    /// Python's `sorted(items, key=key, reverse=reverse)`: stable, with `reverse` keeping equal
    /// items in their original order; incomparable keys are an error.
    func sorted(_ items: [Value], key: (Value) throws(TemplateError) -> Value, reverse: Bool) throws(TemplateError) -> [Value] {
        try tick(items.count)
        var keyed: [(Value, Value)] = []
        keyed.reserveCapacity(items.count)
        for item in items { keyed.append((try key(item), item)) }
        let ordered = try Renderer.stableSort(keyed) { (a, b) throws(TemplateError) in
            reverse ? try Operators.less(b.0, a.0) : try Operators.less(a.0, b.0)
        }
        return ordered.map { $0.1 }
    }
}
