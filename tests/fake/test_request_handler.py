"""The client's ``request_handler`` on the wire of the fake CLI: the ``llmInference.setProvider``
opt-in at start, ``llmInference.httpRequestStart``/``httpRequestChunk`` in (in any order), the
answer streamed back as ``llmInference.httpResponseStart``/``httpResponseChunk``: forwarded to
a local HTTP server, changed by a subclass, answered by the handler itself; a handler that
raises, concurrent requests, cancellation, WebSocket refusal."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from copilot_sync import CopilotClient, CopilotError
from copilot_sync._requests.model_http import (
    CopilotRequestHandler,
    ModelHttpRequest,
    ModelHttpResponse,
)
from copilot_sync.testing import FakeCLI, Rule, Scenario, ScriptedModelServer
from copilot_sync.testing.actions import reply

pytestmark = pytest.mark.timeout(60)

SET_PROVIDER = "llmInference.setProvider"
START = "llmInference.httpRequestStart"
CHUNK = "llmInference.httpRequestChunk"
RESPONSE_START = "llmInference.httpResponseStart"
RESPONSE_CHUNK = "llmInference.httpResponseChunk"
RULES = [
    Rule(method=SET_PROVIDER, actions=[reply({"success": True})]),
    Rule(method=RESPONSE_START, actions=[reply({"accepted": True})]),
    Rule(method=RESPONSE_CHUNK, actions=[reply({"accepted": True})]),
]


@contextlib.contextmanager
def handling(
    handler: CopilotRequestHandler | None, *rules: Rule, **options: Any
) -> Iterator[tuple[FakeCLI, CopilotClient]]:
    with (
        FakeCLI(Scenario(rules=[*rules, *RULES])) as fake,
        CopilotClient(cli_path=fake.cli_path, request_handler=handler, **options) as client,
    ):
        yield fake, client


def send_request(
    fake: FakeCLI,
    request_id: str,
    url: str,
    body: bytes = b"",
    *,
    method: str = "POST",
    headers: dict[str, list[str]] | None = None,
    pieces: int = 1,
    **head: Any,
) -> None:
    """What the CLI sends for one model request: the head, then the body in ``pieces`` chunks
    (the first one base64, as the CLI does for bytes that are not text)."""
    start = {
        "requestId": request_id,
        "method": method,
        "url": url,
        "headers": headers if headers is not None else {"content-type": ["application/json"]},
        **head,
    }
    assert fake.request(START, start)["result"] == {}
    size = max(1, -(-len(body) // pieces))
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    for index, part in enumerate(parts):
        chunk: dict[str, Any] = {"requestId": request_id, "end": index == len(parts) - 1}
        if index == 0 and part:
            chunk.update(data=base64.b64encode(part).decode(), binary=True)
        else:
            chunk["data"] = part.decode()
        assert fake.request(CHUNK, chunk)["result"] == {}


def answer_of(fake: FakeCLI, request_id: str, timeout: float = 15.0) -> dict[str, Any]:
    """The answer the client streamed for ``request_id``: head params, body bytes, error."""
    deadline = time.monotonic() + timeout
    while True:
        chunks = [
            m["params"]
            for m in fake.requests(RESPONSE_CHUNK)
            if m["params"]["requestId"] == request_id
        ]
        if chunks and chunks[-1].get("end"):
            break
        assert time.monotonic() < deadline, f"no end chunk for {request_id}: {chunks}"
        time.sleep(0.02)
    heads = [
        m["params"] for m in fake.requests(RESPONSE_START) if m["params"]["requestId"] == request_id
    ]
    body = b"".join(
        base64.b64decode(c["data"]) if c.get("binary") else c["data"].encode() for c in chunks
    )
    assert len(heads) == 1 and [c for c in chunks if c.get("end")] == [chunks[-1]]
    return {"head": heads[0], "body": body, "error": chunks[-1].get("error"), "chunks": chunks}


def chat_body(prompt: str, *, stream: bool) -> bytes:
    return json.dumps(
        {
            "model": "scripted-model",
            "messages": [{"role": "user", "content": prompt}],
            "stream": stream,
        }
    ).encode()


# ------------------------------------------------------------------------------ the opt-in


def test_the_client_registers_as_provider_after_the_handshake_and_before_sessions():
    with handling(CopilotRequestHandler()) as (fake, client):
        (registered,) = fake.requests(SET_PROVIDER)
        assert registered["params"] == {}
        client.create_session()
    methods = [m["method"] for m in fake.received if "method" in m]
    assert methods.index("connect") < methods.index(SET_PROVIDER) < methods.index("session.create")

    with handling(None) as (fake, client):
        client.create_session()
        assert fake.requests(SET_PROVIDER) == []  # no handler, no opt-in


def test_a_cli_without_the_method_is_logged_and_one_that_refuses_fails_start(caplog):
    with (
        FakeCLI(Scenario()) as fake,
        CopilotClient(cli_path=fake.cli_path, request_handler=CopilotRequestHandler()) as client,
    ):
        client.create_session()
    assert any("does not support llmInference.setProvider" in r.message for r in caplog.records)

    refuse = Rule(method=SET_PROVIDER, actions=[reply({"success": False})])
    with FakeCLI(Scenario(rules=[refuse])) as fake:
        client = CopilotClient(cli_path=fake.cli_path, request_handler=CopilotRequestHandler())
        with pytest.raises(CopilotError, match="LLM inference provider"):
            client.start()
        client.stop()


def test_a_request_handler_must_have_send_request():
    with pytest.raises(TypeError, match="request_handler"):
        CopilotClient(request_handler=lambda request: None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout"):
        CopilotRequestHandler(timeout=0)


def test_without_a_handler_the_cli_gets_an_error():
    with handling(None) as (fake, _client):
        answer = fake.request(
            START, {"requestId": "r", "method": "GET", "url": "http://x/", "headers": {}}
        )
    assert answer["error"]["code"] == -32603
    assert "no request_handler" in answer["error"]["message"]


def test_invalid_frames_are_invalid_params():
    with handling(CopilotRequestHandler()) as (fake, _client):
        assert fake.request(START, {"requestId": "r"})["error"]["code"] == -32602
        assert fake.request(CHUNK, {"data": "x"})["error"]["code"] == -32602
        bad = {"requestId": "r", "data": "%%%", "binary": True}
        assert fake.request(CHUNK, bad)["error"]["code"] == -32602


# ------------------------------------------------------------------------------ forwarding


def test_a_request_is_forwarded_and_its_streamed_answer_comes_back():
    with ScriptedModelServer() as model, handling(CopilotRequestHandler()) as (fake, _client):
        model.add_reply("Forwarded through Python", chunks=4)
        body = chat_body("hello there", stream=True)
        send_request(
            fake,
            "r1",
            model.base_url + "/chat/completions",
            body,
            headers={
                "authorization": ["Bearer scripted"],
                "content-type": ["application/json"],
                "host": ["wrong.example"],  # a hop-by-hop header: not forwarded as such
            },
            pieces=3,
            sessionId="s1",
            interactionType="conversation-user",
        )
        answer = answer_of(fake, "r1")
        (seen,) = model.requests
    assert seen.user_prompt == "hello there" and seen.stream
    assert seen.headers["authorization"] == "Bearer scripted"
    assert seen.headers["host"].startswith("127.0.0.1:")
    head = answer["head"]
    assert head["status"] == 200 and head["statusText"] == "OK"
    assert head["headers"]["content-type"][0].startswith("text/event-stream")
    assert "transfer-encoding" not in head["headers"]
    assert answer["error"] is None
    text = answer["body"].decode()
    assert text.rstrip().endswith("data: [DONE]")
    deltas = [
        json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
        for line in text.splitlines()
        if line.startswith("data: {") and json.loads(line[6:])["choices"]
    ]
    assert "".join(deltas) == "Forwarded through Python"
    assert len(answer["chunks"]) >= 2  # streamed, then an empty end chunk


def test_an_error_status_is_an_answer_like_any_other():
    with handling(CopilotRequestHandler()) as (fake, _client), ScriptedModelServer() as model:
        send_request(fake, "r404", model.base_url + "/nowhere", method="GET")
        answer = answer_of(fake, "r404")
    assert answer["head"]["status"] == 404 and answer["error"] is None
    assert b"error" in answer["body"]


def test_an_unreachable_url_gets_an_error_chunk_after_a_502_head(caplog):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    with handling(CopilotRequestHandler(timeout=5)) as (fake, _client):
        send_request(fake, "r", f"http://127.0.0.1:{port}/chat/completions", b"{}")
        answer = answer_of(fake, "r")
    assert answer["head"]["status"] == 502
    assert answer["error"]["code"] == "request_handler_error"
    assert "ConnectionRefusedError" in answer["error"]["message"]


class Tagging(CopilotRequestHandler):
    """Adds a header and drops one, then forwards; records the thread."""

    def __init__(self) -> None:
        super().__init__(timeout=10)
        self.threads: list[str] = []

    def send_request(self, request: ModelHttpRequest) -> ModelHttpResponse:
        self.threads.append(threading.current_thread().name)
        request.set_header("X-Team", "search")
        request.remove_header("x-secret")
        response = super().send_request(request)
        response.headers = {**response.headers, "x-seen-by": "python"}
        return response


def test_a_subclass_changes_the_request_and_the_answer():
    handler = Tagging()
    with ScriptedModelServer() as model, handling(handler) as (fake, _client):
        headers = {"content-type": ["application/json"], "x-secret": ["s"]}
        body = chat_body("tag me", stream=False)
        send_request(fake, "r1", model.base_url + "/chat/completions", body, headers=headers)
        answer = answer_of(fake, "r1")
        (seen,) = model.requests
    assert seen.headers["x-team"] == "search" and "x-secret" not in seen.headers
    assert answer["head"]["headers"]["x-seen-by"] == ["python"]
    assert json.loads(answer["body"])["choices"][0]["message"]["content"] == "You said: tag me"
    assert handler.threads[0].startswith("copilot-worker")


# ------------------------------------------------------------------------------ answering by itself


class Echo(CopilotRequestHandler):
    """An in-process model: no network."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[ModelHttpRequest] = []

    def send_request(self, request: ModelHttpRequest) -> ModelHttpResponse:
        self.requests.append(request)
        prompt = request.json()["messages"][-1]["content"]
        if request.header("Content-Type") != "application/json":
            return ModelHttpResponse(status=415, body="unsupported")
        if not request.json().get("stream"):
            return ModelHttpResponse.json_response({"echo": prompt})
        return ModelHttpResponse.event_stream(iter([{"echo": prompt}, {"n": 2}, "[DONE]"]))


