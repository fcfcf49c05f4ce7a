#!/usr/bin/env python3
"""Structured outputs and tool calls against the shipped model, checked by an independent validator.

  python3 Tests/clients/structured_outputs_test.py                       # starts `dlcm serve` on weights/dlcm-10m-debian
  python3 Tests/clients/structured_outputs_test.py --model DIR --requests 200
  python3 Tests/clients/structured_outputs_test.py --url http://127.0.0.1:8080/v1

Sends --requests requests (default 200) over varied JSON Schemas (flat and nested objects, enums,
nullable fields, bounded arrays and strings, integer ranges, $defs with recursive $ref as Pydantic
and the OpenAI SDK emit them) and tool sets, on /v1/chat/completions and /v1/completions, streamed
and not, at several temperatures and seeds. Every answer must parse and validate against its
schema (the `jsonschema` package's Draft 2020-12 validator); every tool call must name a tool and
carry arguments valid against its parameters. Exits non-zero on any failure and prints how the
answers ended and how long they were.
"""
import argparse
import json
import os
import random
import sys
import time

import jsonschema
import openai

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from openai_client_test import ROOT, start_server  # noqa: E402

SHIPPED = os.path.join(ROOT, "weights", "dlcm-10m-debian")


def obj(props: dict, required=None, **extra) -> dict:
    return {"type": "object", "properties": props, "required": list(props) if required is None else required,
            "additionalProperties": False, **extra}


SCHEMAS = {
    "flat": obj({"title": {"type": "string", "maxLength": 40}, "count": {"type": "integer"}, "ok": {"type": "boolean"}}),
    "enum_nullable": obj({"level": {"enum": ["low", "mid", "high"]}, "note": {"type": ["string", "null"], "maxLength": 30},
                          "score": {"type": "number"}}),
    "bounded_array": obj({"tags": {"type": "array", "items": {"type": "string", "maxLength": 10}, "minItems": 1, "maxItems": 4},
                          "year": {"type": "integer", "minimum": 1990, "maximum": 2030}}),
    "optional": obj({"id": {"type": "integer", "minimum": 0, "maximum": 9999}, "name": {"type": "string", "maxLength": 20},
                     "email": {"type": "string", "maxLength": 30}}, required=["id"]),
    "nested": obj({"package": obj({"name": {"type": "string", "maxLength": 20}, "version": {"type": "string", "maxLength": 12}}),
                   "depends": {"type": "array", "items": obj({"name": {"type": "string", "maxLength": 16},
                                                              "optional": {"type": "boolean"}}), "maxItems": 3}}),
    "any_of": obj({"value": {"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 12}, {"type": "null"}]},
                   "kind": {"const": "item"}}),
    # Pydantic v2 through the OpenAI SDK: $defs, $ref, a recursive tree.
    "pydantic_tree": {"$defs": {"Node": obj({"label": {"type": "string", "maxLength": 8, "title": "Label"},
                                             "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}, "maxItems": 2,
                                                          "title": "Children"}}, title="Node")},
                      **obj({"root": {"$ref": "#/$defs/Node"}}), "title": "Tree"},
    "pydantic_refs": {"$defs": {"Address": obj({"city": {"type": "string", "maxLength": 16}, "zip": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}),
                                "Mood": {"enum": ["calm", "busy"], "type": "string", "title": "Mood"}},
                      **obj({"name": {"type": "string", "maxLength": 16}, "mood": {"$ref": "#/$defs/Mood"},
                             "homes": {"type": "array", "items": {"$ref": "#/$defs/Address"}, "maxItems": 2}})},
    "array_root": {"type": "array", "items": {"type": "integer", "minimum": -50, "maximum": 50}, "maxItems": 6},
    "strings": obj({"a": {"type": "string", "minLength": 2, "maxLength": 5}, "b": {"type": "string", "maxLength": 3}}),
}

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city",
                                      "parameters": obj({"city": {"type": "string", "maxLength": 20}, "unit": {"enum": ["c", "f"]}})}},
    {"type": "function", "function": {"name": "search_packages", "description": "Search Debian packages",
                                      "parameters": obj({"query": {"type": "string", "maxLength": 24},
                                                         "limit": {"type": "integer", "minimum": 1, "maximum": 20}})}},
]

