"""A scripted, OpenAI-compatible model server for offline tests.

The Copilot CLI can talk to any OpenAI-compatible endpoint ("bring your own key"). Point a
session's ``provider`` at a :class:`ScriptedModelServer` and every model call the CLI makes
becomes a ``POST /chat/completions`` that this server answers from a script::

    with ScriptedModelServer() as server:
        server.add_tool_call("get_weather", {"city": "Paris"})
        server.add_reply("It is sunny in Paris.")
        session = client.create_session(model=server.model, provider=server.provider(), ...)
        ...
        first, second = server.wait_for_requests(2)
        assert second.tool_results[0]["content"] == "Sunny"

Scripted replies are consumed first in, first out: one per chat-completions request. When the
script is empty the ``responder`` answers (default: ``default_reply`` if given, else an echo
``"You said: <prompt>"``, where the prompt is the last user message without the
``<current_datetime>`` block the CLI prefixes to it; see :attr:`ModelRequest.user_prompt`).

Wire details the server gets right, because the CLI checks them:

- non-streaming requests get a ``chat.completion`` object with a correct ``Content-Length``;
- streaming requests (``"stream": true``) get ``text/event-stream`` over chunked transfer
  encoding: a role delta, several content deltas, tool-call deltas (``index``, ``id``,
  ``function.name`` then ``function.arguments`` pieces), a ``finish_reason`` chunk, a usage chunk
  when ``stream_options.include_usage`` is set, then ``data: [DONE]``;
- both ``/chat/completions`` and ``/v1/chat/completions`` (any path ending in
  ``/chat/completions``), and ``/models`` and ``/v1/models`` are served, so the base URL works
  with or without a ``/v1`` suffix; anything else is a JSON 404.

What CLI 1.0.81 sends (observed with ``provider={"type": "openai", "baseUrl": ..., "wireApi":
"completions"}``):

- only ``POST <baseUrl>/chat/completions``; no ``GET /models``, with or without ``/v1``;
- the OpenAI JS client's headers (``Authorization: Bearer <apiKey>``, ``User-Agent: OpenAI/JS ...``,
  ``x-stainless-*``), plus ``x-initiator: user|agent`` and ``x-interaction-type``;
- a body with ``model``, ``messages``, ``tools`` (the CLI's built-in tools plus the session's
  custom tools, as ``{"type": "function", "function": {...}}``), ``temperature``, ``top_p`` and,
  when streaming, ``stream: true`` with ``stream_options: {"include_usage": true}``;
- ``messages``: one ``system`` message (the CLI prompt, with ``systemMessage`` appended or
  replacing it), the whole history, user text prefixed with
  ``<current_datetime>...</current_datetime>\n\n``, and tool results as ``role: "tool"``
  messages with ``tool_call_id``;
- error answers: 5xx and 429 are retried 5 times with exponential backoff (about 34 s in all
  before ``session.error``) unless the answer carries ``Retry-After`` (honoured; ``0`` retries at
  once); 401 is retried twice (1 s apart); 400 is not retried.

Threads: the accept loop runs in ``copilot-model-server`` and each connection in
``copilot-model-server-conn-<n>`` (all daemons). :meth:`ScriptedModelServer.stop` closes the
listening socket and every open keep-alive connection, and joins those threads within a bounded
time, so a test never hangs on it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from typing_extensions import Self, Unpack

from .._session_options import ProviderConfig
from ._model_http import IDLE_CONNECTION_TIMEOUT as IDLE_CONNECTION_TIMEOUT  # re-exported
from ._model_http import ModelHTTPServer
from ._model_types import (
    ModelRequest,
    Reply,
    Responder,
    ScriptItem,
    ToolCall,
    format_seconds,
    normalize_call,
    to_reply,
)
from ._model_types import content_text as content_text  # re-exported
from ._model_types import split_text as split_text  # re-exported
from ._model_types import strip_cli_wrappers as strip_cli_wrappers  # re-exported
from ._model_types import usage_of as usage_of  # re-exported

__all__ = [
    "ModelRequest",
    "Reply",
    "ScriptedModelServer",
    "ToolCall",
]

logger = logging.getLogger("copilot_sync.testing")

#: How long :meth:`ScriptedModelServer.stop` waits, in total, for its threads to finish.
STOP_JOIN_TIMEOUT = 5.0


# --------------------------------------------------------------------------- the server


class ScriptedModelServer:
    """An OpenAI-compatible chat-completions endpoint whose answers a test scripts.

    Use it as a context manager (or call :meth:`start` / :meth:`stop`). All methods are
    thread-safe; scripting while the CLI is already talking to the server is fine.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        model: str = "scripted-model",
        responder: Responder | None = None,
        default_reply: str | None = None,
    ) -> None:
        self.host = host
        self.model = model
        self.responder = responder
        self.default_reply = default_reply
        self._requested_port = port
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._script: deque[ScriptItem] = deque()
        self._requests: list[ModelRequest] = []
        self._all_requests: list[ModelRequest] = []
        self._server: ModelHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._stopped = False

    # -- lifecycle

    def start(self) -> Self:
        """Bind and start serving (idempotent while running). Returns ``self``."""
        with self._lock:
            if self._stopped:
                raise RuntimeError(
                    "a stopped ScriptedModelServer cannot be restarted; create a new one"
                )
            if self._server is not None:
                return self
            self._server = ModelHTTPServer((self.host, self._requested_port), _Backend(self))
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="copilot-model-server",
                daemon=True,
            )
            self._thread.start()
        logger.info("model server listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving, close open connections, and join the threads (bounded; idempotent)."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            server, thread = self._server, self._thread
            self._changed.notify_all()
        self._stopping.set()
        if server is None:
            return
        deadline = time.monotonic() + STOP_JOIN_TIMEOUT
        if thread is not None and thread is not threading.current_thread():
            server.shutdown()  # returns once serve_forever has left its loop
        server.server_close()
        connection_threads = server.close_connections()
        for t in [thread, *connection_threads]:
            if t is None or t is threading.current_thread():
                continue
            t.join(max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                logger.warning(
                    "model server: thread %s did not finish within %.1fs", t.name, STOP_JOIN_TIMEOUT
                )
        logger.info("model server on port %s stopped", server.server_address[1])

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """``True`` between ``start()`` and ``stop()``."""
        return self._server is not None and not self._stopped

    # -- addresses

    @property
    def port(self) -> int:
        """The TCP port the server listens on (on 127.0.0.1)."""
        if self._server is None:
            raise RuntimeError("the model server is not started; call start() first")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://<host>:<port>`` (without ``/v1``; both forms are served)."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    def provider(self, **extra: Unpack[ProviderConfig]) -> ProviderConfig:
        """A BYOK ``provider`` config (snake_case keys) pointing at this server; ``extra`` overrides."""
        config: ProviderConfig = {
            "type": "openai",
            "base_url": self.base_url,
            "api_key": "scripted",
            "wire_api": "completions",
        }
        config.update(extra)
        return config

    # -- scripting

    def add_reply(
        self,
        text: str,
        *,
        chunks: int | None = None,
        delay: float = 0.0,
        chunk_delay: float = 0.0,
    ) -> None:
        """Queue a plain text answer (streamed as ``chunks`` content deltas when the request streams)."""
        self._push(Reply(text=text, chunks=chunks, delay=delay, chunk_delay=chunk_delay))

    def add_tool_call(
        self,
        name: str,
        arguments: dict[str, Any] | str,
        *,
        call_id: str | None = None,
        text: str = "",
        delay: float = 0.0,
    ) -> None:
        """Queue an answer that calls one tool (``arguments``: a dict, or a raw JSON string sent as is)."""
        self._push(Reply(text=text, tool_calls=[ToolCall(name, arguments, call_id)], delay=delay))

    def add_tool_calls(self, calls: list[Any], *, text: str = "", delay: float = 0.0) -> None:
        """Queue one answer with several (parallel) tool calls: ``[(name, arguments), ...]``.

        Items may also be ``(name, arguments, call_id)`` tuples or :class:`ToolCall` objects.
        """
        normalized = [normalize_call(c) for c in calls]
        if not normalized:
            raise ValueError("add_tool_calls needs at least one call")
        self._push(Reply(text=text, tool_calls=normalized, delay=delay))

    def add_error(
        self,
        status: int = 500,
        message: str = "scripted failure",
        *,
        retry_after: float | None = None,
        delay: float = 0.0,
        headers: dict[str, Any] | None = None,
    ) -> None:
        """Queue an HTTP error answer (OpenAI error JSON ``{"error": {"message": ...}}``).

        The CLI retries 5xx and 429 answers with exponential backoff (up to 5 retries, about 34 s
        before it gives up); ``retry_after=0`` sends ``Retry-After: 0``, which the CLI honours,
        so retries happen at once. 4xx answers other than 429 are not retried.
        """
        if status < 400:
            raise ValueError(f"an error status must be >= 400, not {status}")
        all_headers = dict(headers or {})
        if retry_after is not None:
            all_headers["Retry-After"] = format_seconds(retry_after)
        self._push(Reply(status=status, error=message, delay=delay, headers=all_headers or None))

    def add_response(self, fn: Callable[[ModelRequest], Reply | str] | Reply) -> None:
        """Queue a dynamic answer: ``fn(request)`` returns a :class:`Reply` or a str, at request time.

        A :class:`Reply` may also be queued directly. If ``fn`` raises, the request gets a 500.
        """
        if not isinstance(fn, Reply) and not callable(fn):
            raise TypeError("add_response needs a callable or a Reply")
        self._push(fn)

    def _push(self, item: ScriptItem) -> None:
        with self._lock:
            self._script.append(item)

    @property
    def pending(self) -> int:
        """How many scripted answers have not been consumed yet."""
        with self._lock:
            return len(self._script)

    # -- observation

    @property
    def requests(self) -> list[ModelRequest]:
        """Every chat-completions request received so far, in order (a snapshot copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def all_requests(self) -> list[ModelRequest]:
        """Every HTTP request received (including ``GET /models`` and 404s), in order (a copy)."""
        with self._lock:
            return list(self._all_requests)

    def wait_for_requests(self, n: int, timeout: float = 10.0) -> list[ModelRequest]:
        """Block until at least ``n`` chat-completions requests arrived; return them all.

        Raises :class:`TimeoutError` after ``timeout`` seconds, or at once if the server stops.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._requests) < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stopped:
                    raise TimeoutError(
                        f"received {len(self._requests)} of {n} chat-completions requests"
                        + (" before the server stopped" if self._stopped else f" within {timeout}s")
                    )
                self._changed.wait(remaining)
            return list(self._requests)

    def clear(self) -> None:
        """Forget the recorded requests and drop every scripted answer not yet consumed."""
        with self._lock:
            self._script.clear()
            self._requests.clear()
            self._all_requests.clear()

    # -- used by the handler

    def _record(self, request: ModelRequest, *, chat: bool) -> None:
        with self._changed:
            self._all_requests.append(request)
            if chat:
                self._requests.append(request)
            self._changed.notify_all()

    def _next_reply(self, request: ModelRequest) -> Reply:
        with self._lock:
            item: Any = self._script.popleft() if self._script else None
        try:
            if item is None:
                responder = self.responder
                if responder is not None:
                    return to_reply(responder(request))
                if self.default_reply is not None:
                    return Reply(text=self.default_reply)
                return Reply(text=f"You said: {request.user_prompt}")
            if isinstance(item, Reply):
                return item
            return to_reply(item(request))
        except Exception as exc:  # a test's bug becomes a visible 500, never a dead connection
            logger.exception("model server: scripted responder failed")
            return Reply(
                status=500, error=f"scripted responder failed: {type(exc).__name__}: {exc}"
            )

    def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; return True if the server is stopping (the caller should give up)."""
        return self._stopping.wait(seconds)

    def _model_object(self) -> dict[str, Any]:
        return {"id": self.model, "object": "model", "created": 0, "owned_by": "scripted"}

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "not started"
        state = "stopped" if self._stopped else ("running" if self._server is not None else "new")
        return (
            f"<ScriptedModelServer {where} model={self.model!r} {state} "
            f"pending={self.pending} requests={len(self._requests)}>"
        )


class _Backend:
    """The server as its HTTP handler sees it (:class:`~._model_http.ModelBackend`)."""

    __slots__ = ("_server",)

    def __init__(self, server: ScriptedModelServer) -> None:
        self._server = server

    @property
    def model(self) -> str:
        return self._server.model

    def record(self, request: ModelRequest, *, chat: bool) -> None:
        self._server._record(request, chat=chat)

    def next_reply(self, request: ModelRequest) -> Reply:
        return self._server._next_reply(request)

    def sleep(self, seconds: float) -> bool:
        return self._server._sleep(seconds)

    def model_object(self) -> dict[str, Any]:
        return self._server._model_object()
