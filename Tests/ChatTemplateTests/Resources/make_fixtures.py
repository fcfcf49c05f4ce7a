#!/usr/bin/env python3
"""Renders chat templates with jinja2 exactly as transformers does, and writes fixtures.json for
ChatTemplateTests: [{name, template | template_file, context, expected} | {..., error: {...}}].

    pip install jinja2   # 3.1.x
    python3 Tests/ChatTemplateTests/Resources/make_fixtures.py

CI has no jinja2: the generated fixtures.json is committed, and the Swift tests read it.

The chat templates in templates/ are written for these tests, one per chat format family, each in
that family's prompt layout (its turn markers, system and tool placement); none is a model's own
template file. They use the engine the way real chat templates do: namespace(), loop variables and
loop controls, slicing, whitespace control under trim_blocks/lstrip_blocks, tests, tojson, string
methods, macros and a call block, selectattr/map, and raise_exception.
    chatml.jinja        ChatML after bos_token; content parts joined with selectattr/map
    llama3.jinja        Llama 3 header ids and <|eot_id|>
    llama3.1.jinja      Llama 3.1: ipython environment, date_string, tools (in the first user turn or
                        the system turn), builtin tools, one JSON tool call per turn
    mistral-v0.1.jinja  Mistral [INST] ... [/INST], system folded into the first user turn, strict alternation
    mistral-v0.3.jinja  Mistral v0.3: [AVAILABLE_TOOLS] before the last user turn, [TOOL_CALLS], [TOOL_RESULTS]
    gemma.jinja         Gemma turns, system folded into the first user turn, "model" for the assistant
    qwen2.5.jinja       Qwen 2.5: ChatML with a <tools> block, <tool_call> and grouped <tool_response>
    qwen3.jinja         Qwen3: as Qwen 2.5, plus <think> reasoning kept only after the last user query
    phi3.jinja          Phi-3 <|role|> lines closed by <|end|>
    phi4.jinja          Phi-4 ChatML markers with <|im_sep|>
    deepseek-r1.jinja   DeepSeek-R1 full-width markers; earlier answers lose their reasoning
    granite.jinja       Granite 3 <|start_of_role|> turns, available_tools, tool_response
"""
import json
import os
from datetime import datetime

import jinja2
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))


class RaisedError(jinja2.exceptions.TemplateError):
    """What raise_exception raises (transformers raises jinja2's TemplateError itself)."""


