#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The functions a chat template can call by name: jinja2's `range`, `dict`, `namespace`, and
/// transformers' `raise_exception` and `strftime_now`. A context variable of the same name wins.
enum Globals {
    static let names: Set<String> = ["range", "dict", "namespace", "raise_exception", "strftime_now", "lipsum", "cycler", "joiner"]
    /// jinja2's sandbox refuses longer ranges.
    static let maxRange = 100_000

    static func lookup(_ name: String) -> Value? { names.contains(name) ? .callable(.global(name)) : nil }

    static func call(_ name: String, _ args: [Value], _ kwargs: [(String, Value)], _ renderer: Renderer) throws(TemplateError) -> Value {
        switch name {
        case "raise_exception":
            let b = try CallArguments(name, args, kwargs, ["message"], required: 1)
            throw TemplateError(.raised, try PythonText.str(b[0] ?? .none))
        case "strftime_now":
            let b = try CallArguments(name, args, kwargs, ["format"], required: 1)
            guard case .string(let format)? = b[0] else { throw .runtime("strftime_now() argument must be str") }
            return .string(strftimeNow(format))
        case "range":
            guard kwargs.isEmpty else { throw .runtime("range() takes no keyword arguments") }
            var bounds: [Int] = []
            for a in args {
                switch a {
                case .int(let i): bounds.append(i)
                case .bool(let b): bounds.append(b ? 1 : 0)
                default: throw .runtime("'\(a.typeName)' object cannot be interpreted as an integer")
                }
            }
            let (start, stop, step): (Int, Int, Int)
            switch bounds.count {
            case 1: (start, stop, step) = (0, bounds[0], 1)
            case 2: (start, stop, step) = (bounds[0], bounds[1], 1)
            case 3: (start, stop, step) = (bounds[0], bounds[1], bounds[2])
            default: throw .runtime("range expected 1 to 3 arguments, got \(bounds.count)")
            }
            guard step != 0 else { throw .runtime("range() arg 3 must not be zero") }
            let length = step > 0 ? (stop > start ? (stop - start - 1) / step + 1 : 0)
                                  : (start > stop ? (start - stop - 1) / -step + 1 : 0)
            guard length <= maxRange else {
                throw TemplateError(.limit, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(maxRange)).")
            }
            try renderer.tick(length / 8)
            return .list((0..<length).map { .int(start + $0 * step) })
        case "dict", "namespace":
            var d = Dict()
            guard args.count <= 1 else { throw .runtime("\(name) expected at most 1 argument, got \(args.count)") }
            if let first = args.first {
                switch first {
                case .dict(let other): for (k, v) in other.pairs { d[k] = v }
                default:
                    for pair in try renderer.iterate(first) {
                        let kv = try renderer.iterate(pair)
                        guard kv.count == 2 else { throw .runtime("dictionary update sequence element has length \(kv.count); 2 is required") }
                        guard HashKey(kv[0]) != nil else { throw .runtime("unhashable type: '\(kv[0].typeName)'") }
                        d[kv[0]] = kv[1]
                    }
                }
            }
            for (k, v) in kwargs { d[.string(k)] = v }
            if name == "dict" { return .dict(d) }
            let ns = Namespace()
            ns.attributes = d
            return .namespace(ns)
        default:
            throw .runtime("the '\(name)' function is not supported")
        }
    }

    /// `datetime.now().strftime(format)`, in local time.
    static func strftimeNow(_ format: String) -> String {
        var now = time(nil)
        var parts = tm()
        _ = localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 512)
        let n = strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
