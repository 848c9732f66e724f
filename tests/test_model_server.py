"""Unit tests for the scripted OpenAI-compatible model server (no Copilot CLI needed)."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from copilot_sync.testing._model_server import (
    ModelRequest,
    Reply,
    ScriptedModelServer,
    ToolCall,
    split_text,
)

pytestmark = pytest.mark.timeout(30)


# --------------------------------------------------------------------------- helpers


def chat_body(prompt: str = "hi", *, stream: bool = False, include_usage: bool = False, **extra):
    body = {"model": "scripted-model", "messages": [{"role": "user", "content": prompt}], **extra}
    if stream:
        body["stream"] = True
        if include_usage:
            body["stream_options"] = {"include_usage": True}
    return body


def post(server: ScriptedModelServer, body, path: str = "/chat/completions", headers=None):
    """POST JSON; return (status, headers, raw bytes). HTTP errors are returned, not raised."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        server.base_url + path,
        data=data,
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers, exc.read()


def get(server: ScriptedModelServer, path: str):
    try:
        with urllib.request.urlopen(server.base_url + path, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def chat(server: ScriptedModelServer, prompt: str = "hi", **kwargs) -> dict:
    status, _headers, raw = post(server, chat_body(prompt, **kwargs))
    assert status == 200, raw
    return json.loads(raw)


def parse_sse(raw: bytes) -> list:
    """The ``data:`` payloads of an SSE body, JSON-decoded (``"[DONE]"`` kept as a string)."""
    events = []
    text = raw.decode("utf-8")
    assert text.endswith("\n\n")
    for block in text.split("\n\n"):
        if not block:
            continue
        lines = block.split("\n")
        assert len(lines) == 1 and lines[0].startswith("data: "), block
        payload = lines[0][len("data: ") :]
        events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def stream(server: ScriptedModelServer, prompt: str = "hi", include_usage: bool = False):
    status, headers, raw = post(server, chat_body(prompt, stream=True, include_usage=include_usage))
    assert status == 200, raw
    assert headers["Content-Type"].startswith("text/event-stream")
    return parse_sse(raw)


def assemble_stream(events: list) -> dict:
    """Rebuild the message from chunks the way an OpenAI client does."""
    assert events[-1] == "[DONE]"
    text, calls, finish, roles, usage = [], {}, None, [], None
    deltas = 0
    for event in events[:-1]:
        assert event["object"] == "chat.completion.chunk"
        assert event["id"].startswith("chatcmpl-")
        if "usage" in event:
            assert event["choices"] == []
            usage = event["usage"]
            continue
        choice = event["choices"][0]
        delta = choice["delta"]
        if "role" in delta:
            roles.append(delta["role"])
        if delta.get("content"):
            text.append(delta["content"])
            deltas += 1
        for call in delta.get("tool_calls", []):
            entry = calls.setdefault(call["index"], {"id": None, "name": "", "arguments": ""})
            if call.get("id"):
                entry["id"] = call["id"]
            function = call.get("function", {})
            entry["name"] += function.get("name") or ""
            entry["arguments"] += function.get("arguments") or ""
        if choice["finish_reason"]:
            finish = choice["finish_reason"]
    return {
        "text": "".join(text),
        "content_deltas": deltas,
        "tool_calls": [calls[i] for i in sorted(calls)],
        "finish_reason": finish,
        "roles": roles,
        "usage": usage,
    }


@pytest.fixture
def server():
    with ScriptedModelServer() as srv:
        yield srv


# --------------------------------------------------------------------------- text replies


def test_non_streaming_text_reply_has_openai_shape(server):
    server.add_reply("Hello there")
    response = chat(server)
    assert response["object"] == "chat.completion"
    assert response["id"].startswith("chatcmpl-")
    assert isinstance(response["created"], int)
    assert response["model"] == "scripted-model"
    [choice] = response["choices"]
    assert choice["index"] == 0
    assert choice["message"] == {"role": "assistant", "content": "Hello there"}
    assert choice["finish_reason"] == "stop"
    usage = response["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens"] > 0


def test_non_streaming_response_has_content_length(server):
    server.add_reply("abc")
    status, headers, raw = post(server, chat_body())
    assert status == 200
    assert int(headers["Content-Length"]) == len(raw)
    assert headers["Content-Type"] == "application/json"


def test_streaming_text_is_split_into_deltas(server):
    text = "The quick brown fox jumps over the lazy dog"
    server.add_reply(text)
    events = stream(server)
    result = assemble_stream(events)
    assert result["text"] == text
    assert result["content_deltas"] >= 2
    assert result["roles"] == ["assistant"]
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    assert result["finish_reason"] == "stop"
    assert result["usage"] is None  # not asked for


def test_streaming_chunks_controls_the_number_of_deltas(server):
    server.add_reply("abcdefghij", chunks=5)
    server.add_reply("abcdefghij", chunks=1)
    server.add_reply("ab", chunks=10)  # never more deltas than characters
    assert assemble_stream(stream(server))["content_deltas"] == 5
    assert assemble_stream(stream(server))["content_deltas"] == 1
    result = assemble_stream(stream(server))
    assert (result["content_deltas"], result["text"]) == (2, "ab")


def test_streaming_unicode_text_round_trips(server):
    text = "Grüße 👋 from 東京"
    server.add_reply(text, chunks=6)
    assert assemble_stream(stream(server))["text"] == text
    server.add_reply(text)
    assert chat(server)["choices"][0]["message"]["content"] == text


def test_streaming_usage_chunk_when_asked(server):
    server.add_reply("hello world")
    events = stream(server, include_usage=True)
    usage_events = [e for e in events[:-1] if "usage" in e]
    assert len(usage_events) == 1
    assert events[-2] is usage_events[0]  # last before [DONE]
    usage = usage_events[0]["usage"]
    assert set(usage) == {"prompt_tokens", "completion_tokens", "total_tokens"}


def test_streaming_finish_chunk_comes_last_before_usage(server):
    server.add_reply("x y z")
    events = stream(server, include_usage=True)
    finish_events = [e for e in events[:-1] if e["choices"] and e["choices"][0]["finish_reason"]]
    assert len(finish_events) == 1
    assert finish_events[0]["choices"][0]["delta"] == {}
    assert events.index(finish_events[0]) == len(events) - 3


def test_custom_finish_reason(server):
    server.add_response(lambda request: Reply(text="cut", finish_reason="length"))
    assert chat(server)["choices"][0]["finish_reason"] == "length"


def test_split_text():
    assert split_text("", 3) == []
    assert split_text("abcdefg", 3) == ["abc", "de", "fg"]
    assert "".join(split_text("hello world")) == "hello world"
    assert len(split_text("hello world")) == 4
    assert split_text("abc", 0) == ["abc"]


# --------------------------------------------------------------------------- tool calls


def test_non_streaming_tool_call(server):
    server.add_tool_call("get_weather", {"city": "Paris"}, call_id="call_1")
    [choice] = chat(server)["choices"]
    assert choice["finish_reason"] == "tool_calls"
    message = choice["message"]
    assert message["role"] == "assistant"
    assert message["content"] is None
    assert message["tool_calls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
        }
    ]


