#!/usr/bin/env python3
"""Writes corpus.json: JSON Schemas with documents labelled valid/invalid by `jsonschema`.

    pip install jsonschema
    python3 make_corpus.py        # rewrites corpus.json next to this script (commit it)

For each schema (Pydantic v2 / openai SDK style: additionalProperties false, $defs, anyOf for
Optional; plus bounds, enums, consts, tuples, recursion), random valid documents are generated
and then mutated (a leaf changed in value or type, a key dropped or added, an array grown or
shrunk), and every document is labelled with jsonschema's Draft 2020-12 validator. The Swift test
(CorpusTests) checks that the grammar accepts exactly the documents labelled valid.

Documents are written in the serialisations the grammar accepts (see JSONPieces.swift): keys in
schema order (extra keys after the declared ones), compact, Python's default ", " / ": ", or
indent=2 when no deeper than 10 levels; UTF-8 as is (ensure_ascii=False). The generator avoids
what the grammar deliberately does not produce although JSON Schema allows it: integers written
as 1.0, integers of more than 19 digits, exponents of three digits, a oneOf document matching two
branches, extra keys equal to declared names.
"""

import json
import random
from pathlib import Path

from jsonschema import Draft202012Validator

HERE = Path(__file__).resolve().parent
PER_LABEL = 60  # documents of each label per schema (fewer where the schema admits fewer)
rng = random.Random(20240601)

CHARS = list("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 _-.,:;!?/") + [
    '"', "\\", "\n", "\t", "\x01", "\x1f", "\x7f", "é", "ü", "ß", "中", "文", "😀", "𝄞", "\u2028", "€",
]

SCHEMAS = {}


def schema(name):
    def register(fn):
        SCHEMAS[name] = fn()
        return fn
    return register


@schema("flat_person")
def _():
    return {"type": "object", "title": "Person", "properties": {
        "name": {"type": "string", "title": "Name"},
        "age": {"type": "integer", "minimum": 0, "title": "Age"},
        "email": {"type": "string"}},
        "required": ["name", "age", "email"], "additionalProperties": False}


@schema("optional_properties")
def _():
    return {"type": "object", "properties": {
        "a": {"type": "integer"}, "b": {"type": "string"}, "c": {"type": "boolean"},
        "d": {"type": "integer", "maximum": 10}, "e": {"type": "null"}, "f": {"type": "string", "maxLength": 2}},
        "required": ["c"], "additionalProperties": False}


@schema("all_optional")
def _():
    return {"type": "object", "properties": {k: {"type": "integer"} for k in ["x", "xy", "xyz", "y", "z"]},
            "additionalProperties": False}


@schema("enum_and_const")
def _():
    return {"type": "object", "properties": {
        "status": {"type": "string", "enum": ["active", "inactive", "act", "pending review"]},
        "version": {"const": 2},
        "kind": {"const": "widget"},
        "level": {"enum": [1, 2, 3, 10, 20]}},
        "required": ["status", "version", "kind", "level"], "additionalProperties": False}


@schema("nullable_type_list")
def _():
    return {"type": "object", "properties": {
        "nickname": {"type": ["string", "null"]},
        "count": {"type": ["integer", "null"], "minimum": 1}},
        "required": ["nickname", "count"], "additionalProperties": False}


@schema("anyof_union")
def _():
    return {"type": "object", "properties": {
        "value": {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}], "default": None, "title": "Value"},
        "number_or_bool": {"anyOf": [{"type": "number"}, {"type": "boolean"}]}},
        "required": ["value", "number_or_bool"], "additionalProperties": False}


@schema("nested_objects")
def _():
    address = {"type": "object", "properties": {
        "street": {"type": "string"}, "city": {"type": "string", "minLength": 1},
        "geo": {"type": "object", "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
                "required": ["lat", "lon"], "additionalProperties": False}},
        "required": ["street", "city"], "additionalProperties": False}
    return {"type": "object", "properties": {"name": {"type": "string"}, "home": address, "work": address},
            "required": ["name", "home"], "additionalProperties": False}


