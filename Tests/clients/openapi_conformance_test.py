#!/usr/bin/env python3
"""Keeps the server true to openapi.yaml: sends requests to every documented path (successes and
errors), and checks that each status is documented for that operation and that each JSON body
(and each SSE chunk) validates against the documented schema (JSON Schema 2020-12).

  python3 Tests/clients/openapi_conformance_test.py [--url http://127.0.0.1:8080]
"""
import argparse
import http.client
import json
import os
import sys
from urllib.parse import urlparse

import jsonschema
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from openai_client_test import ROOT, start_server  # noqa: E402

SPEC = yaml.safe_load(open(os.path.join(ROOT, "openapi.yaml")))


def documented_response(path_template, method, status):
    op = SPEC["paths"][path_template].get(method.lower())
    r = op["responses"][str(status)] if op else SPEC["components"]["responses"]["MethodNotAllowed"]
    return SPEC["components"]["responses"][r["$ref"].split("/")[-1]] if "$ref" in r else r


def schema_for(path_template, method, status, content_type):
    if method.lower() not in SPEC["paths"][path_template]:
        # An undocumented method on a documented path: 405 with the error object.
        assert status == 405, f"{method} {path_template}: {status} for an undocumented method"
        return SPEC["components"]["responses"]["MethodNotAllowed"]["content"]["application/json"]["schema"]
    op = SPEC["paths"][path_template][method.lower()]
    responses = op["responses"]
    assert str(status) in responses, f"{method} {path_template}: status {status} is not documented"
    r = responses[str(status)]
    if "$ref" in r:
        r = SPEC["components"]["responses"][r["$ref"].split("/")[-1]]
    content = r.get("content", {})
    if content_type not in content:
        assert not content or content_type in content, f"{method} {path_template} {status}: {content_type} not documented ({list(content)})"
    return content.get(content_type, {}).get("schema")


def validate(instance, schema, what):
    if schema is None:
        return
    # Resolve "#/components/..." against the whole spec.
    resolver_schema = dict(schema)
    resolver_schema["components"] = SPEC["components"]
    try:
        jsonschema.Draft202012Validator(resolver_schema).validate(instance)
    except jsonschema.ValidationError as e:
        raise AssertionError(f"{what}: {e.message} at {list(e.absolute_path)}") from None