def test_non_streaming_tool_call_with_text_and_generated_id(server):
    server.add_tool_call("get_weather", {"city": "Oslo"}, text="Let me check.")
    message = chat(server)["choices"][0]["message"]
    assert message["content"] == "Let me check."
    [call] = message["tool_calls"]
    assert call["id"].startswith("call_")
    assert json.loads(call["function"]["arguments"]) == {"city": "Oslo"}


def test_tool_call_string_arguments_are_sent_verbatim(server):
    server.add_tool_call("broken", "{not json")
    [call] = chat(server)["choices"][0]["message"]["tool_calls"]
    assert call["function"]["arguments"] == "{not json"


def test_streaming_tool_call(server):
    server.add_tool_call("get_weather", {"city": "Paris"}, call_id="call_abc", text="Checking")
    events = stream(server)
    result = assemble_stream(events)
    assert result["text"] == "Checking"
    assert result["finish_reason"] == "tool_calls"
    assert result["tool_calls"] == [
        {"id": "call_abc", "name": "get_weather", "arguments": '{"city":"Paris"}'}
    ]
    # The first tool-call delta carries id, type and name; the arguments come in several pieces.
    tool_deltas = [
        e["choices"][0]["delta"]["tool_calls"][0]
        for e in events[:-1]
        if "tool_calls" in e["choices"][0]["delta"]
    ]
    assert tool_deltas[0]["id"] == "call_abc"
    assert tool_deltas[0]["type"] == "function"
    assert tool_deltas[0]["function"]["name"] == "get_weather"
    assert len([d for d in tool_deltas if d["function"].get("arguments")]) >= 2
    assert all(d["index"] == 0 for d in tool_deltas)