@schema("array_bounds")
def _():
    return {"type": "object", "properties": {
        "scores": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 100}, "minItems": 1, "maxItems": 3},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 4}, "minItems": 2},
        "empty": {"type": "array", "maxItems": 0},
        "exact": {"type": "array", "items": {"type": "boolean"}, "minItems": 2, "maxItems": 2}},
        "required": ["scores", "tags", "empty", "exact"], "additionalProperties": False}


@schema("string_lengths")
def _():
    return {"type": "object", "properties": {
        "code": {"type": "string", "minLength": 2, "maxLength": 5},
        "word": {"type": "string", "minLength": 3},
        "short": {"type": "string", "maxLength": 1},
        "fixed": {"type": "string", "minLength": 4, "maxLength": 4}},
        "required": ["code", "word", "short", "fixed"], "additionalProperties": False}


@schema("integer_ranges")
def _():
    return {"type": "object", "properties": {
        "small": {"type": "integer", "minimum": -50, "maximum": 50},
        "positive": {"type": "integer", "exclusiveMinimum": 0},
        "three_digits": {"type": "integer", "minimum": 100, "maximum": 999},
        "big": {"type": "integer", "minimum": 1000000, "maximum": 9999999999},
        "negative": {"type": "integer", "minimum": -1000, "exclusiveMaximum": -9},
        "odd_bounds": {"type": "integer", "minimum": 0.5, "maximum": 17.9},
        "upto": {"type": "integer", "maximum": 123}},
        "required": ["small", "positive", "three_digits", "big", "negative", "odd_bounds", "upto"],
        "additionalProperties": False}


@schema("pydantic_defs")
def _():
    return {"$defs": {
        "Address": {"properties": {"street": {"title": "Street", "type": "string"}, "zip": {"title": "Zip", "type": "string", "maxLength": 6}},
                    "required": ["street", "zip"], "title": "Address", "type": "object", "additionalProperties": False},
        "Color": {"enum": ["red", "green", "blue"], "title": "Color", "type": "string"}},
        "properties": {
            "name": {"title": "Name", "type": "string"},
            "address": {"$ref": "#/$defs/Address"},
            "previous": {"anyOf": [{"$ref": "#/$defs/Address"}, {"type": "null"}]},
            "favorite": {"$ref": "#/$defs/Color"},
            "colors": {"items": {"$ref": "#/$defs/Color"}, "title": "Colors", "type": "array"}},
        "required": ["name", "address", "previous", "favorite", "colors"], "title": "User", "type": "object",
        "additionalProperties": False}


@schema("recursive_tree")
def _():
    return {"$defs": {"Node": {"type": "object", "properties": {
        "value": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
        "required": ["value", "children"], "additionalProperties": False}},
        "$ref": "#/$defs/Node"}


@schema("linked_list")
def _():
    return {"$defs": {"ListNode": {"type": "object", "properties": {
        "value": {"type": "string"}, "next": {"anyOf": [{"$ref": "#/$defs/ListNode"}, {"type": "null"}]}},
        "required": ["value", "next"], "additionalProperties": False}},
        "type": "object", "properties": {"head": {"anyOf": [{"$ref": "#/$defs/ListNode"}, {"type": "null"}]}},
        "required": ["head"], "additionalProperties": False}


@schema("root_recursion")
def _():
    return {"type": "object", "properties": {
        "name": {"type": "string"}, "parent": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}},
        "required": ["name"], "additionalProperties": False}


@schema("definitions_keyword")
def _():
    return {"definitions": {"Pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False}},
            "type": "object", "properties": {"pairs": {"type": "array", "items": {"$ref": "#/definitions/Pair"}, "maxItems": 3}},
            "required": ["pairs"], "additionalProperties": False}


@schema("tuple")
def _():
    return {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}], "items": False, "minItems": 2}


@schema("tuple_with_items")
def _():
    return {"type": "array", "prefixItems": [{"const": "header"}], "items": {"type": "number"}, "minItems": 2, "maxItems": 5}


@schema("mixed_enum")
def _():
    return {"enum": [1, "a", None, True, 2.5, "1", [1, 2], {"k": "v"}, "", -7]}


