/// A Hugging Face chat template (the Jinja2 `chat_template` of tokenizer_config.json), parsed
/// once and rendered per request, with jinja2's semantics as transformers configures it:
/// `ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)` with loop controls and
/// `{% generation %}`, the globals `raise_exception` and `strftime_now`, and transformers' `tojson`
/// (`json.dumps(x, ensure_ascii=False, indent=, separators=, sort_keys=)`).
///
/// Supported: `{{ }}` `{% %}` `{# #}` with `-`/`+` whitespace control, trim_blocks and lstrip_blocks
/// as jinja2's lexer applies them, `raw`; `if`/`elif`/`else`, `for` (unpacking, `loop.*`, `else`,
/// inline `if`, `break`/`continue`), `set` (tuples, `ns.attr`, blocks with filters), `macro` (defaults,
/// keywords, `varargs`/`kwargs`, `caller`), `call`, `filter`, `with`, `generation`; Python's
/// operators, comparisons, `in`, slices, literals, `str()`/`repr()` printing and float formatting;
/// the string/dict/list methods templates call; jinja2's builtin tests and filters except those
/// listed in `Renderer.unsupportedFilters` (an error if called). Undefined values behave as jinja2's
/// default `Undefined`.
///
/// Not supported: `extends`/`block`/`include`/`import`, recursive loops, `loop.changed`, `cycler`,
/// `joiner`, `lipsum`, format specs in `str.format`. Dict views, `range` objects and generators
/// print as lists or `<generator object>` (Python prints `dict_items([...])`, `range(0, 3)`,
/// an address); integers are 64-bit (overflow is an error, not a big integer).
public struct ChatTemplate: Sendable {
    /// Bounds on one render, since the rendered data (messages, tools) comes from API users.
    public struct Limits: Sendable {
        /// The rendered text (and any one string or captured block) in UTF-8 bytes.
        public var maxOutputBytes: Int
        /// Loop iterations of one render, all loops and filters over sequences together.
        public var maxLoopIterations: Int
        /// Nested macro calls.
        public var maxCallDepth: Int
        /// Elements of one list made by the template (`list * n`, `list + list`).
        public var maxListLength: Int

        public init(maxOutputBytes: Int = 4 << 20, maxLoopIterations: Int = 200_000, maxCallDepth: Int = 64,
                    maxListLength: Int = 1 << 20) {
            self.maxOutputBytes = maxOutputBytes
            self.maxLoopIterations = maxLoopIterations
            self.maxCallDepth = maxCallDepth
            self.maxListLength = maxListLength
        }
    }

    let body: [Statement]
    public var limits: Limits

    /// Parses `source`; a syntax error names its line.
    public init(source: String, limits: Limits = Limits()) throws(TemplateError) {
        body = try Parser.parse(source)
        self.limits = limits
    }

    /// Renders with `context` as the template's variables (`messages`, `tools`,
    /// `add_generation_prompt`, `bos_token`, `eos_token`, ...). A key left out, or `.undefined`,
    /// is undefined in the template (`tools is defined` is false).
    public func render(_ context: [String: TemplateValue]) throws(TemplateError) -> String {
        let root = Scope(parent: nil)
        for (key, value) in context { root.variables[key] = Value(value) }
        let renderer = Renderer(limits: limits)
        _ = try renderer.execute(body, root)
        return renderer.output
    }
}