def test_multiple_tool_calls_non_streaming(server):
    server.add_tool_calls([("get_weather", {"city": "Paris"}), ("get_time", {"tz": "UTC"})])
    calls = chat(server)["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather", "get_time"]
    assert [json.loads(c["function"]["arguments"]) for c in calls] == [
        {"city": "Paris"},
        {"tz": "UTC"},
    ]
    assert len({c["id"] for c in calls}) == 2


def test_multiple_tool_calls_streaming(server):
    server.add_tool_calls(
        [
            ("get_weather", {"city": "Paris"}, "call_a"),
            ToolCall("get_weather", {"city": "Oslo"}, "call_b"),
        ],
        text="Two lookups",
    )
    result = assemble_stream(stream(server))
    assert result["text"] == "Two lookups"
    assert result["finish_reason"] == "tool_calls"
    assert result["tool_calls"] == [
        {"id": "call_a", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"id": "call_b", "name": "get_weather", "arguments": '{"city":"Oslo"}'},
    ]


def test_add_tool_calls_needs_calls(server):
    with pytest.raises(ValueError):
        server.add_tool_calls([])
    with pytest.raises(TypeError):
        server.add_tool_calls(["not a call"])


# --------------------------------------------------------------------------- scripting order


def test_fifo_order_then_responder():
    seen = []

    def responder(request: ModelRequest):
        seen.append(request.last_user_message)
        return f"fallback for {request.last_user_message}"

    with ScriptedModelServer(responder=responder) as server:
        server.add_reply("one")
        server.add_reply("two")
        assert server.pending == 2
        assert chat(server, "a")["choices"][0]["message"]["content"] == "one"
        assert chat(server, "b")["choices"][0]["message"]["content"] == "two"
        assert server.pending == 0
        assert chat(server, "c")["choices"][0]["message"]["content"] == "fallback for c"
        assert chat(server, "d")["choices"][0]["message"]["content"] == "fallback for d"
        assert seen == ["c", "d"]


def test_responder_can_return_a_reply_with_tool_calls():
    with ScriptedModelServer(
        responder=lambda r: Reply(tool_calls=[ToolCall("t", {"n": 1})])
    ) as server:
        message = chat(server)["choices"][0]["message"]
        assert message["tool_calls"][0]["function"]["name"] == "t"


def test_default_reply():
    with ScriptedModelServer(default_reply="always this") as server:
        assert chat(server, "x")["choices"][0]["message"]["content"] == "always this"
        assert chat(server, "y")["choices"][0]["message"]["content"] == "always this"


def test_echo_is_the_default(server):
    assert chat(server, "ping")["choices"][0]["message"]["content"] == "You said: ping"
    assert assemble_stream(stream(server, "streamed ping"))["text"] == "You said: streamed ping"


def test_echo_strips_the_cli_datetime_prefix(server):
    prompt = (
        "<current_datetime>2026-11-21T03:12:34.676+00:00</current_datetime>\n\nweather in Paris?"
    )
    assert chat(server, prompt)["choices"][0]["message"]["content"] == "You said: weather in Paris?"
    [request] = server.requests
    assert request.last_user_message == prompt
    assert request.user_prompt == "weather in Paris?"


def test_add_response_callable_sees_the_request(server):
    def reply(request: ModelRequest):
        return Reply(
            text=f"{len(request.tool_results)} results; last: {request.tool_results[-1]['content']}"
        )

    server.add_response(reply)
    server.add_response(lambda request: "plain string")
    server.add_response(Reply(text="a Reply object"))
    body = chat_body()
    body["messages"] += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "Sunny"},
    ]
    status, _, raw = post(server, body)
    assert status == 200
    assert json.loads(raw)["choices"][0]["message"]["content"] == "1 results; last: Sunny"
    assert chat(server)["choices"][0]["message"]["content"] == "plain string"
    assert chat(server)["choices"][0]["message"]["content"] == "a Reply object"