@schema("const_object")
def _():
    return {"type": "object", "properties": {"config": {"const": {"kind": "x", "values": [1, 2, {"deep": None}]}},
                                             "flag": {"const": False}},
            "required": ["config", "flag"], "additionalProperties": False}


@schema("additional_true")
def _():
    return {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
            "required": ["id"], "additionalProperties": True}


@schema("additional_schema")
def _():
    return {"type": "object", "title": "Scores", "properties": {"total": {"type": "integer"}},
            "required": [], "additionalProperties": {"type": "integer", "minimum": 0}}


@schema("allof_single")
def _():
    return {"$defs": {"Inner": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"], "additionalProperties": False}},
            "type": "object", "properties": {"inner": {"allOf": [{"$ref": "#/$defs/Inner"}], "description": "wrapped"}},
            "required": ["inner"], "additionalProperties": False}


@schema("oneof_discriminated")
def _():
    cat = {"type": "object", "properties": {"pet_type": {"const": "cat"}, "meows": {"type": "integer"}},
           "required": ["pet_type", "meows"], "additionalProperties": False}
    dog = {"type": "object", "properties": {"pet_type": {"const": "dog"}, "barks": {"type": "number"}},
           "required": ["pet_type", "barks"], "additionalProperties": False}
    return {"type": "object", "properties": {"pet": {"oneOf": [cat, dog], "discriminator": {"propertyName": "pet_type"}}},
            "required": ["pet"], "additionalProperties": False}


@schema("type_union")
def _():
    return {"type": ["integer", "string"], "maxLength": 3, "minimum": -5}


@schema("any_value")
def _():
    return {}


@schema("booleans_nulls")
def _():
    return {"type": "object", "properties": {"b": {"type": "boolean"}, "n": {"type": "null"}, "t": {"const": True}},
            "required": ["b", "n", "t"], "additionalProperties": False}


@schema("numbers")
def _():
    return {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}, "z": {"type": ["number", "null"]}},
            "required": ["x", "y", "z"], "additionalProperties": False}


@schema("bounded_numbers")
def _():
    return {"type": "object", "properties": {
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "temperature": {"type": "number", "exclusiveMinimum": -273.15, "maximum": 1000.5},
        "ratio": {"type": ["number", "null"], "exclusiveMinimum": 0, "exclusiveMaximum": 0.5},
        "offset": {"type": "number", "maximum": -0.25}},
        "required": ["probability", "temperature", "ratio", "offset"], "additionalProperties": False}


@schema("openai_strict_array_of_objects")
def _():
    return {"type": "object", "properties": {
        "steps": {"type": "array", "items": {"type": "object", "properties": {
            "explanation": {"type": "string"}, "output": {"type": "string"},
            "confidence": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 10}, {"type": "null"}]},
            "kind": {"type": "string", "enum": ["reasoning", "calculation"]}},
            "required": ["explanation", "output", "confidence", "kind"], "additionalProperties": False}},
        "final_answer": {"type": "string"}},
        "required": ["steps", "final_answer"], "additionalProperties": False, "strict": True}


@schema("deep_nesting")
def _():
    inner = {"type": "integer"}
    for level in range(5):
        inner = {"type": "object", "properties": {f"l{level}": inner, "s": {"type": "string", "maxLength": 3}},
                 "required": [f"l{level}"], "additionalProperties": False}
    return inner


@schema("special_strings")
def _():
    return {"type": "object", "properties": {
        "choice": {"enum": ["say \"hi\"", "back\\slash", "line\nbreak", "tab\there", "naïve", "日本", "😀 ok", "ctrl\x01", "del\x7f", "slash/"]}},
        "required": ["choice"], "additionalProperties": False}


@schema("special_keys")
def _():
    return {"type": "object", "properties": {
        "a b": {"type": "integer"}, "ü": {"type": "integer"}, "quo\"te": {"type": "integer"}, "x/y~z": {"type": "integer"},
        "": {"type": "integer"}, "new\nline": {"type": "integer"}},
        "required": ["a b"], "additionalProperties": False}