class AssistantTracker(Extension):
    """transformers' `{% generation %}` tag: for rendering text, it only renders its body."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

    def _generation_support(self, caller):
        return caller()


def make_environment():
    # transformers.utils.chat_template_utils._compile_jinja_template
    def raise_exception(message):
        raise RaisedError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.now().strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


ENV = make_environment()


def render(template, context):
    try:
        return {"expected": ENV.from_string(template).render(**context)}
    except RaisedError as e:
        return {"error": {"kind": "raised", "message": e.message}}
    except jinja2.exceptions.TemplateSyntaxError as e:
        return {"error": {"kind": "syntax", "message": str(e), "line": e.lineno}}
    except Exception as e:  # noqa: BLE001 - any failure is an expected error of that fixture
        return {"error": {"kind": "runtime", "message": f"{type(e).__name__}: {e}"}}


# ---- conversations -------------------------------------------------------------------------------

SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
USER = {"role": "user", "content": "Hello! How are you?"}
ASSISTANT = {"role": "assistant", "content": "I'm fine, thanks. How can I help?"}
USER2 = {"role": "user", "content": "  Tell me a joke.  "}

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {"type": "object", "properties": {
            "location": {"type": "string", "description": "City name, e.g. Paris"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        }, "required": ["location"]},
    }},
    {"type": "function", "function": {
        "name": "add",
        "description": "Add two numbers.",
        "parameters": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                       "required": ["a", "b"]},
    }},
]

TOOL_CALL = {"role": "assistant", "content": "", "tool_calls": [
    {"id": "call12345", "type": "function",
     "function": {"name": "get_weather", "arguments": {"location": "Paris", "unit": "celsius"}}}]}
TOOL_RESULT = {"role": "tool", "tool_call_id": "call12345", "name": "get_weather",
               "content": "{\"temperature\": 22.5, \"sky\": \"clear\"}"}
TOOL_ANSWER = {"role": "assistant", "content": "It is 22.5 °C and clear in Paris."}
USER_WEATHER = {"role": "user", "content": "What's the weather in Paris?"}

CONVERSATIONS = {
    "system_user": [SYSTEM, USER],
    "user_only": [USER],
    "multi_turn": [SYSTEM, USER, ASSISTANT, USER2],
    "multi_turn_no_system": [USER, ASSISTANT, USER2],
    "content_parts": [SYSTEM, {"role": "user", "content": [
        {"type": "text", "text": "Describe"}, {"type": "text", "text": " this picture."}]}],
    "non_ascii": [{"role": "user", "content": "Café crème, 日本語のテキスト, emoji 🎉👍🏽, Ωμέγα"},
                  {"role": "assistant", "content": "Très bien — ありがとう 🙏"},
                  {"role": "user", "content": "Ещё раз?"}],
    "quotes_newlines": [{"role": "system", "content": "Answer with 'single' and \"double\" quotes.\n"},
                        {"role": "user", "content": "Line one\nLine two\ttabbed\\backslash {{ not a tag }} {% raw %} </s>\r\n"}],
    "tool_round_trip": [SYSTEM, USER_WEATHER, TOOL_CALL, TOOL_RESULT, TOOL_ANSWER],
    "tool_call_no_system": [USER_WEATHER, TOOL_CALL, TOOL_RESULT],
    "assistant_last": [USER, ASSISTANT],
}

# family (templates/<family>.jinja): (bos, eos, takes tools)
FAMILIES = {
    "chatml": ("<s>", "<|im_end|>", False),
    "llama3": ("<|begin_of_text|>", "<|eot_id|>", False),
    "llama3.1": ("<|begin_of_text|>", "<|eot_id|>", True),
    "mistral-v0.1": ("<s>", "</s>", False),
    "mistral-v0.3": ("<s>", "</s>", True),
    "gemma": ("<bos>", "<eos>", False),
    "qwen2.5": (None, "<|im_end|>", True),
    "qwen3": (None, "<|im_end|>", True),
    "phi3": ("<s>", "<|endoftext|>", False),
    "phi4": ("<|endoftext|>", "<|im_end|>", False),
    "deepseek-r1": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", False),
    "granite": (None, "<|end_of_text|>", True),
}


def family_fixtures():
    out = []
    for family, (bos, eos, takes_tools) in FAMILIES.items():
        path = f"templates/{family}.jinja"
        with open(os.path.join(HERE, path), encoding="utf-8", newline="") as f:
            template = f.read()
        for conv_name, messages in CONVERSATIONS.items():
            tool_variants = [False, True] if takes_tools and conv_name in ("system_user", "user_only", "tool_round_trip", "tool_call_no_system") else [False]
            for with_tools in tool_variants:
                for agp in (True, False):
                    context = {"messages": messages, "add_generation_prompt": agp}
                    if bos is not None:
                        context["bos_token"] = bos
                    context["eos_token"] = eos
                    if with_tools:
                        context["tools"] = TOOLS
                    if family in ("llama3.1", "granite"):
                        context["date_string"] = "26 Jul 2024"
                    name = f"{family}/{conv_name}{'+tools' if with_tools else ''}{'+gen' if agp else ''}"
                    out.append({"name": name, "template_file": path, "context": context, **render(template, context)})
    # A few extra switches the templates read.
    extras = [
        ("llama3.1/builtin_tools", "llama3.1", {"builtin_tools": ["brave_search", "wolfram_alpha", "code_interpreter"], "tools": TOOLS,
                                                "messages": [SYSTEM, USER_WEATHER], "add_generation_prompt": True}),
        ("llama3.1/tools_in_system", "llama3.1", {"tools_in_user_message": False, "tools": TOOLS,
                                                  "messages": [SYSTEM, USER_WEATHER], "add_generation_prompt": True}),
        ("llama3.1/two_tool_calls", "llama3.1", {"messages": [USER_WEATHER, {**TOOL_CALL, "tool_calls": TOOL_CALL["tool_calls"] * 2}],
                                                 "add_generation_prompt": False}),
        ("qwen3/enable_thinking_false", "qwen3", {"enable_thinking": False, "messages": [SYSTEM, USER], "add_generation_prompt": True}),
        ("qwen3/reasoning_content", "qwen3", {"messages": [USER, {"role": "assistant", "content": "<think>\nLet me think.\n</think>\n\nHi there!"}, USER2],
                                              "add_generation_prompt": True}),
        ("gemma/alternation_error", "gemma", {"messages": [USER, USER2], "add_generation_prompt": True}),
        ("mistral-v0.3/bad_tool_call_id", "mistral-v0.3", {"messages": [USER_WEATHER, {**TOOL_CALL, "tool_calls": [{**TOOL_CALL["tool_calls"][0], "id": "call_1"}]}],
                                                           "tools": TOOLS, "add_generation_prompt": False}),
        ("deepseek-r1/tool_call_string_arguments", "deepseek-r1", {"tools": TOOLS, "add_generation_prompt": True, "messages": [
            SYSTEM, USER_WEATHER, {**TOOL_CALL, "content": None, "tool_calls": [{**TOOL_CALL["tool_calls"][0], "function": {
                "name": "get_weather", "arguments": json.dumps(TOOL_CALL["tool_calls"][0]["function"]["arguments"])}}]},
            TOOL_RESULT, TOOL_ANSWER]}),
        ("llama3.1/twenty_messages", "llama3.1", {"messages": [SYSTEM] + [USER, ASSISTANT] * 10, "add_generation_prompt": True}),
        ("llama3.1/no_user_for_tools", "llama3.1", {"tools": TOOLS, "messages": [SYSTEM], "add_generation_prompt": True}),
        ("mistral-v0.3/tools_before_last_user", "mistral-v0.3", {"tools": TOOLS, "messages": [SYSTEM, USER, ASSISTANT, USER_WEATHER],
                                                                  "add_generation_prompt": False}),
        ("mistral-v0.3/alternation_error", "mistral-v0.3", {"messages": [USER, ASSISTANT, ASSISTANT], "add_generation_prompt": False}),
        ("gemma/image_part", "gemma", {"add_generation_prompt": True, "messages": [
            {"role": "system", "content": [{"type": "text", "text": "  Be brief.  "}]},
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is in this image?"}]}]}),
        ("gemma/unknown_part_error", "gemma", {"add_generation_prompt": True, "messages": [
            {"role": "user", "content": [{"type": "audio"}]}]}),
        ("qwen2.5/two_tool_results", "qwen2.5", {"tools": TOOLS, "add_generation_prompt": True, "messages": [
            USER_WEATHER, {**TOOL_CALL, "content": "Checking.", "tool_calls": TOOL_CALL["tool_calls"] * 2}, TOOL_RESULT, TOOL_RESULT]}),
        ("qwen3/reasoning_after_tool_response", "qwen3", {"tools": TOOLS, "add_generation_prompt": False, "messages": [
            USER_WEATHER, {**TOOL_CALL, "reasoning_content": "Need the weather first."}, TOOL_RESULT,
            {"role": "assistant", "content": "<think>\nIt is sunny.\n</think>\n\nIt is 22.5 °C."}]}),
        ("qwen3/misplaced_system_error", "qwen3", {"messages": [USER, SYSTEM], "add_generation_prompt": True}),
        ("deepseek-r1/earlier_thinking_dropped", "deepseek-r1", {"add_generation_prompt": True, "messages": [
            SYSTEM, USER, {"role": "assistant", "content": "<think>\nA greeting.\n</think>\n\nHi there!"}, USER2]}),
        ("deepseek-r1/two_tool_calls", "deepseek-r1", {"add_generation_prompt": True, "messages": [
            USER_WEATHER, {**TOOL_CALL, "tool_calls": TOOL_CALL["tool_calls"] * 2}, TOOL_RESULT, TOOL_RESULT]}),
        ("granite/no_messages", "granite", {"messages": [], "add_generation_prompt": True}),
        ("granite/unknown_role_error", "granite", {"messages": [USER, {"role": "robot", "content": "beep"}], "add_generation_prompt": True}),
        ("phi3/empty_system_skipped", "phi3", {"messages": [{"role": "system", "content": ""}, USER, {"role": "assistant", "content": None}],
                                               "add_generation_prompt": False}),
    ]
    for name, family, context in extras:
        bos, eos, _ = FAMILIES[family]
        context = {**({"bos_token": bos} if bos else {}), "eos_token": eos, "date_string": "26 Jul 2024", **context}
        path = f"templates/{family}.jinja"
        with open(os.path.join(HERE, path), encoding="utf-8", newline="") as f:
            template = f.read()
        out.append({"name": name, "template_file": path, "context": context, **render(template, context)})
    return out


# ---- the corpus: one feature at a time ------------------------------------------------------------

CTX = {
    "messages": [SYSTEM, USER, ASSISTANT],
    "name": "World",
    "items": [3, 1, 2],
    "words": ["banana", "Apple", "cherry", "apple"],
    "users": [{"name": "ann", "age": 31, "admin": True}, {"name": "Bob", "age": 25, "admin": False},
              {"name": "cy", "age": 31}],
    "d": {"b": 2, "a": 1, "C": 3},
    "nested": {"x": {"y": [10, 20, {"z": "deep"}]}},
    "text": "  Hello, World!  ",
    "multiline": "first\nsecond\n\nfourth",
    "empty": "",
    "zero": 0,
    "f": 2.5,
    "big": 12345678901234567,
    "none_value": None,
    "t": True,
    "uni": "Café 日本 🎉",
    "schema": {"type": "object", "properties": {"q": {"type": "string", "description": "Query «x»"},
                                                "n": {"type": "integer", "default": 3}}, "required": ["q"]},
    "floats": [1.0, 0.1, 1e16, 1e-05, 123456789.123, 1.5e300, -0.0, 2.0 ** 60, 0.0001],
}

C = []  # (name, template, extra context or None)


def case(name, template, ctx=None):
    C.append((name, template, ctx))


# Output and Python str()
case("print/string", "{{ name }}")
case("print/int", "{{ 42 }}|{{ -7 }}|{{ big }}")
case("print/float", "{{ 1.0 }}|{{ 2.5 }}|{{ 1e3 }}|{{ 1.5e-7 }}|{{ f }}|{{ 0.1 + 0.2 }}")
case("print/float_list", "{{ floats }}")
case("print/float_each", "{% for x in floats %}{{ x }};{% endfor %}")
case("print/none_bool", "{{ none }}|{{ None }}|{{ true }}|{{ False }}|{{ none_value }}|{{ t }}")
case("print/list_repr", "{{ ['a', 1, none, true, 2.0, [\"b\"], {'k': 'v'}] }}")
case("print/dict_repr", "{{ d }}|{{ {} }}|{{ {'x': {'y': [1, (2, 3)]}} }}")
case("print/tuple_repr", "{{ (1,) }}|{{ (1, 'a') }}|{{ () }}|{{ 1, 2 }}")
case("print/string_repr_quotes", "{{ [\"it's\", 'say \"hi\"', 'both \\' and \"', 'back\\\\slash'] }}")
case("print/string_repr_escapes", "{{ ['tab\\there', 'nl\\n', 'cr\\r', '\\x00\\x1f\\x7f', '\\xa0\\xad', 'é日🎉', '\\u200b\\u2028'] }}")
case("print/undefined", "[{{ missing }}][{{ missing.__class__ if false }}]")
case("print/nested_access", "{{ nested.x.y[2].z }}|{{ nested['x']['y'][0] }}|{{ nested.x.y.1 }}")
case("print/messages", "{{ messages[0] }}")
case("print/unicode", "{{ uni }}|{{ uni|length }}|{{ uni|upper }}")
case("print/namespace", "{% set ns = namespace(a=1, b='x') %}{{ ns }}")
case("print/tuple_in_output", "{{ 'a', 'b' }}")

# Literals and string escapes
case("literal/strings", "{{ 'single' }}|{{ \"double\" }}|{{ 'esc\\'q' }}|{{ \"a\\\"b\" }}|{{ 'adj' 'acent' }}")
case("literal/escapes", "{{ 'a\\nb\\tc\\\\d\\x41\\u00e9\\U0001F600\\101' }}")
case("literal/unknown_escape", "{{ 'keep \\d \\s \\[' }}")
case("literal/numbers", "{{ 1_000 }}|{{ 0x1F }}|{{ 0o17 }}|{{ 0b101 }}|{{ 1.5e2 }}|{{ 2E-3 }}|{{ 0 }}|{{ 00 }}")
case("syntax/leading_zero", "{{ 007 }}")
case("literal/list_dict", "{{ [1, 2, 3,] }}|{{ {'a': 1, 'b': [2],} }}|{{ {1: 'one', 2.0: 'two'} }}")
case("literal/true_variants", "{{ true }}{{ True }}{{ false }}{{ False }}{{ none }}{{ None }}")
case("literal/multiline_string", "{{ 'line1\nline2' }}")

# Arithmetic
case("math/basic", "{{ 1 + 2 }}|{{ 7 - 10 }}|{{ 3 * 4 }}|{{ 7 / 2 }}|{{ 8 / 2 }}|{{ 7 // 2 }}|{{ 7 % 3 }}|{{ 2 ** 10 }}")
case("math/floor_semantics", "{{ -7 // 2 }}|{{ -7 % 3 }}|{{ 7 % -3 }}|{{ -7.5 // 2 }}|{{ -7.5 % 2 }}|{{ 7.5 % -2 }}")
case("math/pow_left_assoc", "{{ 2 ** 3 ** 2 }}|{{ 2 ** -1 }}|{{ 2.0 ** 0.5 }}|{{ (-2) ** 2 }}|{{ -2 ** 2 }}")
case("math/mixed", "{{ 1 + 2.5 }}|{{ true + 1 }}|{{ 3 * 1.5 }}|{{ 10 / 4.0 }}|{{ 1e16 + 1 }}")
case("math/unary", "{{ -f }}|{{ +3 }}|{{ -(-2) }}|{{ - 1 }}")
case("math/precedence", "{{ 1 + 2 * 3 - 4 / 2 }}|{{ (1 + 2) * 3 }}|{{ 2 * 3 ** 2 }}|{{ 10 - 2 - 3 }}")
case("math/string_concat", "{{ 'a' + 'b' }}|{{ 'ab' * 3 }}|{{ 2 * 'xy' }}|{{ 'n' * 0 }}|{{ 'n' * -1 }}")
case("math/list_concat", "{{ [1] + [2, 3] }}|{{ [0] * 3 }}|{{ (1,) + (2,) }}")
case("math/tilde", "{{ 'a' ~ 1 ~ none ~ true ~ missing ~ [1] }}")
case("math/division_by_zero", "{{ 1 / 0 }}")
case("math/int_division_by_zero", "{{ 1 // 0 }}")
case("math/str_plus_int", "{{ 'a' + 1 }}")
case("math/undefined_plus", "{{ missing + 1 }}")
case("math/str_plus_undefined", "{{ 'a' + missing }}")
case("math/none_plus", "{{ none + 1 }}")
case("math/percent_format", "{{ '%s-%d' % ('a', 3) }}|{{ '%s' % 'x' }}|{{ '100%%' % () }}")

# Comparisons and logic
case("cmp/basic", "{{ 1 < 2 }}{{ 2 <= 2 }}{{ 3 > 4 }}{{ 4 >= 5 }}{{ 1 == 1.0 }}{{ 1 != 2 }}{{ 'a' < 'b' }}{{ 'B' < 'a' }}")
case("cmp/chained", "{{ 1 < 2 < 3 }}{{ 1 < 3 < 2 }}{{ 3 > 2 == 2 }}")
case("cmp/equality_types", "{{ true == 1 }}{{ none == none }}{{ [1, 2] == [1, 2] }}{{ (1, 2) == [1, 2] }}{{ {'a': 1, 'b': 2} == {'b': 2, 'a': 1} }}{{ '1' == 1 }}")
case("cmp/lists", "{{ [1, 2] < [1, 3] }}{{ [1] < [1, 0] }}{{ 'abc' < 'abd' }}")
case("cmp/incomparable", "{{ 1 < 'a' }}")
case("cmp/none_lt", "{{ none < 1 }}")
case("cmp/undefined_eq", "{{ missing == missing }}{{ missing == none }}{{ missing != 1 }}")
case("logic/and_or_values", "{{ 0 or 'x' }}|{{ 'a' and 'b' }}|{{ '' and 'b' }}|{{ none or [] or 'last' }}|{{ 1 and 0 }}")
case("logic/not", "{{ not true }}{{ not 0 }}{{ not '' }}{{ not [0] }}{{ not missing }}{{ not not 1 }}")
case("logic/precedence", "{{ true or false and false }}{{ not true or true }}{{ not (true or true) }}")
case("logic/in", "{{ 'a' in 'cat' }}{{ 'x' in ['x', 'y'] }}{{ 'k' in {'k': 1} }}{{ 3 not in [1, 2] }}{{ 'role' in messages[0] }}{{ 1 in (1, 2) }}{{ 'z' in missing }}")
case("logic/in_type_error", "{{ 1 in 'abc' }}")
case("logic/in_none_error", "{{ 'a' in none }}")
case("logic/truthiness", "{% for v in [0, 1, '', 'a', [], [0], {}, {'a': 1}, none, 0.0, 0.1, missing] %}{{ 'T' if v else 'F' }}{% endfor %}")
case("cond/inline", "{{ 'yes' if t else 'no' }}|{{ 'yes' if zero else 'no' }}|{{ 'a' if false }}|{{ ('a' if false)|default('dflt') }}")
case("cond/nested", "{{ 'a' if false else 'b' if false else 'c' }}")

# Attribute and item access, slicing
case("access/dict_dot_and_key", "{{ messages[0].role }}|{{ messages[0]['content'] }}|{{ d.a }}|{{ d['C'] }}")
case("access/negative_index", "{{ items[-1] }}|{{ messages[-1].role }}|{{ 'abc'[-1] }}|{{ items[-5] }}|")
case("access/out_of_range", "[{{ items[10] }}][{{ 'abc'[5] }}][{{ items[10] is defined }}]")
case("access/missing_key", "[{{ d.zzz }}][{{ d['zzz'] }}][{{ d.zzz is defined }}][{{ none.x }}][{{ 5.attr }}]")
case("access/undefined_attr_error", "{{ missing.attr }}")
case("access/undefined_item_error", "{{ missing['k'] }}")
case("access/undefined_chain_error", "{{ d.zzz.yyy }}")
case("access/dict_method_shadows_key", "{{ {'items': 'key'}['items'] }}|{{ {'values': 1}.get('values') }}")
case("access/slices", "{{ items[1:] }}|{{ items[:2] }}|{{ items[::-1] }}|{{ items[::2] }}|{{ items[-2:] }}|{{ items[1:-1] }}|{{ items[5:] }}|{{ items[:-5] }}")
case("access/string_slices", "{{ text[2:7] }}|{{ uni[::-1] }}|{{ 'abcdef'[1:5:2] }}|{{ 'abc'[::-2] }}|{{ 'abc'[-10:10] }}")
case("access/slice_messages", "{% for m in messages[1:] %}{{ m.role }},{% endfor %}|{% for m in messages[:-1]|reverse %}{{ m.role }},{% endfor %}")
case("access/slice_step_zero", "{{ items[::0] }}")
case("access/bool_index", "{{ items[true] }}|{{ items[false] }}")
case("access/tuple_index", "{{ (1, 2, 3)[1] }}|{{ (1, 2, 3)[1:] }}")
case("access/int_dot_index", "{{ items.0 }}|{{ nested.x.y.2.z }}")

# Methods
case("method/strip", "[{{ text.strip() }}][{{ text.lstrip() }}][{{ text.rstrip() }}][{{ 'xxhixx'.strip('x') }}][{{ '\\t\\n hi \\u3000'.strip() }}][{{ 'abcba'.strip('ab') }}]")
case("method/split", "{{ 'a,b,,c'.split(',') }}|{{ '  a  b c '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a-b-c'.split('-', maxsplit=1) }}|{{ ''.split(',') }}|{{ ''.split() }}")
case("method/rsplit", "{{ 'a.b.c'.rsplit('.', 1) }}|{{ ' a b c '.rsplit(None, 1) }}|{{ ' a b c '.rsplit(None, 2) }}|{{ '  '.rsplit(None, 1) }}")
case("method/split_maxsplit_whitespace", "{{ '  a  b c  '.split(None, 1) }}|{{ 'a b'.split(None, 0) }}|{{ ' a '.split(None, 5) }}")
case("method/starts_ends", "{{ 'hello'.startswith('he') }}{{ 'hello'.endswith('lo') }}{{ 'hello'.startswith(('x', 'h')) }}{{ 'hello'.endswith(('x', 'y')) }}{{ ''.startswith('') }}")
case("method/case", "{{ 'hello world'.upper() }}|{{ 'HeLLo'.lower() }}|{{ 'hello wORLD foo-bar'.title() }}|{{ 'hELLO'.capitalize() }}|{{ 'ß straße'.upper() }}|{{ 'ÉCOLE'.lower() }}")
case("method/replace", "{{ 'aaa'.replace('a', 'b') }}|{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'abc'.replace('', '-') }}|{{ 'x'.replace('y', 'z') }}")
case("method/find_count", "{{ 'hello'.find('l') }}|{{ 'hello'.find('z') }}|{{ 'hello'.rfind('l') }}|{{ 'hello'.count('l') }}|{{ 'hello'.index('e') }}|{{ '日本日本'.find('本') }}")
case("method/format", "{{ '{} and {}'.format('a', 'b') }}|{{ '{1}{0}'.format('x', 'y') }}|{{ '{name}!'.format(name='Bob') }}|{{ '{{literal}}'.format() }}")
case("method/join_and_misc", "{{ ', '.join(['a', 'b']) }}|{{ 'ab'.center(6, '*') }}|{{ '42'.zfill(5) }}|{{ 'abc'.isalpha() }}{{ '12'.isdigit() }}{{ ' '.isspace() }}{{ 'ab'.islower() }}{{ 'AB'.isupper() }}")
case("method/splitlines", "{{ multiline.splitlines() }}|{{ 'a\\r\\nb\\rc'.splitlines() }}")
case("method/prefix_suffix", "{{ 'prefix-body'.removeprefix('prefix-') }}|{{ 'body.txt'.removesuffix('.txt') }}")
case("method/dict", "{{ d.items() | list }}|{{ d.keys() | list }}|{{ d.values() | list }}|{{ d.get('a') }}|{{ d.get('zz') }}|{{ d.get('zz', 'dflt') }}")
case("method/dict_items_loop", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}")
case("method/list", "{{ [1, 2, 1].count(1) }}|{{ ['a', 'b'].index('b') }}")
case("method/unsafe_append", "{% set l = [] %}{{ l.append(1) }}")
case("method/unsafe_update", "{% set x = {} %}{{ x.update({'a': 1}) }}")
case("method/unsafe_not_called", "[{{ items.append }}]")
case("method/on_undefined", "{{ missing.strip() }}")
case("method/unknown_on_string", "{{ 'abc'.nosuchmethod() }}")

# Filters
case("filter/trim", "[{{ text|trim }}][{{ 'xxhixx'|trim('x') }}][{{ missing|trim }}][{{ 5|trim }}]")
case("filter/tojson_basic", "{{ messages|tojson }}")
case("filter/tojson_indent", "{{ schema|tojson(indent=4) }}|{{ [1, [2, {}], []]|tojson(indent=2) }}|{{ {'a': 1}|tojson(indent=0) }}")
case("filter/tojson_separators", "{{ d|tojson(separators=(',', ':')) }}|{{ items|tojson(separators=[';', '=']) }}")
case("filter/tojson_sort_keys", "{{ d|tojson(sort_keys=true) }}|{{ {'b': {'d': 1, 'c': 2}, 'a': 0}|tojson(sort_keys=true, indent=1) }}")
case("filter/tojson_values", "{{ [none, true, false, 1, -2, 1.0, 0.5, 1e16, 1e-7, 'é日🎉', 'q\"\\\\/', '\\n\\t\\r\\b\\f\\x01\\x7f', (1, 2)]|tojson }}")
case("filter/tojson_floats", "{{ floats|tojson }}")
case("filter/tojson_ensure_ascii", "{{ uni|tojson(ensure_ascii=true) }}|{{ 'é\\x7f'|tojson(ensure_ascii=true) }}")
case("filter/tojson_key_types", "{{ {1: 'a', 2.5: 'b', true: 'c', none: 'd'}|tojson }}")
case("filter/tojson_undefined_error", "{{ missing|tojson }}")
case("filter/tojson_string", "{{ 'plain'|tojson }}|{{ 42|tojson }}|{{ none|tojson }}")
case("filter/length", "{{ items|length }}|{{ 'héllo'|length }}|{{ d|count }}|{{ missing|length }}|{{ uni|length }}")
case("filter/length_of_int_error", "{{ 5|length }}")
case("filter/case", "{{ 'hello world'|upper }}|{{ 'HeLLo'|lower }}|{{ 'hello wORLD foo-bar (baz) [qux]'|title }}|{{ 'hELLO wORLD'|capitalize }}|{{ missing|upper }}")
case("filter/replace", "{{ 'aaa'|replace('a', 'b') }}|{{ 'aaa'|replace('a', 'b', 2) }}|{{ 123|replace('2', 'x') }}")
case("filter/join", "{{ items|join }}|{{ items|join(', ') }}|{{ users|join(', ', attribute='name') }}|{{ []|join('x') }}|{{ 'abc'|join('-') }}")
case("filter/first_last", "{{ items|first }}|{{ items|last }}|{{ 'abc'|first }}|{{ 'abc'|last }}|{{ d|first }}|[{{ []|first }}][{{ missing|first }}][{{ missing|last }}]")
case("filter/default", "{{ missing|default('x') }}|{{ none|default('x') }}|{{ ''|default('x') }}|{{ ''|default('x', true) }}|{{ 0|d('zero', boolean=true) }}|{{ missing|d }}|{{ name|default('x') }}")
case("filter/string", "{{ 1|string }}|{{ [1, 'a']|string }}|{{ none|string }}|[{{ missing|string }}]|{{ (1|string) ~ '!' }}")
case("filter/int", "{{ '42'|int }}|{{ ' 7 '|int }}|{{ '3.9'|int }}|{{ 'x'|int }}|{{ 'x'|int(-1) }}|{{ 4.7|int }}|{{ -4.7|int }}|{{ true|int }}|{{ '0x1A'|int(0, 16) }}|{{ '1_000'|int }}|{{ none|int }}")
case("filter/float", "{{ '1.5'|float }}|{{ 3|float }}|{{ 'x'|float }}|{{ 'x'|float(-1.0) }}|{{ '1e3'|float }}|{{ ' 2 '|float }}|{{ none|float }}")
case("filter/list", "{{ 'abc'|list }}|{{ d|list }}|{{ (1, 2)|list }}|{{ missing|list }}|{{ items|list }}")
case("filter/items", "{{ d|items|list }}|{% for k, v in d|items %}{{ k }}{{ v }}{% endfor %}|{{ missing|items|list }}")
case("filter/items_error", "{{ [1]|items|list }}")
case("filter/dictsort", "{{ d|dictsort }}|{{ d|dictsort(true) }}|{{ d|dictsort(by='value') }}|{{ d|dictsort(reverse=true) }}")
case("filter/selectattr", "{{ users|selectattr('admin')|map(attribute='name')|list }}|{{ users|selectattr('age', 'equalto', 31)|map(attribute='name')|join(',') }}|{{ messages|selectattr('role', 'eq', 'user')|list|length }}")
case("filter/rejectattr", "{{ users|rejectattr('admin')|map(attribute='name')|list }}|{{ messages|rejectattr('role', 'in', ['system', 'assistant'])|map(attribute='content')|list }}")
case("filter/select_reject", "{{ [0, 1, 2, 3, 4]|select('odd')|list }}|{{ [0, 1, 2, '', none]|select|list }}|{{ [1, 2, 3, 4]|reject('even')|list }}|{{ [1, 5, 10]|select('gt', 3)|list }}|{{ ['a', 1, 'b']|select('string')|list }}")
case("filter/select_divisibleby", "{{ range(1, 13)|select('divisibleby', 3)|list }}")
case("filter/generator_truthy", "{{ 'T' if messages|selectattr('role', 'equalto', 'nobody') else 'F' }}|{{ 'T' if messages|selectattr('role', 'equalto', 'nobody')|list else 'F' }}")
case("filter/generator_length_error", "{{ messages|selectattr('role', 'equalto', 'user')|length }}")
case("filter/generator_once", "{% set g = items|select('odd') %}{{ g|list }}|{{ g|list }}")
case("filter/map", "{{ items|map('string')|join('-') }}|{{ users|map(attribute='name')|map('upper')|list }}|{{ users|map(attribute='admin', default='n/a')|list }}|{{ ['a', 'b']|map('replace', 'a', 'z')|list }}|{{ none|map('upper')|list }}")
case("filter/map_nested_attribute", "{{ [nested, nested]|map(attribute='x.y.0')|list }}")
case("filter/unique", "{{ [1, 2, 1, 3, 2]|unique|list }}|{{ words|unique|list }}|{{ words|unique(case_sensitive=true)|list }}|{{ users|unique(attribute='age')|map(attribute='name')|list }}")
case("filter/reverse", "{{ items|reverse|list }}|{{ 'abc'|reverse }}|{{ (1, 2)|reverse|list }}|{{ d|reverse|list }}")
case("filter/sort", "{{ items|sort }}|{{ items|sort(reverse=true) }}|{{ words|sort }}|{{ words|sort(case_sensitive=true) }}|{{ users|sort(attribute='age')|map(attribute='name')|list }}|{{ users|sort(attribute='age', reverse=true)|map(attribute='name')|list }}")
case("filter/sort_mixed_error", "{{ [1, 'a']|sort }}")
case("filter/sum_min_max", "{{ items|sum }}|{{ items|sum(start=10) }}|{{ users|sum(attribute='age') }}|{{ items|min }}|{{ items|max }}|{{ words|min }}|{{ words|max }}|{{ users|max(attribute='age')|attr('get') is defined }}|[{{ []|max }}]|{{ [1.5, 2]|sum }}")
case("filter/minmax_attribute", "{{ (users|min(attribute='age')).name }}|{{ (users|max(attribute='age')).name }}")
case("filter/abs_round", "{{ -3|abs }}|{{ -2.5|abs }}|{{ 2.5|round }}|{{ 3.5|round }}|{{ 2.675|round(2) }}|{{ 2.1|round(0, 'ceil') }}|{{ 2.9|round(method='floor') }}|{{ 7|round }}|{{ 1.23456|round(3) }}|{{ -0.5|round }}")
case("filter/wordcount", "{{ \"Hello, world! It's me_2.\"|wordcount }}|{{ ''|wordcount }}|{{ '日本 語'|wordcount }}")
case("filter/center", "[{{ 'ab'|center(7) }}][{{ 'abc'|center(2) }}]")
case("filter/escape", "{{ '<a href=\"x\">&\\'</a>'|e }}|{{ '<b>'|escape }}")
case("filter/safe", "{{ '<b>'|safe }}|{{ 5|safe }}")
case("filter/truncate", "{{ 'The quick brown fox jumps over the lazy dog'|truncate(20) }}|{{ 'The quick brown fox jumps'|truncate(10, true) }}|{{ 'short'|truncate(10) }}|{{ 'abcdefghijklmn'|truncate(10, end='!') }}")
case("filter/indent", "{{ multiline|indent }}|{{ multiline|indent(2, true) }}|{{ multiline|indent(2, blank=true) }}|{{ multiline|indent('> ', first=true, blank=true) }}|{{ 'one'|indent(first=true) }}|{{ ''|indent(first=true) }}|{{ 'a\\n'|indent }}")
case("filter/batch", "{{ [1, 2, 3, 4, 5]|batch(2)|list }}|{{ [1, 2, 3]|batch(2, 'x')|list }}")
case("filter/format", "{{ '%s is %d'|format('x', 3) }}|{{ 'hi %s'|format(name) }}")
case("filter/attr", "{{ messages[0]|attr('role') }}|{{ messages[0]|attr('items') is defined }}|{{ 'abc'|attr('upper') is callable }}")
case("filter/chain", "{{ '  a,B , c '|trim|lower|replace(' ', '')|upper }}")
case("filter/on_none_error", "{{ none|join }}")
case("filter/unknown_compile_error", "{{ x|nosuchfilter }}")
case("filter/unknown_in_if_ok", "{% if false %}{{ x|nosuchfilter }}{% endif %}ok")
case("filter/unknown_in_if_runs", "{% if true %}{{ x|nosuchfilter }}{% endif %}")
case("filter/precedence", "{{ -3|abs }}|{{ 1 + -3|abs }}|{{ 'a' ~ 'b'|upper }}|{{ [3, 1]|sort|first + 1 }}")

# Tests
case("test/defined", "{{ name is defined }}{{ missing is defined }}{{ missing is undefined }}{{ none_value is defined }}{{ d.zzz is defined }}{{ name is not defined }}")
case("test/none_bool", "{{ none is none }}{{ none_value is none }}{{ 0 is none }}{{ true is boolean }}{{ 1 is boolean }}{{ true is true }}{{ 1 is true }}{{ false is false }}{{ 0 is false }}{{ missing is none }}")
case("test/types", "{{ 'a' is string }}{{ 1 is string }}{{ 1 is number }}{{ 1.5 is number }}{{ true is number }}{{ 1 is integer }}{{ true is integer }}{{ 1.0 is integer }}{{ 1.0 is float }}{{ 1 is float }}")
case("test/containers", "{{ d is mapping }}{{ items is mapping }}{{ items is iterable }}{{ 'a' is iterable }}{{ 1 is iterable }}{{ missing is iterable }}{{ items is sequence }}{{ d is sequence }}{{ 'a' is sequence }}{{ 1 is sequence }}{{ none is iterable }}")
case("test/content_checks", "{% for m in [{'content': 'x'}, {'content': [{'type': 'text', 'text': 'y'}]}, {'content': none}] %}{{ m.content is string }}/{{ m.content is iterable }}/{{ m.content is mapping }}/{{ m.content is sequence }};{% endfor %}")
case("test/callable", "{{ range is callable }}{{ 'a'.upper is callable }}{{ 'a' is callable }}{{ raise_exception is callable }}")
case("test/comparisons", "{{ 1 is eq 1 }}{{ 1 is equalto 2 }}{{ 1 is ne 2 }}{{ 1 is lt 2 }}{{ 2 is gt 1 }}{{ 2 is le 2 }}{{ 2 is ge 3 }}{{ 1 is lessthan 2 }}{{ 3 is greaterthan 2 }}")
case("test/numbers", "{{ 3 is odd }}{{ 3 is even }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 10 is divisibleby(3) }}{{ -3 is odd }}{{ 3.0 is odd }}")
case("test/in", "{{ 'a' is in ['a', 'b'] }}{{ 'c' is in 'abc' }}{{ 'z' is in {'z': 1} }}{{ 3 is not in [1] }}")
case("test/case", "{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ 'Abc' is lower }}{{ '123' is lower }}")
case("test/not_and_chain", "{{ not missing is defined }}{{ missing is not defined and true }}{{ 1 is number and 'x' is string }}")
case("test/sameas", "{{ none is sameas none }}{{ false is sameas false }}{{ 0 is sameas false }}")
case("test/filter_test_exist", "{{ 'upper' is filter }}{{ 'nope' is filter }}{{ 'odd' is test }}")
case("test/unknown_compile_error", "{{ 1 is nosuchtest }}")
case("test/odd_string_error", "{{ 'a' is odd }}")

# Whitespace control, trim_blocks, lstrip_blocks, comments, raw
case("ws/trim_blocks", "{% if true %}\nyes\n{% endif %}\nend")
case("ws/lstrip_blocks", "start\n    {% if true %}\n    indented\n    {% endif %}\nend")
case("ws/lstrip_not_variables", "a\n    {{ 'x' }}\n  b")
case("ws/minus_left", "a   \n\n  {%- if true %}b{% endif %}")
case("ws/minus_right", "{% if true -%}   \n\n  b{% endif %}")
case("ws/minus_variable", "a  {{- 'x' -}}  \n b")
case("ws/plus_disables_lstrip", "a\n    {%+ if true %}x{% endif %}")
case("ws/plus_end_disables_trim", "{% if true +%}\nx{% endif %}")
case("ws/comment_trim", "a\n{# comment #}\nb\n   {# indented comment #}\nc {#- tight -#} d")
case("ws/comment_multiline", "x{# multi\nline\n#}y")
case("ws/comment_minus_trailing", "x  {#- c #}\n  y")
case("ws/raw", "{% raw %}{{ not evaluated }} {% if %}{% endraw %}|")
case("ws/raw_trim", "a\n  {% raw -%}  \n x {{ y }}\n  {%- endraw %}\nb")
case("ws/raw_newline_after", "{% raw %}\nkept{% endraw %}\nafter")
case("ws/trailing_newline_dropped", "text\n")
case("ws/two_trailing_newlines", "text\n\n")
case("ws/crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc\r\n")
case("ws/lstrip_tabs", "x\n\t \t{% if true %}y{% endif %}")
case("ws/lstrip_after_text_on_line", "x  {% if true %}y{% endif %}")
case("ws/lstrip_start_of_template", "   {% if true %}y{% endif %}")
case("ws/for_loop_lines", "{% for m in messages %}\n  {{ m.role }}\n{% endfor %}\n")
case("ws/minus_everywhere", "{%- for i in items -%}\n  {{- i -}}\n{%- endfor -%}\n")
case("ws/block_end_newline_then_var", "{% set x = 1 %}\n{{ x }}\n{% set y = 2 %}\n\n{{ y }}")
case("ws/nested_indent", "{% for m in messages %}\n    {% if m.role == 'user' %}\n        U:{{ m.content }}\n    {% else %}\n        O\n    {% endif %}\n{% endfor %}")
case("ws/unicode_space_lstrip", "x\n\u00a0{% if true %}y{% endif %}")

# Statements: if, for, set, namespace, macro, loop controls, filter blocks, with, generation
case("if/elif_else", "{% for n in [1, 2, 3] %}{% if n == 1 %}one{% elif n == 2 %}two{% else %}many{% endif %};{% endfor %}")
case("if/tuple_test", "{% if 0, 0 %}tuple is true{% endif %}")
case("if/set_leaks", "{% if true %}{% set leaked = 'yes' %}{% endif %}{{ leaked }}")
case("for/loop_vars", "{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}")
case("for/previtem_nextitem", "{% for x in items %}[{{ loop.previtem }}|{{ loop.nextitem }}|{{ loop.previtem is defined }}]{% endfor %}")
case("for/unpack", "{% for a, b in [(1, 2), [3, 4]] %}{{ a }}-{{ b }};{% endfor %}{% for k, v in {'x': 1}.items() %}{{ k }}{{ v }}{% endfor %}")
case("for/unpack_error", "{% for a, b in [(1, 2, 3)] %}{% endfor %}")
case("for/else", "{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in [1] %}x{% else %}empty{% endfor %}")
case("for/inline_if", "{% for x in range(10) if x is odd %}{{ x }}{{ '' if loop.last else ',' }}{% endfor %}|{% for m in messages if m.role != 'system' %}{{ loop.index }}{{ m.role }}{% endfor %}")
case("for/string_and_dict", "{% for c in 'héllo' %}{{ c }}.{% endfor %}|{% for k in d %}{{ k }}{% endfor %}")
case("for/undefined_empty", "{% for x in missing %}x{% else %}none{% endfor %}")
case("for/none_error", "{% for x in none %}{% endfor %}")
case("for/scoping", "{% set x = 'outer' %}{% for i in [1, 2] %}{{ x }}{% set x = 'inner' ~ i %}{{ x }};{% endfor %}{{ x }}")
case("for/scoping_fresh_per_iteration", "{% for i in [1, 2] %}[{{ y|default('unset') }}]{% set y = i %}{% endfor %}[{{ y }}]")
case("for/nested_loop_var", "{% for a in [1, 2] %}{% set outer = loop %}{% for b in 'xy' %}{{ outer.index }}{{ loop.index }}{{ b }} {% endfor %}{% endfor %}")
case("for/break_continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}")
case("for/loop_cycle", "{% for i in range(5) %}{{ loop.cycle('a', 'b') }}{% endfor %}")
case("for/range", "{{ range(3)|list }}|{{ range(1, 4)|list }}|{{ range(10, 0, -3)|list }}|{{ range(0)|list }}")
case("for/range_too_big", "{% for i in range(1000000) %}{% endfor %}")
case("for/reverse_messages", "{% for m in messages[::-1] %}{{ loop.index0 }}{{ m.role[0] }}{% endfor %}")
case("for/loop_length_after_filter", "{% for m in messages if m.role == 'user' %}{{ loop.length }}{% endfor %}")
case("set/basic", "{% set a = 1 %}{% set b, c = 2, 3 %}{% set t = 4, 5 %}{{ a }}{{ b }}{{ c }}{{ t }}")
case("set/block", "{% set body %}Hello {{ name }}!{% endset %}[{{ body }}]{{ body|length }}")
case("set/block_filter", "{% set body | upper | trim %}  hi {{ name }}  {% endset %}[{{ body }}]")
case("set/namespace", "{% set ns = namespace(count=0, found=false) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.count = ns.count + 1 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.count }}{{ ns.found }}")
case("set/namespace_block", "{% set ns = namespace() %}{% set ns.text %}block {{ 1 + 1 }}{% endset %}{{ ns.text }}|{{ ns.missing is defined }}|{{ ns['text'] }}")
case("set/namespace_dict_arg", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}")
case("set/non_namespace_error", "{% set d2 = {} %}{% set d2.x = 1 %}")
case("set/dict_global", "{{ dict(a=1, b='x') }}|{{ dict([('k', 'v')]) }}")
case("macro/basic", "{% macro greet(who, greeting='Hello') %}{{ greeting }}, {{ who }}!{% endmacro %}{{ greet('Ann') }}|{{ greet('Bob', 'Hi') }}|{{ greet(greeting='Yo', who='Cy') }}")
case("macro/missing_arg_undefined", "{% macro m(a, b) %}[{{ a }}][{{ b }}][{{ b is defined }}]{% endmacro %}{{ m(1) }}")
case("macro/too_many_args", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}")
case("macro/unknown_kwarg", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(b=2) }}")
case("macro/varargs_kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}")
case("macro/defaults_see_context", "{% set dflt = 'ctx' %}{% macro m(a=dflt, b=a ~ '!') %}{{ a }}{{ b }}{% endmacro %}{{ m() }}")
case("macro/reads_later_globals", "{% macro m() %}{{ late }}{% endmacro %}{% set late = 'L' %}{{ m() }}")
case("macro/lexical_scope", "{% macro m() %}[{{ z }}]{% endmacro %}{% for z in [5] %}{{ m() }}{% endfor %}")
case("macro/recursion", "{% macro render(v) %}{% if v is mapping %}{{ '{' }}{% for k, x in v.items() %}{{ k }}:{{ render(x) }}{% if not loop.last %},{% endif %}{% endfor %}{{ '}' }}{% elif v is iterable and v is not string %}[{% for x in v %}{{ render(x) }}{% endfor %}]{% else %}{{ v }}{% endif %}{% endmacro %}{{ render(schema) }}")
case("macro/returns_string", "{% macro m() %}  x  {% endmacro %}[{{ m()|trim }}]{{ m()|length }}")
case("macro/call_undefined_error", "{{ nosuchmacro() }}")
case("macro/call_string_error", "{{ name() }}")
case("macro/in_loop_sees_loop_scope", "{% for i in [1, 2] %}{% set x = i * 10 %}{% macro m() %}{{ x }}{% endmacro %}{{ m() }};{% endfor %}")
case("callblock/basic", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}inner {{ name }}{% endcall %}")
case("callblock/with_args", "{% macro each(xs) %}{% for x in xs %}{{ caller(x, loop.index) }}{% endfor %}{% endmacro %}{% call(item, i) each(items) %}[{{ i }}:{{ item }}]{% endcall %}")
case("callblock/caller_undefined", "{% macro m() %}{{ caller is defined }}{% endmacro %}{{ m() }}")
case("callblock/in_loop_sees_loop_vars", "{% macro turn(role) %}<{{ role }}>{{ caller() }}</{{ role }}>{% endmacro %}{% for m in messages %}{% call turn(m.role) %}{{ loop.index }}:{{ m.content[:5] }}{% for w in ['a', 'b'] %}{{ w }}{{ loop.index0 }}{% endfor %}{% endcall %}{% endfor %}")
case("callblock/recursive_schema", "{% macro field(name, spec) %}{{ name }}={{ caller(spec) }}{% endmacro %}{% macro describe(spec) %}{% if spec.type == 'object' %}{% for key, sub in spec.properties|items %}{% call(inner) field(key, sub) %}{{ describe(inner) }}{% endcall %}{{ '; ' if not loop.last }}{% endfor %}{% elif spec.enum is defined %}{{ spec.enum|join('|') }}{% else %}{{ spec.type }}{% endif %}{% endmacro %}{% for tool in tools %}{{ tool.function.name }}({{ describe(tool.function.parameters) }})\n{% endfor %}",
     {"tools": TOOLS})
case("callblock/caller_kwargs_and_default", "{% macro row(label, sep=': ') %}{{ label }}{{ sep }}{{ caller(upper=true) }}{% endmacro %}{% call(upper=false) row('name') %}{{ name|upper if upper else name }}{% endcall %}|{% call(upper=false) row('x', sep='=') %}{{ upper }}{% endcall %}")
case("callblock/nested", "{% macro outer() %}({{ caller() }}){% endmacro %}{% macro inner() %}[{{ caller() }}]{% endmacro %}{% call outer() %}{% call inner() %}x{% endcall %}{% endcall %}")
case("filterblock/upper", "{% filter upper %}hello {{ name }}{% endfilter %}")
case("filterblock/chain", "{% filter trim|replace('a', 'o') %}  banana  {% endfilter %}|")
case("with/block", "{% with a = 1, b = 'x' %}{{ a }}{{ b }}{% endwith %}[{{ a }}]")
case("generation/block", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% else %}{{ m.role }}{% endif %}|{% endfor %}")
case("raise/exception", "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}")
case("raise/non_ascii_message", "{{ raise_exception('Rôles doivent alterner — 日本') }}")
case("raise/in_macro", "{% macro check(m) %}{% if m.role not in ['user', 'assistant', 'system'] %}{{ raise_exception('bad role: ' ~ m.role) }}{% endif %}{% endmacro %}{% for m in messages + [{'role': 'robot'}] %}{{ check(m) }}{% endfor %}")
case("raise/in_unused_branch", "{% if false %}{{ raise_exception('never') }}{% endif %}fine")

# Syntax errors (and where jinja2 reports them)
case("syntax/unclosed_if", "{% if true %}\nabc")
case("syntax/unclosed_for", "line1\n{% for x in items %}{{ x }}")
case("syntax/unknown_tag", "a\nb\n{% frobnicate %}")
case("syntax/bad_expression", "{{ 1 + }}")
case("syntax/unclosed_variable", "x\n{{ name ")
case("syntax/unclosed_comment", "{# never closed")
case("syntax/unclosed_string", "{{ 'abc }}")
case("syntax/unbalanced_paren", "{{ (1 + 2 }}")
case("syntax/extra_endif", "{% endif %}")
case("syntax/else_without_if", "a\n{% else %}")
case("syntax/bad_char", "{{ 1 ! 2 }}")
case("syntax/break_outside_loop", "{% break %}")
case("syntax/set_no_target", "{% set = 1 %}")
case("syntax/elif_after_else", "{% if a %}{% else %}{% elif b %}{% endif %}")
case("syntax/chained_is", "{{ 1 is number is number }}")
case("syntax/empty_print", "{{ }}")
case("syntax/missing_endmacro", "{% macro m() %}x")
case("syntax/unexpected_end_bracket", "{{ ] }}")
case("syntax/non_default_after_default", "{% macro m(a=1, b) %}{% endmacro %}")

# Shapes real chat templates use
case("shape/content_parts_loop", "{% for m in messages %}{% if m.content is string %}{{ m.content }}{% else %}{% for p in m.content %}{% if p.type == 'text' %}{{ p.text }}{% endif %}{% endfor %}{% endif %}|{% endfor %}",
     {"messages": [USER, {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image"}, {"type": "text", "text": "b"}]}]})
case("shape/tool_call_arguments", "{% for tc in message.tool_calls %}{{ tc.function.name }}({% for k, v in tc.function.arguments|items %}{{ k }}={{ v|tojson }}{{ ', ' if not loop.last }}{% endfor %}){% endfor %}",
     {"message": TOOL_CALL})
case("shape/tools_json_lines", "{% for tool in tools %}{{ tool|tojson }}\n{% endfor %}", {"tools": TOOLS})
case("shape/tools_indent4", "{% for t in tools %}{{ t|tojson(indent=4) }}\n\n{% endfor %}", {"tools": TOOLS})
case("shape/system_extract", "{% if messages[0]['role'] == 'system' %}{% set system_message = messages[0]['content']|trim %}{% set messages = messages[1:] %}{% else %}{% set system_message = '' %}{% endif %}[{{ system_message }}]{{ messages|length }}")
case("shape/last_user_index", "{% set ns = namespace(last=-1) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.last = loop.index0 %}{% endif %}{% endfor %}{{ ns.last }}")
case("shape/alternation_check", "{% for m in messages[1:] %}{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{{ m.role }};{% endfor %}")
case("shape/content_none", "{{ '<|im_start|>' + m.role + '\\n' }}{% if m.content %}{{ m.content }}{% endif %}[{{ m.content }}]", {"m": {"role": "assistant", "content": None}})
case("shape/string_plus_none_error", "{{ 'x' + m.content }}", {"m": {"role": "assistant", "content": None}})
case("shape/arguments_string_or_dict", "{% for a in [{'x': 1}, '{\"x\": 1}'] %}{% if a is string %}{{ a }}{% else %}{{ a|tojson }}{% endif %};{% endfor %}")
case("shape/think_split", "{% set c = '<think>\\nreason\\n</think>\\n\\nanswer' %}{{ c.split('</think>')[-1].lstrip('\\n') }}|{{ c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}")
case("shape/date_string", "{% if not date_string is defined %}{% set date_string = '26 Jul 2024' %}{% endif %}Today Date: {{ date_string }}")
case("shape/bos_undefined", "[{{ bos_token }}]{{ messages|length }}", {"messages": [USER]})
case("shape/generation_prompt_undefined", "{% if add_generation_prompt %}gen{% else %}nogen{% endif %}", {"messages": [USER]})
case("shape/tools_is_none", "{% if tools is not none and tools is defined %}T{% else %}F{% endif %}{% if not tools %}!{% endif %}", {"tools": None})
case("shape/json_schema_types", "{% for name, p in schema.properties|items %}{{ name }}: {{ p.type }}{% if p.description is defined %} ({{ p.description }}){% endif %}{% if p.default is defined %} = {{ p.default }}{% endif %}\n{% endfor %}")

# Large outputs and loops that stay under the limits
case("scale/thousand_iterations", "{% for i in range(1000) %}{{ i % 10 }}{% endfor %}")
case("scale/nested_loops", "{% for i in range(30) %}{% for j in range(30) %}{% if i == j %}{{ i }},{% endif %}{% endfor %}{% endfor %}")


def corpus_fixtures():
    names = set()
    out = []
    for name, template, extra in C:
        assert name not in names, name
        names.add(name)
        # Most cases render over CTX (fixtures.json's "base_context") plus their own keys; the two
        # `*_undefined` shapes render over their own keys alone.
        standalone = name in ("shape/bos_undefined", "shape/generation_prompt_undefined")
        context = dict(extra or {}) if standalone else {**CTX, **(extra or {})}
        out.append({"name": name, "template": template, "base_context": not standalone, "context": extra or {},
                    **render(template, context)})
    return out


def main():
    fixtures = family_fixtures() + corpus_fixtures()
    with open(os.path.join(HERE, "fixtures.json"), "w", encoding="utf-8") as f:
        json.dump({"jinja2_version": jinja2.__version__, "base_context": CTX, "fixtures": fixtures}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    errors = sum(1 for x in fixtures if "error" in x)
    print(f"{len(fixtures)} fixtures ({len(C)} corpus templates, {errors} expected errors)")


if __name__ == "__main__":
    main()