def test_add_response_that_raises_gives_a_500(server):
    def broken(request):
        raise RuntimeError("bug in the test")

    server.add_response(broken)
    server.add_response(lambda request: 42)  # wrong return type
    status, _, raw = post(server, chat_body())
    assert status == 500
    assert "bug in the test" in json.loads(raw)["error"]["message"]
    status, _, raw = post(server, chat_body())
    assert status == 500
    assert "int" in json.loads(raw)["error"]["message"]
    # The server keeps working afterwards.
    assert chat(server, "ok")["choices"][0]["message"]["content"] == "You said: ok"


def test_add_response_rejects_non_callables(server):
    with pytest.raises(TypeError):
        server.add_response("not callable")


def test_concurrent_requests_each_consume_one_reply(server):
    for i in range(8):
        server.add_reply(f"reply {i}")
    results = []
    lock = threading.Lock()

    def worker():
        content = chat(server)["choices"][0]["message"]["content"]
        with lock:
            results.append(content)

    threads = [threading.Thread(target=worker, name=f"test-client-{i}") for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(results) == sorted(f"reply {i}" for i in range(8))
    assert len(server.requests) == 8


# --------------------------------------------------------------------------- errors


def test_add_error(server):
    server.add_error(503, "overloaded")
    server.add_error()
    server.add_reply("recovered")
    status, headers, raw = post(server, chat_body())
    assert status == 503
    assert headers["Content-Type"] == "application/json"
    error = json.loads(raw)["error"]
    assert error["message"] == "overloaded"
    assert error["type"] == "server_error"
    status, _, raw = post(server, chat_body(stream=True))  # errors are JSON even for streams
    assert status == 500
    assert json.loads(raw)["error"]["message"] == "scripted failure"
    assert chat(server)["choices"][0]["message"]["content"] == "recovered"
    assert len(server.requests) == 3  # failed requests are recorded too


def test_add_error_retry_after_and_headers(server):
    server.add_error(429, "slow down", retry_after=0)
    server.add_error(500, retry_after=1.5, headers={"X-Test": "yes"})
    status, headers, raw = post(server, chat_body())
    assert status == 429
    assert headers["Retry-After"] == "0"
    assert json.loads(raw)["error"]["type"] == "rate_limit_exceeded"
    status, headers, _ = post(server, chat_body())
    assert (status, headers["Retry-After"], headers["X-Test"]) == (500, "1.5", "yes")


def test_add_error_rejects_success_status(server):
    with pytest.raises(ValueError):
        server.add_error(200)


def test_invalid_json_body_is_a_400(server):
    server.add_reply("unused")
    status, _, raw = post(server, b"{not json")
    assert status == 400
    assert json.loads(raw)["error"]["type"] == "invalid_request_error"
    assert server.requests == []  # not a chat request; the script is untouched
    assert server.pending == 1
    assert len(server.all_requests) == 1


# --------------------------------------------------------------------------- paths


def test_v1_prefix_is_served(server):
    server.add_reply("via v1")
    status, _, raw = post(server, chat_body(), path="/v1/chat/completions")
    assert status == 200
    assert json.loads(raw)["choices"][0]["message"]["content"] == "via v1"
    assert server.requests[0].path == "/v1/chat/completions"


def test_models_endpoint():
    with ScriptedModelServer(model="gpt-test") as server:
        for path in ("/models", "/v1/models", "/v1/models/"):
            status, body = get(server, path)
            assert status == 200
            assert body == {
                "object": "list",
                "data": [
                    {"id": "gpt-test", "object": "model", "created": 0, "owned_by": "scripted"}
                ],
            }
        assert get(server, "/v1/models/gpt-test") == (200, body["data"][0])
        assert get(server, "/models/other")[0] == 404
        assert server.requests == []  # /models is not a chat request
        assert [r.path for r in server.all_requests][:3] == ["/models", "/v1/models", "/v1/models/"]


def test_unknown_path_is_a_json_404(server):
    status, body = get(server, "/nope")
    assert status == 404
    assert "error" in body and "/nope" in body["error"]["message"]
    status, _, raw = post(server, chat_body(), path="/v1/responses")
    assert status == 404
    assert json.loads(raw)["error"]["code"] == "not_found"
    status, body = get(server, "/chat/completions")  # wrong method
    assert status == 404


def test_response_model_echoes_the_requested_model(server):
    server.add_reply("x")
    assert chat(server, model="other-model")["model"] == "other-model"


# --------------------------------------------------------------------------- recorded requests


def test_recorded_request_and_helpers(server):
    server.add_reply("ok")
    body = {
        "model": "scripted-model",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [
            {"role": "system", "content": "You are a test."},
            {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "user", "content": "first"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": "{}"},
                    },
                    {
                        "id": "c2",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": "{}"},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "Sunny"},
            {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "Rain"}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "second "},
                    {"type": "image_url", "image_url": {"url": "data:"}},
                    {"type": "text", "text": "part"},
                ],
            },
        ],
        "tools": [
            {
                "type": "function",
                "function": {"name": "get_weather", "description": "d", "parameters": {}},
            }
        ],
    }
    status, _, _ = post(
        server, body, headers={"Authorization": "Bearer sk-test", "X-Initiator": "user"}
    )
    assert status == 200
    [request] = server.requests
    assert isinstance(request, ModelRequest)
    assert request.method == "POST"
    assert request.path == "/chat/completions"
    assert request.stream is True
    assert request.body == body
    assert request.model == "scripted-model"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.headers["Authorization"] == "Bearer sk-test"  # case-insensitive
    assert request.headers.get("x-initiator") == "user"
    assert "X-INITIATOR" in request.headers
    assert request.headers.get("missing") is None
    assert len(request.messages) == 7
    assert request.system_prompt == "You are a test.\n\nBe brief."
    assert request.last_user_message == "second part"
    assert request.tools == body["tools"]
    assert request.tool_names == ["get_weather"]
    assert request.tool_results == [
        {"tool_call_id": "c1", "content": "Sunny"},
        {"tool_call_id": "c2", "content": "Rain"},
    ]
    assert "stream=True" in repr(request)