@schema("pydantic_dict_and_list")
def _():
    return {"$defs": {"Item": {"properties": {"sku": {"title": "Sku", "type": "string"}, "qty": {"title": "Qty", "type": "integer", "minimum": 1}},
                               "required": ["sku", "qty"], "title": "Item", "type": "object", "additionalProperties": False}},
            "properties": {
                "items": {"items": {"$ref": "#/$defs/Item"}, "title": "Items", "type": "array", "minItems": 1},
                "metadata": {"additionalProperties": {"type": "string"}, "title": "Metadata", "type": "object"},
                "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None, "title": "Note"}},
            "required": ["items", "metadata"], "title": "Order", "type": "object", "additionalProperties": False}


@schema("root_array")
def _():
    return {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer", "minimum": 1, "maximum": 5}},
                                       "required": ["id"], "additionalProperties": False}, "maxItems": 4}


@schema("untyped_keywords")
def _():
    # No "type": the grammar infers it from the keywords (stricter than JSON Schema, so every
    # generated document has the inferred type).
    return {"type": "object", "properties": {
        "obj": {"properties": {"k": {"type": "integer"}}, "required": ["k"], "additionalProperties": False},
        "text": {"minLength": 1, "maxLength": 3}},
        "required": ["obj", "text"], "additionalProperties": False}


