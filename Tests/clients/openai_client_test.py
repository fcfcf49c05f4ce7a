#!/usr/bin/env python3
"""The server against an independent client: the official `openai` Python package (OpenAI SDK).

  python3 Tests/clients/openai_client_test.py                 # starts `dlcm serve` on the fixture
  python3 Tests/clients/openai_client_test.py --url http://127.0.0.1:8080/v1

Non-streaming and streaming completions and chat, usage, seed determinism, a stop string,
structured outputs (`chat.completions.parse` with Pydantic models), tool calls and error
statuses, asserted. Exits non-zero on any failure.
"""
import argparse
import os
import re
import subprocess
import sys
import threading
import time

import openai

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURE = os.path.join(ROOT, "Tests", "DLCMServerTests", "Resources", "tiny-served")


def start_server(binary: str, *extra: str, model: str = FIXTURE):
    proc = subprocess.Popen([binary, "serve", "--model", model, "--port", "0", "--threads", "1", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"on (http://[\d.]+:\d+)", line)
        if m:
            # Keep reading the server's output (a log line per request): a pipe nobody reads
            # fills up and blocks the server's writes.
            proc.log = []
            proc.reader = threading.Thread(target=lambda: proc.log.extend(proc.stdout), daemon=True)
            proc.reader.start()
            return proc, m.group(1) + "/v1"
    proc.kill()
    sys.exit(f"server did not start: {line!r}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", help="base URL of a running server (…/v1); default: start one")
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "dlcm"))
    args = ap.parse_args()
    proc = None
    url = args.url
    if not url:
        proc, url = start_server(args.binary)
    try:
        client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=30)
        model = client.models.list().data[0].id

        # Non-streaming.
        r = client.completions.create(model=model, prompt="Hello, world", max_tokens=16, seed=7,
                                      temperature=0.8, extra_body={"ignore_eos": True})
        assert r.object == "text_completion", r
        assert len(r.choices) == 1 and r.choices[0].finish_reason == "length", r.choices
        assert r.usage.completion_tokens == 16 and r.usage.total_tokens == r.usage.prompt_tokens + 16, r.usage
        text = r.choices[0].text

        # Streaming, same seed: the same text, assembled from the events; usage at the end.
        chunks = list(client.completions.create(model=model, prompt="Hello, world", max_tokens=16, seed=7,
                                                temperature=0.8, stream=True, stream_options={"include_usage": True},
                                                extra_body={"ignore_eos": True}))
        streamed = "".join(c.choices[0].text for c in chunks if c.choices)
        assert streamed == text, (streamed, text)
        assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["length"]
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 16, chunks[-1]

        # n > 1, echo, logprobs.
        r = client.completions.create(model=model, prompt="The engine", max_tokens=4, n=2, echo=True, logprobs=2, seed=1)
        assert len(r.choices) == 2 and all(c.text.startswith("The engine") for c in r.choices), r.choices
        assert all(len(c.logprobs.tokens) == len(c.logprobs.token_logprobs) for c in r.choices)

        # Chat, not streamed and streamed (same seed, same answer), with chat-shaped logprobs.
        messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]
        r = client.chat.completions.create(model=model, messages=messages, max_completion_tokens=12, seed=3,
                                           logprobs=True, top_logprobs=2, extra_body={"ignore_eos": True})
        assert r.object == "chat.completion" and r.id.startswith("chatcmpl-"), r
        message = r.choices[0].message
        assert message.role == "assistant" and isinstance(message.content, str), message
        assert r.choices[0].finish_reason in ("length", "stop"), r.choices[0]
        lps = r.choices[0].logprobs.content
        assert len(lps) == r.usage.completion_tokens and all(len(e.top_logprobs) == 2 for e in lps), lps
        assert all(bytes(e.bytes).decode("utf-8", "replace") == e.token for e in lps), lps
        chunks = list(client.chat.completions.create(model=model, messages=messages, max_completion_tokens=12, seed=3,
                                                     stream=True, stream_options={"include_usage": True},
                                                     extra_body={"ignore_eos": True}))
        assert chunks[0].choices[0].delta.role == "assistant", chunks[0]
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert streamed == message.content, (streamed, message.content)
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == r.usage.completion_tokens
        check_structured_outputs(client, model)

        # Errors surface as the library's exception types.
        try:
            client.completions.create(model=model, prompt="x", max_tokens=100000)
            raise AssertionError("max_tokens over the limit was accepted")
        except openai.BadRequestError as e:
            assert e.status_code == 400 and e.body.get("param") == "max_tokens", e.body
        try:
            client.completions.create(model="no-such-model", prompt="x")
            raise AssertionError("unknown model was accepted")
        except openai.NotFoundError:
            pass
        if not args.url:
            check_api_keys(args.binary)
        print("openai client test: ok")
    finally:
        if proc:
            # SIGTERM drains and exits cleanly.
            proc.terminate()
            code = proc.wait(timeout=30)
            proc.reader.join(timeout=10)  # it ends at the pipe's end, after the last lines
            rest = "".join(proc.log)
            if code != 0 or "stopped" not in rest:
                print(f"server exit {code}: {rest!r}")
                return 1


