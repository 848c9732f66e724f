"""The client's ``request_handler`` on the real CLI, offline: with it, the CLI no longer calls
the BYOK model server of a session itself; each model request of a turn comes to the
handler (``llmInference.httpRequestStart``/``httpRequestChunk``), which forwards it to the
scripted model server (the reply arrives, streamed or not), or answers by itself with no
network at all (an in-process model). A handler that raises fails the turn with a
``SessionError`` carrying its message, after the CLI's own retries; an abort cancels the
forwarded request."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from copilot_sync import CopilotClient, PermissionHandler, SessionError
from copilot_sync._install import cli_home, find_installed_cli
from copilot_sync._requests.model_http import (
    CopilotRequestHandler,
    ModelHttpRequest,
    ModelHttpResponse,
)
from copilot_sync._versions import DEFAULT_CLI_VERSION, OLDEST_SUPPORTED_CLI_VERSION

from .conftest import open_session

pytestmark = pytest.mark.timeout(120)

TIMEOUT = 60
VERSIONS = sorted({DEFAULT_CLI_VERSION, OLDEST_SUPPORTED_CLI_VERSION})


@pytest.fixture(params=VERSIONS)
def versioned(request, copilot_home):
    """``(path, env)`` of an installed CLI at one end of the supported range."""
    installed = find_installed_cli(request.param, cli_home(request.param))
    if installed is None:  # a missing CLI is a set-up failure, never a silent skip
        pytest.fail(f"Copilot CLI {request.param} is not installed; run `bash scripts/setup.sh`")
    env = dict(os.environ, **installed.env, COPILOT_HOME=copilot_home)
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "COPILOT_GITHUB_TOKEN", "COPILOT_CLI_PATH"):
        env.pop(name, None)
    return str(installed.executable), env


class Recording(CopilotRequestHandler):
    """Records each request (and the thread it ran on), adds a header, forwards it."""

    def __init__(self) -> None:
        super().__init__(timeout=30)
        self.seen: list[tuple[ModelHttpRequest, dict[str, list[str]], str]] = []
        self.lock = threading.Lock()

    def send_request(self, request: ModelHttpRequest) -> ModelHttpResponse:
        with self.lock:
            headers = {name: list(values) for name, values in request.headers.items()}
            self.seen.append((request, headers, threading.current_thread().name))
        request.set_header("x-forwarded-by", "copilot-sync")
        return super().send_request(request)


@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "streaming"])
def test_a_turn_s_model_request_goes_through_the_handler(versioned, model, streaming):
    cli_path, env = versioned
    handler = Recording()
    model.add_reply("The handler forwarded this.", chunks=4)
    with CopilotClient(cli_path=cli_path, env=env, request_handler=handler) as client:
        session = open_session(
            client, model, on_permission_request=PermissionHandler.approve_all, streaming=streaming
        )
        deltas: list[str] = []
        session.on(
            "assistant.message_delta", lambda event: deltas.append(event.data.delta_content or "")
        )
        reply = session.send_and_wait("Who carried this?", timeout=TIMEOUT)
        assert reply is not None and reply.data.content == "The handler forwarded this."
        session.disconnect()
    (request, headers, thread), *_ = handler.seen
    assert request.method == "POST"
    assert request.url == model.base_url + "/chat/completions"
    assert headers["authorization"] == ["Bearer scripted"]
    assert request.session_id == session.session_id
    assert request.json()["messages"][-1]["role"] == "user"
    assert bool(request.json().get("stream")) is streaming
    assert thread.startswith("copilot-worker")
    (served, *_) = model.requests  # the CLI never called the server itself: the handler did
    assert served.headers["x-forwarded-by"] == "copilot-sync"
    assert len(model.requests) == len(handler.seen)
    if streaming:
        assert "".join(deltas) == "The handler forwarded this." and len(deltas) >= 2


class InProcessModel(CopilotRequestHandler):
    """An OpenAI-compatible chat-completions model in this process: no network."""

    def __init__(self) -> None:
        super().__init__()
        self.prompts: list[str] = []

    def send_request(self, request: ModelHttpRequest) -> ModelHttpResponse:
        body = request.json()
        prompt = body["messages"][-1]["content"]
        text = prompt if isinstance(prompt, str) else json.dumps(prompt)
        self.prompts.append(text)
        answer = "Answered in Python, offline."
        if not body.get("stream"):
            return ModelHttpResponse.json_response(
                {
                    "id": "local-1",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": answer},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 5, "total_tokens": 6},
                }
            )

        def chunks() -> Iterator[Any]:
            for index, word in enumerate(answer.split(" ")):
                delta: dict[str, str] = {"content": word if index == 0 else " " + word}
                if index == 0:
                    delta["role"] = "assistant"
                yield _chunk(body["model"], delta, None)
            yield _chunk(body["model"], {}, "stop")
            yield "[DONE]"

        return ModelHttpResponse.event_stream(chunks())


def _chunk(model: str, delta: dict[str, str], finish: str | None) -> dict[str, Any]:
    return {
        "id": "local-1",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "streaming"])
def test_a_handler_that_answers_by_itself_is_the_model(cli_env, real_cli, model, streaming):
    handler = InProcessModel()
    with CopilotClient(cli_path=real_cli.path, env=cli_env, request_handler=handler) as client:
        session = open_session(
            client, model, on_permission_request=PermissionHandler.approve_all, streaming=streaming
        )
        deltas: list[str] = []
        session.on(
            "assistant.message_delta", lambda event: deltas.append(event.data.delta_content or "")
        )
        reply = session.send_and_wait("Say something", timeout=TIMEOUT)
        assert reply is not None and reply.data.content == "Answered in Python, offline."
        session.disconnect()
    assert model.requests == []  # no network: the scripted server was never called
    assert "Say something" in handler.prompts[0]
    if streaming:
        assert "".join(deltas) == "Answered in Python, offline." and len(deltas) >= 2


def test_a_handler_that_raises_fails_the_turn_with_its_message(cli_env, real_cli, model, caplog):
    calls: list[str] = []

    class Broken(CopilotRequestHandler):
        def send_request(self, request: ModelHttpRequest) -> ModelHttpResponse:
            calls.append(request.request_id)
            raise RuntimeError("the model vault is closed")

    with CopilotClient(cli_path=real_cli.path, env=cli_env, request_handler=Broken()) as client:
        session = open_session(client, model, on_permission_request=PermissionHandler.approve_all)
        started = time.monotonic()
        with pytest.raises(SessionError, match="the model vault is closed"):
            session.send_and_wait("Anyone there?", timeout=TIMEOUT)
        elapsed = time.monotonic() - started
        # the connection and the client go on: the next turn fails the same way
        with pytest.raises(SessionError):
            session.send_and_wait("Still there?", timeout=TIMEOUT)
        session.disconnect()
    assert elapsed < 45  # the CLI's retries (about 5 s in 1.0.102), never a hang
    assert len(calls) >= 2 and model.requests == []
    records = [r for r in caplog.records if "request_handler raised" in r.message]
    assert records and all(r.levelno == logging.ERROR and r.exc_info for r in records)


def test_an_abort_cancels_the_forwarded_request(cli_env, real_cli, model):
    handler = Recording()
    model.add_reply("one two three four five six", chunks=6, chunk_delay=3.0)
    with CopilotClient(cli_path=real_cli.path, env=cli_env, request_handler=handler) as client:
        session = open_session(
            client, model, on_permission_request=PermissionHandler.approve_all, streaming=True
        )
        first_delta = threading.Event()
        session.on("assistant.message_delta", lambda event: first_delta.set())
        session.send("Count slowly")
        assert first_delta.wait(TIMEOUT)
        session.abort()
        (request, _headers, _thread), *_ = handler.seen
        assert request.wait_cancelled(10)  # the CLI sent a cancel chunk
        deadline = time.monotonic() + 10
        while len(client._model_http or ()) > 0:  # the worker let go: the read was aborted
            assert time.monotonic() < deadline
            time.sleep(0.05)
        session.disconnect()