def test_a_handler_answers_by_itself():
    handler = Echo()
    with handling(handler) as (fake, _client):
        send_request(
            fake,
            "plain",
            "https://api.example.invalid/chat/completions",
            chat_body("hi", stream=False),
            sessionId="s1",
            agentId="a1",
            interactionType="conversation-agent",
        )
        send_request(fake, "sse", "https://api.example.invalid/v1", chat_body("yo", stream=True))
        plain, sse = answer_of(fake, "plain"), answer_of(fake, "sse")
    assert plain["head"] == {
        "requestId": "plain",
        "status": 200,
        "headers": {"content-type": ["application/json"]},
    }
    assert json.loads(plain["body"]) == {"echo": "hi"}
    assert sse["body"] == b'data: {"echo": "yo"}\n\ndata: {"n": 2}\n\ndata: [DONE]\n\n'
    assert [c["data"] for c in sse["chunks"]][:3] == [
        'data: {"echo": "yo"}\n\n',
        'data: {"n": 2}\n\n',
        "data: [DONE]\n\n",
    ]
    first = handler.requests[0]
    assert (first.session_id, first.agent_id, first.interaction_type) == (
        "s1",
        "a1",
        "conversation-agent",
    )
    assert first.transport == "http" and first.method == "POST"
    assert "authorization" not in repr(first) and "hi" not in repr(first)