def check_structured_outputs(client, model: str):
    """`chat.completions.parse` with Pydantic models (nested, optional, enum, recursive), a
    tool-call round trip, streamed tool calls, and a schema keyword the server cannot enforce."""
    from typing import Literal, Optional

    import pydantic

    class Address(pydantic.BaseModel):
        city: str = pydantic.Field(max_length=12)
        zip: Optional[int]

    class Person(pydantic.BaseModel):
        name: str = pydantic.Field(max_length=12)
        mood: Literal["calm", "busy"]
        home: Address

    class Node(pydantic.BaseModel):
        label: str = pydantic.Field(max_length=6)
        children: list["Node"] = pydantic.Field(max_length=2)

    messages = [{"role": "user", "content": "Describe someone."}]
    for seed in range(4):
        for cls in (Person, Node):
            r = client.chat.completions.parse(model=model, messages=messages, response_format=cls, max_tokens=200, seed=seed)
            parsed = r.choices[0].message.parsed
            assert isinstance(parsed, cls), (cls, r.choices[0])
            assert r.choices[0].finish_reason == "stop", r.choices[0]

    # Short: the fixture's vocabulary is mostly single bytes, and the tool is part of the prompt.
    class W(pydantic.BaseModel):
        u: Literal["c", "f"]

    tools = [openai.pydantic_function_tool(W)]
    r = client.chat.completions.parse(model=model, messages=messages, tools=tools, tool_choice="required", max_tokens=120, seed=1)
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls", choice
    call = choice.message.tool_calls[0]
    assert call.function.name == "W" and isinstance(call.function.parsed_arguments, W), call
    # The result goes back as a tool message, and the conversation goes on.
    follow = messages + [{"role": "assistant", "content": None, "tool_calls": [
        {"id": call.id, "type": "function", "function": {"name": call.function.name, "arguments": call.function.arguments}}]},
        {"role": "tool", "tool_call_id": call.id, "content": "12 degrees"}]
    r2 = client.chat.completions.create(model=model, messages=follow, tools=tools, tool_choice="none", max_tokens=8, seed=1)
    r0 = client.chat.completions.create(model=model, messages=messages, tools=tools, tool_choice="none", max_tokens=1)
    assert r2.usage.prompt_tokens > r0.usage.prompt_tokens and r2.choices[0].message.tool_calls is None, r2
    # Streamed: the SDK's stream helper assembles the same call.
    with client.chat.completions.stream(model=model, messages=messages, tools=tools, tool_choice="required",
                                        max_tokens=120, seed=1) as stream:
        final = stream.get_final_completion()
    streamed = final.choices[0].message.tool_calls[0]
    assert (streamed.function.name, streamed.function.arguments) == (call.function.name, call.function.arguments), streamed
    try:
        client.chat.completions.create(model=model, messages=messages, response_format={
            "type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object", "patternProperties": {"^a": {}}}}})
        raise AssertionError("an unsupported schema keyword was accepted")
    except openai.BadRequestError as e:
        assert e.body.get("code") == "unsupported_schema" and "patternProperties" in e.body.get("message", ""), e.body


def check_api_keys(binary: str):
    """A server with an API key: the library sends it as a Bearer token; a wrong one is its
    AuthenticationError with OpenAI's code; every answer carries the request id it was sent."""
    proc, url = start_server(binary, "--api-keys", "sk-client-test")
    try:
        wrong = openai.OpenAI(base_url=url, api_key="sk-wrong", max_retries=0, timeout=30)
        try:
            wrong.models.list()
            raise AssertionError("a wrong key was accepted")
        except openai.AuthenticationError as e:
            assert e.status_code == 401 and e.body.get("code") == "invalid_api_key", e.body
        right = openai.OpenAI(base_url=url, api_key="sk-client-test", max_retries=0, timeout=30)
        raw = right.completions.with_raw_response.create(model="tiny-served", prompt="Hi", max_tokens=2,
                                                         extra_headers={"X-Request-Id": "client-test-1"})
        assert raw.headers.get("x-request-id") == "client-test-1", dict(raw.headers)
        assert raw.parse().choices[0].finish_reason in ("length", "stop")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
