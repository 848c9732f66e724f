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

import itertools
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, Iterator, Mapping, Union

__all__ = [
    "ScriptedModelServer",
    "ModelRequest",
    "Reply",
    "ToolCall",
]

logger = logging.getLogger("copilot_sync.testing")

#: How long :meth:`ScriptedModelServer.stop` waits, in total, for its threads to finish.
STOP_JOIN_TIMEOUT = 5.0

#: Seconds an idle keep-alive connection may sit before its thread gives up on it.
IDLE_CONNECTION_TIMEOUT = 120.0


# --------------------------------------------------------------------------- data types


@dataclass
class ToolCall:
    """One function call the scripted model asks for.

    ``arguments`` is a dict (sent as its JSON text) or an already-encoded JSON string, sent as
    is (which lets a test send malformed arguments on purpose). ``id`` defaults to a fresh
    ``call_<hex>`` id.
    """

    name: str
    arguments: Union[dict, str] = field(default_factory=dict)
    id: Union[str, None] = None

    def arguments_json(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, separators=(",", ":"))


@dataclass
class Reply:
    """What the scripted model answers to one chat-completions request.

    - ``text``: the assistant content (may be empty when ``tool_calls`` is set).
    - ``tool_calls``: function calls; several calls are sent as parallel tool calls.
    - ``finish_reason``: defaults to ``"tool_calls"`` when there are tool calls, else ``"stop"``.
    - ``chunks``: how many content deltas a streamed ``text`` is split into (default: up to 4,
      never more than the number of characters).
    - ``delay``: seconds to wait before answering (interrupted by ``stop()``).
    - ``chunk_delay``: seconds to wait between streamed chunks (interrupted by ``stop()``).
    - ``status``: an HTTP status of 400 or more makes this an error reply whose body is the
      OpenAI error object ``{"error": {"message": error, ...}}``.
    - ``error``: the message of an error reply.
    - ``headers``: extra HTTP response headers (e.g. ``{"Retry-After": "0"}``).
    """

    text: str = ""
    tool_calls: list = field(default_factory=list)
    finish_reason: Union[str, None] = None
    chunks: Union[int, None] = None
    delay: float = 0.0
    chunk_delay: float = 0.0
    status: int = 200
    error: Union[str, None] = None
    headers: Union[dict, None] = None

    @property
    def is_error(self) -> bool:
        return self.status >= 400


class _Headers(dict):
    """A ``dict[str, str]`` of request headers whose lookups ignore case (keys are stored lower-case)."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__()
        for key, value in items:
            lowered = key.lower()
            if lowered in self:
                dict.__setitem__(self, lowered, dict.__getitem__(self, lowered) + ", " + value)
            else:
                dict.__setitem__(self, lowered, value)

    def __getitem__(self, key: str) -> str:
        return dict.__getitem__(self, key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and dict.__contains__(self, key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return dict.get(self, key.lower(), default)


# The CLI prefixes every user prompt with "<current_datetime>...</current_datetime>\n\n".
_DATETIME_PREFIX = re.compile(r"\A\s*<current_datetime>.*?</current_datetime>\s*", re.DOTALL)


def strip_cli_wrappers(text: str) -> str:
    """``text`` without the ``<current_datetime>...</current_datetime>`` block the CLI puts first."""
    return _DATETIME_PREFIX.sub("", text, count=1)


def content_text(content: Any) -> str:
    """The text of an OpenAI message ``content``: a string, or a list of parts (text parts joined)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces = []
        for part in content:
            if isinstance(part, str):
                pieces.append(part)
            elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
                pieces.append(part["text"])
        return "".join(pieces)
    return str(content)