PROMPTS = ["Describe the package in JSON.", "Give me the data.", "What is the weather in Oslo?", "List a few tags for apt."]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", help="base URL of a running server (…/v1); default: start one")
    ap.add_argument("--model", default=SHIPPED, help="checkpoint directory to serve (default: the shipped model)")
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "dlcm"))
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--max-tokens", type=int, default=160)
    args = ap.parse_args()
    proc, url = (None, args.url) if args.url else start_server(args.binary, model=args.model)
    failures, reasons, lengths = [], {}, []
    try:
        client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=120)
        model = client.models.list().data[0].id
        rng = random.Random(0)
        names = sorted(SCHEMAS)
        tool_schemas = {t["function"]["name"]: t["function"]["parameters"] for t in TOOLS}
        start = time.time()
        for i in range(args.requests):
            seed, temperature = rng.randrange(1 << 30), rng.choice([0.0, 0.7, 1.0, 1.3])
            stream = i % 3 == 1
            messages = [{"role": "user", "content": rng.choice(PROMPTS)}]
            if i % 10 == 9:
                choice = rng.choice(["required", {"type": "function", "function": {"name": "search_packages"}}])
                kind = f"tools ({choice if isinstance(choice, str) else 'named'})"
                r = client.chat.completions.create(model=model, messages=messages, tools=TOOLS, tool_choice=choice,
                                                   max_tokens=args.max_tokens, seed=seed, temperature=temperature)
                c = r.choices[0]
                reasons[c.finish_reason] = reasons.get(c.finish_reason, 0) + 1
                lengths.append(r.usage.completion_tokens)
                calls = c.message.tool_calls or []
                if not calls:
                    failures.append((i, kind, "no tool call", c.message))
                for call in calls:
                    try:
                        jsonschema.Draft202012Validator(tool_schemas[call.function.name]).validate(json.loads(call.function.arguments))
                    except (KeyError, ValueError, jsonschema.ValidationError) as e:
                        failures.append((i, kind, repr(e)[:200], call.function))
                continue
            name = names[i % len(names)]
            schema = SCHEMAS[name]
            fmt = {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}
            if i % 4 == 3:
                kind = f"completions {name}"
                if stream:
                    chunks = list(client.completions.create(model=model, prompt=messages[0]["content"] + "\n", max_tokens=args.max_tokens,
                                                            seed=seed, temperature=temperature, stream=True,
                                                            stream_options={"include_usage": True}, extra_body={"response_format": fmt}))
                    text = "".join(c.choices[0].text for c in chunks if c.choices)
                    finish = next(c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason)
                    used = chunks[-1].usage.completion_tokens
                else:
                    r = client.completions.create(model=model, prompt=messages[0]["content"] + "\n", max_tokens=args.max_tokens,
                                                  seed=seed, temperature=temperature, extra_body={"response_format": fmt})
                    text, finish, used = r.choices[0].text, r.choices[0].finish_reason, r.usage.completion_tokens
            else:
                kind = f"chat {name}"
                if stream:
                    chunks = list(client.chat.completions.create(model=model, messages=messages, max_tokens=args.max_tokens,
                                                                 seed=seed, temperature=temperature, response_format=fmt, stream=True,
                                                                 stream_options={"include_usage": True}))
                    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
                    finish = next(c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason)
                    used = chunks[-1].usage.completion_tokens
                else:
                    r = client.chat.completions.create(model=model, messages=messages, max_tokens=args.max_tokens,
                                                       seed=seed, temperature=temperature, response_format=fmt)
                    text, finish, used = r.choices[0].message.content, r.choices[0].finish_reason, r.usage.completion_tokens
            reasons[finish] = reasons.get(finish, 0) + 1
            lengths.append(used)
            try:
                jsonschema.Draft202012Validator(schema).validate(json.loads(text))
            except (ValueError, jsonschema.ValidationError) as e:
                failures.append((i, kind, repr(e)[:200], text))
        elapsed = time.time() - start
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=30)
    lengths.sort()
    print(f"structured outputs: {args.requests} requests in {elapsed:.1f} s, {len(failures)} invalid; "
          f"finish reasons {reasons}; completion tokens median {lengths[len(lengths) // 2]}, max {lengths[-1]}")
    for f in failures[:10]:
        print("  invalid:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