def test_request_helpers_on_empty_body():
    request = ModelRequest(method="POST", path="/chat/completions", headers={}, body={})
    assert request.messages == []
    assert request.system_prompt == ""
    assert request.last_user_message == ""
    assert request.user_prompt == ""
    assert request.tools == []
    assert request.tool_results == []
    assert request.stream is False
    assert request.model is None


def test_requests_property_is_a_snapshot(server):
    chat(server)
    snapshot = server.requests
    snapshot.clear()
    assert len(server.requests) == 1


def test_clear_drops_requests_and_script(server):
    server.add_reply("never sent")
    chat(server, "a")  # consumes the reply
    server.add_reply("dropped")
    server.clear()
    assert server.requests == []
    assert server.all_requests == []
    assert server.pending == 0
    assert chat(server, "b")["choices"][0]["message"]["content"] == "You said: b"


def test_chunked_request_body_is_accepted(server):
    server.add_reply("chunked ok")
    payload = json.dumps(chat_body("chunky")).encode()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(
            "POST",
            "/chat/completions",
            body=iter([payload[:10], payload[10:]]),
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["choices"][0]["message"]["content"] == "chunked ok"
    finally:
        connection.close()
    assert server.requests[0].last_user_message == "chunky"


def test_keep_alive_connection_serves_stream_then_json(server):
    server.add_reply("streamed")
    server.add_tool_call("f", {"a": 1})
    server.add_reply("plain")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        for body in (chat_body(stream=True), chat_body(stream=True), chat_body()):
            connection.request(
                "POST",
                "/v1/chat/completions",
                body=json.dumps(body),
                headers={"Content-Type": "application/json"},
            )
            response = connection.getresponse()
            assert response.status == 200
            raw = response.read()
            if body.get("stream"):
                assert response.getheader("Transfer-Encoding") == "chunked"
                result = assemble_stream(parse_sse(raw))
            else:
                result = json.loads(raw)
        assert result["choices"][0]["message"]["content"] == "plain"
    finally:
        connection.close()


# --------------------------------------------------------------------------- waiting


def test_wait_for_requests_returns_when_enough_arrived(server):
    threading.Timer(0.2, lambda: chat(server, "late")).start()
    requests = server.wait_for_requests(1, timeout=5)
    assert [r.last_user_message for r in requests] == ["late"]
    assert server.wait_for_requests(0, timeout=0) == requests


def test_wait_for_requests_times_out(server):
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="0 of 2"):
        server.wait_for_requests(2, timeout=0.2)
    assert time.monotonic() - started < 2