def test_bytes_that_are_not_text_go_back_as_base64():
    class Binary(CopilotRequestHandler):
        def send_request(self, request: ModelHttpRequest) -> ModelHttpResponse:
            return ModelHttpResponse(status=200, body=[b"\xff\x00\x01", "text"], reason="Fine")

    with handling(Binary()) as (fake, _client):
        send_request(fake, "b", "http://x.invalid/")
        answer = answer_of(fake, "b")
    assert answer["body"] == b"\xff\x00\x01text" and answer["head"]["statusText"] == "Fine"
    assert [c.get("binary") for c in answer["chunks"]] == [True, None, None]


def test_the_body_may_arrive_before_the_head():
    handler = Echo()
    with handling(handler) as (fake, _client):
        chunk = {
            "requestId": "early",
            "data": chat_body("late head", stream=False).decode(),
            "end": True,
        }
        assert fake.request(CHUNK, chunk)["result"] == {}
        time.sleep(0.2)
        assert handler.requests == []  # no head yet
        head = {
            "requestId": "early",
            "method": "POST",
            "url": "http://x.invalid/",
            "headers": {"content-type": ["application/json"]},
        }
        assert fake.request(START, head)["result"] == {}
        assert json.loads(answer_of(fake, "early")["body"]) == {"echo": "late head"}