class ModelRequest:
    """One HTTP request the server received (chat completions, or anything else in ``all_requests``).

    ``headers`` looks keys up case-insensitively (they are stored lower-case). ``body`` is the
    parsed JSON body (``{}`` when there is none).
    """

    __slots__ = ("method", "path", "headers", "body", "stream", "received_at")

    def __init__(
        self,
        *,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: dict,
        received_at: float | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.headers = headers if isinstance(headers, _Headers) else _Headers(headers.items())
        self.body = body
        self.stream = bool(body.get("stream")) if isinstance(body, dict) else False
        self.received_at = time.monotonic() if received_at is None else received_at

    @property
    def model(self) -> str | None:
        model = self.body.get("model")
        return model if isinstance(model, str) else None

    @property
    def messages(self) -> list[dict]:
        messages = self.body.get("messages")
        return list(messages) if isinstance(messages, list) else []

    @property
    def system_prompt(self) -> str:
        """The text of every ``system`` (and ``developer``) message, joined by blank lines."""
        return "\n\n".join(
            content_text(m.get("content"))
            for m in self.messages
            if isinstance(m, dict) and m.get("role") in ("system", "developer")
        )

    @property
    def last_user_message(self) -> str:
        """The text of the last ``user`` message (``""`` if there is none)."""
        for message in reversed(self.messages):
            if isinstance(message, dict) and message.get("role") == "user":
                return content_text(message.get("content"))
        return ""

    @property
    def user_prompt(self) -> str:
        """:attr:`last_user_message` without the CLI's leading ``<current_datetime>`` block.

        For ``session.send(prompt="hi")`` the wire text is
        ``"<current_datetime>2026-...</current_datetime>\n\nhi"``; this returns ``"hi"``.
        """
        return strip_cli_wrappers(self.last_user_message)

    @property
    def tools(self) -> list[dict]:
        """The tool definitions offered to the model (OpenAI ``{"type":"function","function":{...}}`` items)."""
        tools = self.body.get("tools")
        return list(tools) if isinstance(tools, list) else []

    @property
    def tool_names(self) -> list[str]:
        names = []
        for tool in self.tools:
            function = tool.get("function") if isinstance(tool, dict) else None
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                names.append(function["name"])
        return names

    @property
    def tool_results(self) -> list[dict]:
        """The ``role="tool"`` messages as ``{"tool_call_id": ..., "content": <text>}``, in order."""
        return [
            {"tool_call_id": m.get("tool_call_id"), "content": content_text(m.get("content"))}
            for m in self.messages
            if isinstance(m, dict) and m.get("role") == "tool"
        ]

    def __repr__(self) -> str:
        return (
            f"ModelRequest({self.method} {self.path}, stream={self.stream}, "
            f"messages={len(self.messages)}, tools={len(self.tools)})"
        )


Responder = Callable[[ModelRequest], Union[Reply, str]]
_ScriptItem = Union[Reply, Callable[[ModelRequest], Union[Reply, str]]]


# --------------------------------------------------------------------------- HTTP plumbing


class _HTTPServer(ThreadingHTTPServer):
    """A threading HTTP server whose connection threads are named and can all be closed."""

    daemon_threads = True
    block_on_close = False  # stop() joins the connection threads itself, with a deadline
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: "ScriptedModelServer") -> None:
        self.owner = owner
        self._conn_counter = itertools.count(1)
        self._conn_lock = threading.Lock()
        self._connections: dict[threading.Thread, socket.socket] = {}
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"copilot-model-server-conn-{next(self._conn_counter)}",
            daemon=True,
        )
        with self._conn_lock:
            self._connections[thread] = request
        thread.start()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._conn_lock:
                self._connections.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("model server: connection from %s failed", client_address, exc_info=True)

    def close_connections(self) -> list[threading.Thread]:
        """Shut down every open connection socket (unblocking its thread); return those threads."""
        with self._conn_lock:
            items = list(self._connections.items())
        for _thread, sock in items:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return [thread for thread, _sock in items]