def test_wait_for_requests_fails_fast_when_stopped():
    server = ScriptedModelServer().start()
    threading.Timer(0.2, server.stop).start()
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="stopped"):
        server.wait_for_requests(1, timeout=20)
    assert time.monotonic() - started < 5


# --------------------------------------------------------------------------- lifecycle


def test_provider_config():
    with ScriptedModelServer() as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert server.provider() == {
            "type": "openai",
            "base_url": server.base_url,
            "api_key": "scripted",
            "wire_api": "completions",
        }
        custom = server.provider(api_key="k", headers={"X": "1"}, base_url=server.base_url + "/v1")
        assert custom["api_key"] == "k"
        assert custom["headers"] == {"X": "1"}
        assert custom["base_url"].endswith("/v1")


def test_base_url_needs_start():
    server = ScriptedModelServer()
    with pytest.raises(RuntimeError):
        server.base_url
    assert "not started" in repr(server)
    server.stop()  # stopping a never-started server is fine


def test_start_is_idempotent_and_restart_is_refused():
    server = ScriptedModelServer()
    assert server.start() is server
    port = server.port
    assert server.start() is server and server.port == port
    assert server.running
    server.stop()
    assert not server.running
    with pytest.raises(RuntimeError):
        server.start()


def test_threads_are_named_daemons(server):
    chat(server)
    names = {t.name: t for t in threading.enumerate()}
    assert "copilot-model-server" in names
    assert names["copilot-model-server"].daemon
    assert all(
        t.daemon for name, t in names.items() if name.startswith("copilot-model-server-conn-")
    )


def test_stop_is_idempotent_and_prompt():
    server = ScriptedModelServer().start()
    chat(server)
    started = time.monotonic()
    server.stop()
    server.stop()
    assert time.monotonic() - started < 2
    with pytest.raises(OSError):
        urllib.request.urlopen(server.base_url + "/models", timeout=2)


def _server_threads() -> set:
    return {t for t in threading.enumerate() if t.name.startswith("copilot-model-server")}


def _wait_threads_gone(before: set, timeout: float = 2.0) -> bool:
    """True once every model-server thread started after ``before`` was taken has finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not (_server_threads() - before):
            return True
        time.sleep(0.02)
    return False


def test_stop_closes_idle_keep_alive_connections():
    before = _server_threads()
    server = ScriptedModelServer().start()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", "/models")
        assert connection.getresponse().read()
        # The connection stays open; its server thread is blocked reading the next request.
        assert any(
            t.name.startswith("copilot-model-server-conn-") for t in _server_threads() - before
        )
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 2
    finally:
        connection.close()
    assert _wait_threads_gone(before)


def test_stop_interrupts_a_slow_reply():
    before = _server_threads()
    server = ScriptedModelServer().start()
    server.add_reply("slow", delay=30)
    outcome = {}

    def client():
        try:
            outcome["result"] = post(server, chat_body())
        except Exception as exc:  # the connection is dropped
            outcome["error"] = exc

    thread = threading.Thread(target=client, name="test-slow-client")
    thread.start()
    server.wait_for_requests(1, timeout=5)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    thread.join(5)
    assert not thread.is_alive()
    assert "error" in outcome
    assert _wait_threads_gone(before)


def test_chunk_delay_streams_over_time(server):
    server.add_reply("abcd", chunks=4, chunk_delay=0.05)
    started = time.monotonic()
    assert assemble_stream(stream(server))["text"] == "abcd"
    assert time.monotonic() - started >= 0.2


def test_repr(server):
    server.add_reply("x")
    text = repr(server)
    assert server.base_url in text and "pending=1" in text and "running" in text