# ------------------------------------------------------------------------------ failures


def test_a_handler_that_raises_is_logged_and_the_cli_gets_an_error(caplog):
    class Broken(CopilotRequestHandler):
        def send_request(self, request: ModelHttpRequest) -> ModelHttpResponse:
            raise RuntimeError("vault unreachable")

    with handling(Broken()) as (fake, _client):
        send_request(fake, "r", "https://api.example.invalid/chat/completions?key=k", b"{}")
        answer = answer_of(fake, "r")
        send_request(fake, "r2", "https://api.example.invalid/chat/completions", b"{}")
        assert answer_of(fake, "r2")["error"] is not None  # the client goes on
    assert answer["head"]["status"] == 502 and answer["body"] == b""
    assert answer["error"] == {
        "message": "request_handler failed: RuntimeError: vault unreachable",
        "code": "request_handler_error",
    }
    (record, *_) = [r for r in caplog.records if "request_handler raised" in r.message]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "https://api.example.invalid/chat/completions" in record.getMessage()
    assert "key=k" not in record.getMessage()


def test_a_wrong_answer_or_a_body_that_fails_mid_stream_is_an_error(caplog):
    class Wrong(CopilotRequestHandler):
        def send_request(self, request: ModelHttpRequest) -> Any:
            if request.request_id == "none":
                return None
            if request.request_id == "status":
                return ModelHttpResponse(status=42)

            def body() -> Iterator[bytes]:
                yield b"data: one\n\n"
                raise OSError("upstream reset")

            return ModelHttpResponse(status=200, body=body())

    with handling(Wrong()) as (fake, _client):
        for request_id in ("none", "status", "mid"):
            send_request(fake, request_id, "http://x.invalid/")
        none, status, mid = (answer_of(fake, i) for i in ("none", "status", "mid"))
    assert none["head"]["status"] == 502 and "no ModelHttpResponse" in none["error"]["message"]
    assert status["head"]["status"] == 502 and "status" in status["error"]["message"]
    assert mid["head"]["status"] == 200 and mid["body"] == b"data: one\n\n"
    assert mid["error"] == {
        "message": "the answer body failed: OSError: upstream reset",
        "code": "response_body_error",
    }


def test_a_websocket_request_is_refused_without_calling_the_handler(caplog):
    handler = Echo()
    with handling(handler) as (fake, _client):
        send_request(fake, "ws", "wss://api.example.invalid/responses", transport="websocket")
        answer = answer_of(fake, "ws")
        # its later messages are ignored
        assert fake.request(CHUNK, {"requestId": "ws", "data": "{}"})["result"] == {}
    assert answer["head"]["status"] == 501
    assert answer["error"]["code"] == "websocket_unsupported"
    assert handler.requests == []
    assert any("WebSocket" in r.message for r in caplog.records)


# ------------------------------------------------------------------------------ concurrency, cancel