class _ClientGone(Exception):
    """The client closed the connection while we were answering."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ScriptedModelServer/1.0"
    timeout = IDLE_CONNECTION_TIMEOUT
    server: _HTTPServer

    # -- routing

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        owner = self.server.owner
        try:
            body_bytes = self._read_body()
        except (ValueError, OSError) as exc:
            self.close_connection = True
            self._send_json(400, _error_body(f"unreadable request body: {exc}", "invalid_request_error"))
            return
        path = self.path.split("?", 1)[0]
        normalized = path.rstrip("/") or "/"
        body: Any = {}
        parse_error = None
        if body_bytes:
            try:
                body = json.loads(body_bytes.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                parse_error = str(exc)
        record = ModelRequest(
            method=method,
            path=self.path,
            headers=_Headers(self.headers.items()),
            body=body if isinstance(body, dict) else {},
        )
        is_chat = method == "POST" and normalized.endswith("/chat/completions")
        valid_chat = is_chat and parse_error is None and isinstance(body, dict)
        owner._record(record, chat=valid_chat)
        logger.debug("model server: %s %s (%d bytes)", method, self.path, len(body_bytes))

        try:
            if is_chat and not valid_chat:
                message = f"request body is not a JSON object: {parse_error or type(body).__name__}"
                self._send_json(400, _error_body(message, "invalid_request_error"))
            elif is_chat:
                self._chat_completions(record)
            elif method == "GET" and normalized in ("/models", "/v1/models"):
                self._send_json(200, {"object": "list", "data": [owner._model_object()]})
            elif method == "GET" and normalized.startswith(("/models/", "/v1/models/")):
                model_id = normalized.split("/models/", 1)[1]
                if model_id == owner.model:
                    self._send_json(200, owner._model_object())
                else:
                    message = f"The model '{model_id}' does not exist"
                    self._send_json(404, _error_body(message, "invalid_request_error", "model_not_found"))
            else:
                message = f"Unknown path: {method} {path}"
                self._send_json(404, _error_body(message, "invalid_request_error", "not_found"))
        except _ClientGone:
            self.close_connection = True
            logger.debug("model server: client went away during %s %s", method, self.path)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = bytearray()
            while True:
                size_line = self.rfile.readline(65537)
                if not size_line:
                    raise ValueError("connection closed inside a chunked body")
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline(65537)  # the CRLF after the chunk
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length) if length else b""

    # -- chat completions

    def _chat_completions(self, request: ModelRequest) -> None:
        owner = self.server.owner
        reply = owner._next_reply(request)
        if reply.delay > 0 and owner._sleep(reply.delay):
            raise _ClientGone()  # stopping: drop the connection
        if reply.is_error:
            self._send_json(
                reply.status,
                _error_body(reply.error or "scripted failure", _error_type(reply.status)),
                reply.headers,
            )
            return
        calls = [_normalize_call(c) for c in reply.tool_calls]
        finish = reply.finish_reason or ("tool_calls" if calls else "stop")
        model = request.model or owner.model
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        usage = _usage(request, reply.text, calls)
        if request.stream:
            self._stream(reply, calls, finish, model, completion_id, created, usage, request)
            return
        headers = dict(reply.headers or {})
        # Like OpenAI: content is null when the model only calls tools.
        content = reply.text if (reply.text or not calls) else None
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments_json()}}
                for c in calls
            ]
        self._send_json(
            200,
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
                "usage": usage,
            },
            headers,
        )

    def _stream(
        self,
        reply: Reply,
        calls: list[ToolCall],
        finish: str,
        model: str,
        completion_id: str,
        created: int,
        usage: dict,
        request: ModelRequest,
    ) -> None:
        owner = self.server.owner
        stream_options = request.body.get("stream_options")
        include_usage = isinstance(stream_options, dict) and bool(stream_options.get("include_usage"))

        def chunk(delta: dict, finish_reason: str | None = None) -> dict:
            return {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }

        def events() -> Iterator[dict]:
            yield chunk({"role": "assistant", "content": ""})
            for piece in split_text(reply.text, reply.chunks):
                yield chunk({"content": piece})
            for index, call in enumerate(calls):
                yield chunk(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "id": call.id,
                                "type": "function",
                                "function": {"name": call.name, "arguments": ""},
                            }
                        ]
                    }
                )
                for piece in split_text(call.arguments_json(), 2):
                    yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            yield chunk({}, finish)
            if include_usage:
                yield {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": usage,
                }

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for key, value in (reply.headers or {}).items():
            self.send_header(key, str(value))
        self.end_headers()
        first = True
        for event in events():
            if not first and reply.chunk_delay > 0 and owner._sleep(reply.chunk_delay):
                raise _ClientGone()
            first = False
            self._write_chunk(b"data: " + json.dumps(event, separators=(",", ":")).encode("utf-8") + b"\n\n")
        self._write_chunk(b"data: [DONE]\n\n")
        self._write_raw(b"0\r\n\r\n")

    # -- low-level writing

    def _write_raw(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError) as exc:
            raise _ClientGone() from exc

    def _write_chunk(self, data: bytes) -> None:
        self._write_raw(f"{len(data):X}\r\n".encode("ascii") + data + b"\r\n")

    def _send_json(self, status: int, payload: Any, headers: Mapping[str, Any] | None = None) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, str(value))
            self.end_headers()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as exc:
            raise _ClientGone() from exc
        self._write_raw(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (BaseHTTPRequestHandler's name)
        logger.debug("model server: " + format, *args)


# --------------------------------------------------------------------------- helpers


def split_text(text: str, chunks: int | None = None) -> list[str]:
    """Split ``text`` into ``chunks`` nearly equal, non-empty pieces (default up to 4) that join back to it."""
    if not text:
        return []
    count = 4 if chunks is None else int(chunks)
    count = max(1, min(count, len(text)))
    size, extra = divmod(len(text), count)
    pieces, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


def _normalize_call(call: Any) -> ToolCall:
    if isinstance(call, ToolCall):
        result = ToolCall(call.name, call.arguments, call.id)
    elif isinstance(call, (tuple, list)) and 2 <= len(call) <= 3:
        result = ToolCall(call[0], call[1], call[2] if len(call) == 3 else None)
    elif isinstance(call, Mapping):
        result = ToolCall(call["name"], call.get("arguments", {}), call.get("id"))
    else:
        raise TypeError(f"not a tool call: {call!r} (use ToolCall(name, arguments) or (name, arguments))")
    if not result.id:
        result.id = f"call_{uuid.uuid4().hex[:24]}"
    return result


def _estimate_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4) if text else 0


def _usage(request: ModelRequest, text: str, calls: list[ToolCall]) -> dict:
    prompt_chars = 0
    for message in request.messages:
        if isinstance(message, dict):
            prompt_chars += len(content_text(message.get("content")))
    prompt = max(1, (prompt_chars + 3) // 4)
    completion = _estimate_tokens(text) + sum(_estimate_tokens(c.name + c.arguments_json()) for c in calls)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _format_seconds(seconds: float) -> str:
    if seconds < 0:
        raise ValueError("retry_after must be >= 0")
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def _error_type(status: int) -> str:
    if status == 401:
        return "authentication_error"
    if status == 429:
        return "rate_limit_exceeded"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def _error_body(message: str, error_type: str, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": error_type, "param": None, "code": code}}


def _to_reply(value: Any) -> Reply:
    if isinstance(value, Reply):
        return value
    if isinstance(value, str):
        return Reply(text=value)
    raise TypeError(f"a responder must return a Reply or a str, not {type(value).__name__}")


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
        self._script: deque[_ScriptItem] = deque()
        self._requests: list[ModelRequest] = []
        self._all_requests: list[ModelRequest] = []
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._stopped = False

    # -- lifecycle

    def start(self) -> "ScriptedModelServer":
        """Bind and start serving (idempotent while running). Returns ``self``."""
        with self._lock:
            if self._stopped:
                raise RuntimeError("a stopped ScriptedModelServer cannot be restarted; create a new one")
            if self._server is not None:
                return self
            self._server = _HTTPServer((self.host, self._requested_port), self)
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
                logger.warning("model server: thread %s did not finish within %.1fs", t.name, STOP_JOIN_TIMEOUT)
        logger.info("model server on port %s stopped", server.server_address[1])

    def __enter__(self) -> "ScriptedModelServer":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None and not self._stopped

    # -- addresses

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the model server is not started; call start() first")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://<host>:<port>`` (without ``/v1``; both forms are served)."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    def provider(self, **extra: Any) -> dict:
        """A BYOK ``provider`` config (snake_case keys) pointing at this server; ``extra`` overrides."""
        config: dict[str, Any] = {
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
        arguments: dict | str,
        *,
        call_id: str | None = None,
        text: str = "",
        delay: float = 0.0,
    ) -> None:
        """Queue an answer that calls one tool (``arguments``: a dict, or a raw JSON string sent as is)."""
        self._push(Reply(text=text, tool_calls=[ToolCall(name, arguments, call_id)], delay=delay))

    def add_tool_calls(self, calls: list, *, text: str = "", delay: float = 0.0) -> None:
        """Queue one answer with several (parallel) tool calls: ``[(name, arguments), ...]``.

        Items may also be ``(name, arguments, call_id)`` tuples or :class:`ToolCall` objects.
        """
        normalized = [_normalize_call(c) for c in calls]
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
        headers: dict | None = None,
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
            all_headers["Retry-After"] = _format_seconds(retry_after)
        self._push(Reply(status=status, error=message, delay=delay, headers=all_headers or None))

    def add_response(self, fn: Callable[[ModelRequest], Union[Reply, str]] | Reply) -> None:
        """Queue a dynamic answer: ``fn(request)`` returns a :class:`Reply` or a str, at request time.

        A :class:`Reply` may also be queued directly. If ``fn`` raises, the request gets a 500.
        """
        if not isinstance(fn, Reply) and not callable(fn):
            raise TypeError("add_response needs a callable or a Reply")
        self._push(fn)

    def _push(self, item: _ScriptItem) -> None:
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
                    return _to_reply(responder(request))
                if self.default_reply is not None:
                    return Reply(text=self.default_reply)
                return Reply(text=f"You said: {request.user_prompt}")
            if isinstance(item, Reply):
                return item
            return _to_reply(item(request))
        except Exception as exc:  # a test's bug becomes a visible 500, never a dead connection
            logger.exception("model server: scripted responder failed")
            return Reply(status=500, error=f"scripted responder failed: {type(exc).__name__}: {exc}")

    def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; return True if the server is stopping (the caller should give up)."""
        return self._stopping.wait(seconds)

    def _model_object(self) -> dict:
        return {"id": self.model, "object": "model", "created": 0, "owned_by": "scripted"}

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "not started"
        state = "stopped" if self._stopped else ("running" if self._server is not None else "new")
        return (
            f"<ScriptedModelServer {where} model={self.model!r} {state} "
            f"pending={self.pending} requests={len(self._requests)}>"
        )
