"""The scripted model server's HTTP side: a threading server with named, closable connection
threads, and the handler for ``/models`` and ``/chat/completions`` (streaming or not)."""

from __future__ import annotations

import itertools
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from .._fields import is_object
from ._model_types import (
    Headers,
    ModelRequest,
    Reply,
    ToolCall,
    error_body,
    error_type,
    normalize_call,
    split_text,
    usage_of,
)

__all__ = ["ClientGone", "ModelBackend", "ModelHTTPServer", "ModelHandler"]

logger = logging.getLogger("copilot_sync.testing")

IDLE_CONNECTION_TIMEOUT = 120.0


class ModelBackend(Protocol):
    """What the HTTP handler needs of the server (:class:`~._model_server.ScriptedModelServer`)."""

    @property
    def model(self) -> str: ...

    def record(self, request: ModelRequest, *, chat: bool) -> None: ...

    def next_reply(self, request: ModelRequest) -> Reply: ...

    def sleep(self, seconds: float) -> bool: ...

    def model_object(self) -> dict[str, Any]: ...


# --------------------------------------------------------------------------- HTTP plumbing


class ModelHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server whose connection threads are named and can all be closed."""

    daemon_threads = True
    block_on_close = False  # stop() joins the connection threads itself, with a deadline
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: ModelBackend) -> None:
        self.owner = owner
        self._conn_counter = itertools.count(1)
        self._conn_lock = threading.Lock()
        self._connections: dict[threading.Thread, socket.socket] = {}
        super().__init__(address, ModelHandler)

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
        # socketserver calls handle_error inside its except block: exc_info is that exception
        logger.debug("model server: connection from %s failed", client_address, exc_info=True)  # noqa: LOG014

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


class ClientGone(Exception):
    """The client closed the connection while we were answering."""


class ModelHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ScriptedModelServer/1.0"
    timeout = IDLE_CONNECTION_TIMEOUT
    server: ModelHTTPServer  # pyright: ignore[reportIncompatibleVariableOverride]  # always ours

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
            self._send_json(
                400, error_body(f"unreadable request body: {exc}", "invalid_request_error")
            )
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
            headers=Headers(self.headers.items()),
            body=body if is_object(body) else {},
        )
        is_chat = method == "POST" and normalized.endswith("/chat/completions")
        valid_chat = is_chat and parse_error is None and is_object(body)
        owner.record(record, chat=valid_chat)
        logger.debug("model server: %s %s (%d bytes)", method, self.path, len(body_bytes))

        try:
            if is_chat and not valid_chat:
                message = f"request body is not a JSON object: {parse_error or type(body).__name__}"
                self._send_json(400, error_body(message, "invalid_request_error"))
            elif is_chat:
                self._chat_completions(record)
            elif method == "GET" and normalized in ("/models", "/v1/models"):
                self._send_json(200, {"object": "list", "data": [owner.model_object()]})
            elif method == "GET" and normalized.startswith(("/models/", "/v1/models/")):
                model_id = normalized.split("/models/", 1)[1]
                if model_id == owner.model:
                    self._send_json(200, owner.model_object())
                else:
                    message = f"The model '{model_id}' does not exist"
                    self._send_json(
                        404, error_body(message, "invalid_request_error", "model_not_found")
                    )
            else:
                message = f"Unknown path: {method} {path}"
                self._send_json(404, error_body(message, "invalid_request_error", "not_found"))
        except ClientGone:
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
        reply = owner.next_reply(request)
        if reply.delay > 0 and owner.sleep(reply.delay):
            raise ClientGone()  # stopping: drop the connection
        if reply.is_error:
            self._send_json(
                reply.status,
                error_body(reply.error or "scripted failure", error_type(reply.status)),
                reply.headers,
            )
            return
        calls = [normalize_call(c) for c in reply.tool_calls]
        finish = reply.finish_reason or ("tool_calls" if calls else "stop")
        model = request.model or owner.model
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        usage = usage_of(request, reply.text, calls)
        if request.stream:
            self._stream(reply, calls, finish, model, completion_id, created, usage, request)
            return
        headers = dict(reply.headers or {})
        # Like OpenAI: content is null when the model only calls tools.
        content = reply.text if (reply.text or not calls) else None
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if calls:
            message["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments_json()},
                }
                for c in calls
            ]
        self._send_json(
            200,
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
                ],
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
        usage: dict[str, Any],
        request: ModelRequest,
    ) -> None:
        owner = self.server.owner
        stream_options = request.body.get("stream_options")
        include_usage = is_object(stream_options) and bool(stream_options.get("include_usage"))

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            return {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
                ],
            }

        def events() -> Iterator[dict[str, Any]]:
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
                    yield chunk(
                        {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
                    )
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
            if not first and reply.chunk_delay > 0 and owner.sleep(reply.chunk_delay):
                raise ClientGone()
            first = False
            self._write_chunk(
                b"data: " + json.dumps(event, separators=(",", ":")).encode("utf-8") + b"\n\n"
            )
        self._write_chunk(b"data: [DONE]\n\n")
        self._write_raw(b"0\r\n\r\n")

    # -- low-level writing

    def _write_raw(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError) as exc:
            raise ClientGone() from exc

    def _write_chunk(self, data: bytes) -> None:
        self._write_raw(f"{len(data):X}\r\n".encode("ascii") + data + b"\r\n")

    def _send_json(
        self, status: int, payload: Any, headers: Mapping[str, Any] | None = None
    ) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, str(value))
            self.end_headers()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as exc:
            raise ClientGone() from exc
        self._write_raw(data)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("model server: " + format, *args)