def call(base, method, path, template, body=None, headers=None):
    u = urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    h = {"Content-Type": "application/json"} if body is not None else {}
    h.update(headers or {})
    conn.request(method, path, body if isinstance(body, (str, bytes)) or body is None else json.dumps(body), h)
    resp = conn.getresponse()
    data = resp.read()
    ctype = (resp.getheader("Content-Type") or "").split(";")[0]
    what = f"{method} {path} -> {resp.status}"
    schema = schema_for(template, method, resp.status, ctype)
    # Every header documented for this answer (X-Request-Id on all of them) is there.
    for name in documented_response(template, method, resp.status).get("headers", {}):
        assert resp.getheader(name), f"{what}: documented header {name} missing"
    if ctype == "application/json":
        validate(json.loads(data), schema, what)
    elif ctype == "text/event-stream":
        completion = SPEC["components"]["schemas"]["ChatCompletion" if template == "/v1/chat/completions" else "Completion"]
        events = [b[6:] for b in data.decode().split("\n\n") if b.startswith("data: ")]
        assert events[-1] == "[DONE]", what
        for e in events[:-1]:
            obj = json.loads(e)
            validate(obj, SPEC["components"]["schemas"]["Error"] if "error" in obj else completion, what + " (chunk)")
    conn.close()
    return resp.status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "dlcm"))
    args = ap.parse_args()
    proc, base = (None, args.url) if args.url else start_server(args.binary)
    base = base.removesuffix("/v1")
    try:
        C, CC = "/v1/completions", "/v1/chat/completions"
        checks = [
            ("POST", C, C, {"prompt": "Hello", "max_tokens": 5}, 200),
            ("POST", C, C, {"prompt": ["Hi", [40, 69]], "n": 2, "max_tokens": 3, "echo": True, "logprobs": 2,
                            "dlcm": {"concepts": True}}, 200),
            ("POST", C, C, {"prompt": "Hi", "max_tokens": 4, "stream": True, "logprobs": 1,
                            "stream_options": {"include_usage": True}, "dlcm": {"concepts": True}}, 200),
            ("POST", C, C, "{bad json", 400),
            ("POST", C, C, {"prompt": "a", "top_p": 5}, 400),
            ("POST", C, C, {"prompt": "a", "model": "nope"}, 404),
            ("GET", C, C, None, 405),
            ("POST", CC, CC, {"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 5, "n": 2,
                              "logprobs": True, "top_logprobs": 2, "dlcm": {"concepts": True}}, 200),
            ("POST", CC, CC, {"messages": [{"role": "system", "content": "Be brief."},
                                           {"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
                              "max_completion_tokens": 4, "stream": True, "logprobs": True,
                              "stream_options": {"include_usage": True}}, 200),
            ("POST", CC, CC, {"messages": []}, 400),
            ("POST", CC, CC, {"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]}, 400),
            ("POST", CC, CC, {"messages": [{"role": "user", "content": "x"}], "model": "nope"}, 404),
            ("GET", CC, CC, None, 405),
            ("POST", "/v1/segment", "/v1/segment", {"text": "Hello, world!"}, 200),
            ("POST", "/v1/segment", "/v1/segment", {"text": "Hello", "include_tokens": False, "threshold": 0.3}, 200),
            ("POST", "/v1/segment", "/v1/segment", {}, 400),
            ("POST", "/v1/tokenize", "/v1/tokenize", {"text": "Hello", "return_token_strings": True}, 200),
            ("POST", "/v1/tokenize", "/v1/tokenize", {"text": 3}, 400),
            ("POST", "/v1/detokenize", "/v1/detokenize", {"tokens": [40, 69]}, 200),
            ("POST", "/v1/detokenize", "/v1/detokenize", {"tokens": [-1]}, 400),
            ("GET", "/v1/models", "/v1/models", None, 200),
            ("GET", "/v1/models/tiny-served", "/v1/models/{model}", None, 200),
            ("GET", "/v1/models/x", "/v1/models/{model}", None, 404),
            ("GET", "/health", "/health", None, 200),
            ("GET", "/ready", "/ready", None, 200),
            ("GET", "/metrics", "/metrics", None, 200),
        ]
        exercised = set()
        for method, path, template, body, want in checks:
            got = call(base, method, path, template, body)
            assert got == want, f"{method} {path}: {got}, expected {want}"
            exercised.add(template)
        missing = set(SPEC["paths"]) - exercised
        assert not missing, f"documented paths not exercised: {missing}"
        # 415 is documented for completions.
        assert call(base, "POST", C, C, "a=b", {"Content-Type": "application/x-www-form-urlencoded"}) == 415
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=30)
    keyed = 0 if args.url else check_api_keys(args.binary)
    print(f"openapi conformance test: ok ({len(checks) + 1 + keyed} requests)")
    return 0


def check_api_keys(binary):
    """A server with an API key: 401 (documented, with WWW-Authenticate) on every protected
    operation without the key, the documented success with it, and the probes open."""
    proc, base = start_server(binary, "--api-keys", "sk-conformance")
    base = base.removesuffix("/v1")
    key = {"Authorization": "Bearer sk-conformance"}
    n = 0
    try:
        for template, ops in SPEC["paths"].items():
            path = template.replace("{model}", "tiny-served")
            for method, op in ops.items():
                body = {"prompt": "a", "max_tokens": 1, "text": "a", "tokens": [40]} if method == "post" else None
                if template == "/v1/chat/completions":
                    body = {"messages": [{"role": "user", "content": "a"}], "max_tokens": 1}
                open_path = op.get("security") == []
                got = call(base, method.upper(), path, template, body)
                assert got == (200 if open_path else 401), f"{method} {path} without a key: {got}"
                got = call(base, method.upper(), path, template, body, {"Authorization": "Bearer wrong"})
                assert got == (200 if open_path else 401), f"{method} {path} with a wrong key: {got}"
                assert call(base, method.upper(), path, template, body, key) == 200, f"{method} {path} with the key"
                n += 3
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return n


if __name__ == "__main__":
    sys.exit(main())