# Documents outside what the grammar generates although jsonschema accepts them, by schema: the
# grammar infers the type of an untyped schema from its keywords (JSON Schema would accept any type).
def floats(v):
    if isinstance(v, float):
        yield v
    elif isinstance(v, list):
        for x in v:
            yield from floats(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from floats(x)


OUT_OF_STYLE = {
    # Bounded numbers are written without an exponent.
    "bounded_numbers": lambda d: any("e" in repr(f) for f in floats(d)),
    "untyped_keywords": lambda d: isinstance(d, dict) and (
        ("obj" in d and not isinstance(d["obj"], dict)) or ("text" in d and not isinstance(d["text"], str))),
}

# --- Generation -----------------------------------------------------------------------------------

def resolve(root, ref):
    node = root
    if ref == "#":
        return root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def rand_string(lo=0, hi=None):
    if hi is None:
        hi = max(lo, rng.choice([0, 1, 3, 6, 12]))
    n = rng.randint(lo, max(lo, hi))
    return "".join(rng.choice(CHARS) for _ in range(n))


def rand_int(lo=None, hi=None):
    if lo is None and hi is None:
        return rng.choice([0, 1, -1, 7, 42, -300, 12345, 10**15, -(10**17), rng.randint(-1000, 1000)])
    if lo is None:
        lo = hi - rng.choice([0, 1, 10, 1000])
    if hi is None:
        hi = lo + rng.choice([0, 1, 10, 1000])
    return rng.choice([lo, hi, rng.randint(lo, hi)])


def rand_float():
    return rng.choice([0.5, -2.25, 3.14159, 1e-07, 123456.789, -0.001, 2.5e+20, 1.0e-5, 99.99, rng.uniform(-100, 100),
                       0.25, -0.25, -273.15, -273.14999, 1000.5, 1000.50001, 0.49999, 0.1, 1e-3])


def int_bounds(s):
    import math
    lo = hi = None
    if "minimum" in s:
        lo = math.ceil(s["minimum"])
    if "exclusiveMinimum" in s:
        lo = max(lo if lo is not None else -10**18, math.floor(s["exclusiveMinimum"]) + 1)
    if "maximum" in s:
        hi = math.floor(s["maximum"])
    if "exclusiveMaximum" in s:
        hi = min(hi if hi is not None else 10**18, math.ceil(s["exclusiveMaximum"]) - 1)
    return lo, hi


def gen(root, s, depth=0):
    if s is True or s == {}:
        return gen_any(depth)
    if "$ref" in s:
        return gen(root, resolve(root, s["$ref"]), depth + 1)
    for key in ("anyOf", "oneOf"):
        if key in s:
            options = s[key]
            if depth > 4:  # prefer branches that stop the recursion
                stop = [o for o in options if "$ref" not in o]
                options = stop or options
            return gen(root, rng.choice(options), depth + 1)
    if "allOf" in s:
        return gen(root, s["allOf"][0], depth + 1)
    if "const" in s:
        return s["const"]
    if "enum" in s:
        return rng.choice(s["enum"])
    types = s.get("type")
    if types is None:
        if "properties" in s:
            types = "object"
        elif "minLength" in s or "maxLength" in s:
            types = "string"
        else:
            return gen_any(depth)
    if isinstance(types, list):
        types = rng.choice(types)
    if types == "null":
        return None
    if types == "boolean":
        return rng.choice([True, False])
    if types == "integer":
        return rand_int(*int_bounds(s))
    if types == "number":
        if any(k in s for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")):
            lo = s.get("minimum", s.get("exclusiveMinimum", -1000))
            hi = s.get("maximum", s.get("exclusiveMaximum", 1000))
            return rng.choice([lo, hi, round(rng.uniform(lo, hi), rng.choice([0, 1, 3, 6])), rand_float()])
        return rng.choice([rand_float(), rand_int()])
    if types == "string":
        return rand_string(s.get("minLength", 0), s.get("maxLength"))
    if types == "array":
        prefix = s.get("prefixItems", [])
        items = s.get("items", {})
        lo = s.get("minItems", 0)
        hi = s.get("maxItems", len(prefix) if items is False else max(lo, len(prefix)) + 3)
        if depth > 4:
            hi = max(lo, len(prefix) if lo <= len(prefix) else lo)
            hi = lo if items is not False or lo > len(prefix) else min(hi, len(prefix))
        n = rng.randint(lo, max(lo, hi))
        if items is False:
            n = min(n, len(prefix))
        return [gen(root, prefix[i] if i < len(prefix) else items, depth + 1) for i in range(n)]
    if types == "object":
        out = {}
        required = set(s.get("required", []))
        for name, sub in s.get("properties", {}).items():
            if name in required or (depth <= 4 and rng.random() < 0.6):
                out[name] = gen(root, sub, depth + 1)
        extra = s.get("additionalProperties", False)
        if extra is not False and rng.random() < 0.5:
            for _ in range(rng.randint(1, 2)):
                key = rng.choice(["extra", "zz", "ünï", "k" + str(rng.randint(0, 99)), "nam", "names", "i"])
                if key not in s.get("properties", {}) and key not in out:
                    out[key] = gen(root, {} if extra is True else extra, depth + 1)
        return out
    raise ValueError(f"unhandled schema {s}")


def gen_any(depth):
    kinds = ["null", "bool", "int", "float", "string"] + (["array", "object"] if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "null":
        return None
    if kind == "bool":
        return rng.choice([True, False])
    if kind == "int":
        return rand_int()
    if kind == "float":
        return rand_float()
    if kind == "string":
        return rand_string()
    if kind == "array":
        return [gen_any(depth + 1) for _ in range(rng.randint(0, 3))]
    return {rand_string(1, 4) + str(i): gen_any(depth + 1) for i in range(rng.randint(0, 3))}


# --- Mutation -------------------------------------------------------------------------------------

def leaves_and_containers(value, path=()):
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves_and_containers(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves_and_containers(v, path + (i,))


def replace_at(value, path, new):
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: (replace_at(v, rest, new) if k == head else v) for k, v in value.items()}
    return [replace_at(v, rest, new) if i == head else v for i, v in enumerate(value)]


def mutate_value(v):
    r = rng.random()
    if isinstance(v, bool) or v is None:
        return rng.choice([0, "true", None if v is not None else False, not v if isinstance(v, bool) else True])
    if isinstance(v, int):
        return rng.choice([v + 1, v - 1, -v, v * 1000, str(v), 0.5, None, v + 10**12])
    if isinstance(v, float):
        return rng.choice([int(v) if abs(v) < 1e15 else 3, -v, str(v), None])
    if isinstance(v, str):
        if r < 0.3 and v:
            return v[:-1]
        if r < 0.6:
            return v + rng.choice(CHARS)
        return rng.choice([v.upper(), 5, None, ["x"]])
    if isinstance(v, list):
        if v and r < 0.4:
            return v[:-1]
        if v and r < 0.8:
            return v + [v[-1]]
        return rng.choice([{}, v + [None], "list"])
    if isinstance(v, dict):
        keys = list(v)
        if keys and r < 0.4:
            drop = rng.choice(keys)
            return {k: x for k, x in v.items() if k != drop}
        if r < 0.8:
            return {**v, "zz_extra": rng.choice([1, "x", None])}
        return rng.choice([[], "obj", None])
    return v


def mutate(doc):
    for _ in range(1 + (rng.random() < 0.3)):
        path, value = rng.choice(list(leaves_and_containers(doc)))
        doc = replace_at(doc, path, mutate_value(value))
    return doc


# --- Serialisation --------------------------------------------------------------------------------

def depth_of(v):
    if isinstance(v, dict):
        return 1 + max((depth_of(x) for x in v.values()), default=0)
    if isinstance(v, list):
        return 1 + max((depth_of(x) for x in v), default=0)
    return 0


def in_grammar_style(v):
    """No integer-valued floats (1.0), no ints beyond 19 digits, no 3-digit positive exponents."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return True
    if isinstance(v, int):
        return len(str(abs(v))) <= 19
    if isinstance(v, float):
        text = repr(v)
        if "e+" in text and len(text.split("e+")[1]) > 2:
            return False
        return "inf" not in text and "nan" not in text
    if isinstance(v, list):
        return all(in_grammar_style(x) for x in v)
    return all(in_grammar_style(x) for x in v.values())


def serialise(v):
    style = rng.choice(["compact", "spaced", "indent"])
    if style == "indent" and depth_of(v) <= 10:
        return json.dumps(v, ensure_ascii=False, indent=2)
    if style == "compact":
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(v, ensure_ascii=False)


def integral_floats_in_integer_fields(v):
    # Whole floats (3.0) are integers to jsonschema but the grammar writes integers without a
    # fraction: keep whole floats out of the corpus altogether.
    if isinstance(v, float):
        return v.is_integer()
    if isinstance(v, list):
        return any(integral_floats_in_integer_fields(x) for x in v)
    if isinstance(v, dict):
        return any(integral_floats_in_integer_fields(x) for x in v.values())
    return False


def oneof_ambiguous(validator, root, doc):
    """A document two oneOf branches accept (jsonschema: invalid; the grammar: oneOf as anyOf)."""
    return any("oneOf" in e.message and "is valid under each of" in e.message for e in validator.iter_errors(doc))


def main():
    out = []
    total = 0
    for name, s in SCHEMAS.items():
        Draft202012Validator.check_schema(s)
        validator = Draft202012Validator(s)
        docs = []
        seen = set()
        valid_count = invalid_count = 0
        attempts = 0
        while (valid_count < PER_LABEL or invalid_count < PER_LABEL) and attempts < 4000:
            attempts += 1
            doc = gen(s, s)
            if rng.random() < 0.55:
                doc = mutate(doc)
            if not in_grammar_style(doc) or integral_floats_in_integer_fields(doc):
                continue
            if oneof_ambiguous(validator, s, doc):
                continue
            if name in OUT_OF_STYLE and OUT_OF_STYLE[name](doc):
                continue
            valid = validator.is_valid(doc)
            if (valid and valid_count >= PER_LABEL) or (not valid and invalid_count >= PER_LABEL):
                continue
            text = serialise(doc)
            if text in seen:
                continue
            seen.add(text)
            docs.append({"text": text, "valid": valid})
            valid_count += valid
            invalid_count += not valid
        total += len(docs)
        out.append({"name": name, "schema": s, "documents": docs})
        print(f"{name}: {valid_count} valid, {invalid_count} invalid")
    path = HERE / "corpus.json"
    path.write_text(json.dumps({"generator": "make_corpus.py (jsonschema Draft 2020-12)", "schemas": out},
                               ensure_ascii=False, indent=1) + "\n")
    print(f"{total} documents, {path.stat().st_size} bytes -> {path}")


if __name__ == "__main__":
    main()