def test_requests_are_handled_concurrently():
    parties = 4
    barrier = threading.Barrier(parties, timeout=20)

    class Meeting(CopilotRequestHandler):
        def send_request(self, request: ModelHttpRequest) -> ModelHttpResponse:
            barrier.wait()  # returns only when all four are in send_request at once
            return ModelHttpResponse(status=200, body=request.request_id)

    with handling(Meeting()) as (fake, _client):
        senders = [
            threading.Thread(target=send_request, args=(fake, f"c{i}", "http://x.invalid/"))
            for i in range(parties)
        ]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join(20)
        bodies = {answer_of(fake, f"c{i}")["body"] for i in range(parties)}
    assert bodies == {f"c{i}".encode() for i in range(parties)}


class _StallingServer(ThreadingHTTPServer):
    daemon_threads = True


class _Stall(BaseHTTPRequestHandler):
    """Sends the head and one event, then waits until the client goes away."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        self.wfile.write(b"data: first\n\n")
        self.wfile.flush()
        self.server.gone.wait(30)  # type: ignore[attr-defined]

    def log_message(self, *args: Any) -> None:
        pass


def test_a_cancel_from_the_cli_aborts_the_forwarded_request():
    server = _StallingServer(("127.0.0.1", 0), _Stall)
    server.gone = threading.Event()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    seen: list[ModelHttpRequest] = []

    class Recording(CopilotRequestHandler):
        def send_request(self, request: ModelHttpRequest) -> ModelHttpResponse:
            seen.append(request)
            return super().send_request(request)

    try:
        with handling(Recording()) as (fake, client):
            url = f"http://127.0.0.1:{server.server_address[1]}/chat"
            send_request(fake, "slow", url, b"{}")
            deadline = time.monotonic() + 10
            while not fake.requests(RESPONSE_CHUNK):
                assert time.monotonic() < deadline
                time.sleep(0.02)
            cancel = {
                "requestId": "slow",
                "data": "",
                "cancel": True,
                "cancelReason": "user aborted",
            }
            assert fake.request(CHUNK, cancel)["result"] == {}
            assert seen[0].wait_cancelled(5)
            while len(client._model_http or ()) > 0:  # the worker let go of the exchange
                assert time.monotonic() < deadline, "the forwarded read was not aborted"
                time.sleep(0.02)
            chunks = [m["params"] for m in fake.requests(RESPONSE_CHUNK)]
            assert [c["data"] for c in chunks] == ["data: first\n\n"]  # nothing after the cancel
            # a cancel for a request that is done, or unknown, is ignored
            assert fake.request(CHUNK, cancel)["result"] == {}
    finally:
        server.gone.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()


def test_stopping_the_client_cancels_the_requests_in_flight():
    entered = threading.Event()
    outcome: list[bool] = []

    class Waiting(CopilotRequestHandler):
        def send_request(self, request: ModelHttpRequest) -> ModelHttpResponse:
            entered.set()
            outcome.append(request.wait_cancelled(20))
            return ModelHttpResponse(status=200)

    with FakeCLI(Scenario(rules=RULES)) as fake:
        client = CopilotClient(cli_path=fake.cli_path, request_handler=Waiting())
        client.start()
        send_request(fake, "w", "http://x.invalid/")
        assert entered.wait(10)
        client.stop(timeout=5)
        deadline = time.monotonic() + 5
        while not outcome:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    assert outcome == [True]


def test_a_request_cancelled_before_its_head_never_reaches_the_handler():
    handler = Echo()
    with handling(handler) as (fake, _client):
        part = {"requestId": "gone", "data": "{"}
        assert fake.request(CHUNK, part)["result"] == {}
        cancel = {"requestId": "gone", "data": "", "cancel": True}
        assert fake.request(CHUNK, cancel)["result"] == {}
        head = {"requestId": "gone", "method": "POST", "url": "http://x.invalid/", "headers": {}}
        assert fake.request(START, head)["result"] == {}
        assert fake.request(CHUNK, {"requestId": "gone", "data": "}", "end": True})["result"] == {}
        time.sleep(0.3)
        assert handler.requests == [] and fake.requests(RESPONSE_START) == []
