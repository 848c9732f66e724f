"""The scripted model server's data: :class:`ToolCall`, :class:`Reply`, :class:`ModelRequest`,
and the helpers that turn replies into OpenAI-style answers (chunks, usage, errors)."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from .._fields import is_array, is_mapping, is_object

__all__ = [
    "DATETIME_PREFIX",
    "Headers",
    "ModelRequest",
    "Reply",
    "Responder",
    "ScriptItem",
    "ToolCall",
    "content_text",
    "error_body",
    "error_type",
    "estimate_tokens",
    "format_seconds",
    "normalize_call",
    "split_text",
    "strip_cli_wrappers",
    "to_reply",
    "usage_of",
]

logger = logging.getLogger("copilot_sync.testing")


# --------------------------------------------------------------------------- data types


@dataclass
class ToolCall:
    """One function call the scripted model asks for.

    ``arguments`` is a dict (sent as its JSON text) or an already-encoded JSON string, sent as
    is (which lets a test send malformed arguments on purpose). ``id`` defaults to a fresh
    ``call_<hex>`` id.
    """

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict[str, Any])
    id: str | None = None

    def arguments_json(self) -> str:
        """The call's arguments as the JSON text sent to the CLI."""
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
    tool_calls: list[ToolCall] = field(default_factory=list[ToolCall])
    finish_reason: str | None = None
    chunks: int | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0
    status: int = 200
    error: str | None = None
    headers: dict[str, Any] | None = None

    @property
    def is_error(self) -> bool:
        """``True`` when this reply is an HTTP error rather than a completion."""
        return self.status >= 400


class Headers(dict[str, str]):
    """A ``dict[str, str]`` of request headers whose lookups ignore case (keys are stored lower-case)."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__()
        for key, value in items:
            lowered = key.lower()
            if lowered in self:
                super().__setitem__(lowered, super().__getitem__(lowered) + ", " + value)
            else:
                super().__setitem__(lowered, value)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


# The CLI prefixes every user prompt with "<current_datetime>...</current_datetime>\n\n".
DATETIME_PREFIX = re.compile(r"\A\s*<current_datetime>.*?</current_datetime>\s*", re.DOTALL)


def strip_cli_wrappers(text: str) -> str:
    """``text`` without the ``<current_datetime>...</current_datetime>`` block the CLI puts first."""
    return DATETIME_PREFIX.sub("", text, count=1)


def content_text(content: Any) -> str:
    """The text of an OpenAI message ``content``: a string, or a list of parts (text parts joined)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if is_array(content):
        pieces: list[str] = []
        for part in content:
            if isinstance(part, str):
                pieces.append(part)
            elif is_mapping(part) and isinstance(part.get("text"), str):
                pieces.append(part["text"])
        return "".join(pieces)
    return str(content)


class ModelRequest:
    """One HTTP request the server received (chat completions, or anything else in ``all_requests``).

    ``headers`` looks keys up case-insensitively (they are stored lower-case). ``body`` is the
    parsed JSON body (``{}`` when there is none).
    """

    __slots__ = ("body", "headers", "method", "path", "received_at", "stream")

    def __init__(
        self,
        *,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: dict[str, Any],
        received_at: float | None = None,
    ) -> None:
        self.method: str = method
        self.path: str = path
        self.headers: Headers = (
            headers if isinstance(headers, Headers) else Headers(headers.items())
        )
        self.body: dict[str, Any] = body
        self.stream: bool = bool(body.get("stream")) if is_object(body) else False
        self.received_at: float = time.monotonic() if received_at is None else received_at

    @property
    def model(self) -> str | None:
        """The model name the CLI asked for."""
        model = self.body.get("model")
        return model if isinstance(model, str) else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages of the request (OpenAI format: dicts with ``role`` and ``content``...)."""
        messages = self.body.get("messages")
        return list(messages) if is_array(messages) else []

    @property
    def system_prompt(self) -> str:
        """The text of every ``system`` (and ``developer``) message, joined by blank lines."""
        return "\n\n".join(
            content_text(m.get("content"))
            for m in self.messages
            if is_object(m) and m.get("role") in ("system", "developer")
        )

    @property
    def last_user_message(self) -> str:
        """The text of the last ``user`` message (``""`` if there is none)."""
        for message in reversed(self.messages):
            if is_object(message) and message.get("role") == "user":
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
    def tools(self) -> list[dict[str, Any]]:
        """The tool definitions offered to the model (OpenAI ``{"type":"function","function":{...}}`` items)."""
        tools = self.body.get("tools")
        return list(tools) if is_array(tools) else []

    @property
    def tool_names(self) -> list[str]:
        """The names of the tools offered to the model in this request."""
        names: list[str] = []
        for tool in self.tools:
            function = tool.get("function") if is_object(tool) else None
            if is_object(function) and isinstance(function.get("name"), str):
                names.append(function["name"])
        return names

    @property
    def tool_results(self) -> list[dict[str, Any]]:
        """The ``role="tool"`` messages as ``{"tool_call_id": ..., "content": <text>}``, in order."""
        return [
            {"tool_call_id": m.get("tool_call_id"), "content": content_text(m.get("content"))}
            for m in self.messages
            if is_object(m) and m.get("role") == "tool"
        ]

    def __repr__(self) -> str:
        return (
            f"ModelRequest({self.method} {self.path}, stream={self.stream}, "
            f"messages={len(self.messages)}, tools={len(self.tools)})"
        )


Responder = Callable[[ModelRequest], Reply | str]
ScriptItem = Reply | Callable[[ModelRequest], Reply | str]


# --------------------------------------------------------------------------- helpers


def split_text(text: str, chunks: int | None = None) -> list[str]:
    """Split ``text`` into ``chunks`` nearly equal, non-empty pieces (default up to 4) that join back to it."""
    if not text:
        return []
    count = 4 if chunks is None else int(chunks)
    count = max(1, min(count, len(text)))
    size, extra = divmod(len(text), count)
    pieces: list[str] = []
    start = 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


def _tuple_or_list(value: object) -> Sequence[Any] | None:
    return cast("Sequence[Any]", value) if isinstance(value, (tuple, list)) else None


def normalize_call(call: Any) -> ToolCall:
    items = _tuple_or_list(call)
    if isinstance(call, ToolCall):
        result = ToolCall(call.name, call.arguments, call.id)
    elif items is not None and 2 <= len(items) <= 3:
        result = ToolCall(items[0], items[1], items[2] if len(items) == 3 else None)
    elif is_mapping(call):
        result = ToolCall(call["name"], call.get("arguments", {}), call.get("id"))
    else:
        raise TypeError(
            f"not a tool call: {call!r} (use ToolCall(name, arguments) or (name, arguments))"
        )
    if not result.id:
        result.id = f"call_{uuid.uuid4().hex[:24]}"
    return result


def estimate_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4) if text else 0


def usage_of(request: ModelRequest, text: str, calls: list[ToolCall]) -> dict[str, Any]:
    prompt_chars = 0
    for message in request.messages:
        if is_object(message):
            prompt_chars += len(content_text(message.get("content")))
    prompt = max(1, (prompt_chars + 3) // 4)
    completion = estimate_tokens(text) + sum(
        estimate_tokens(c.name + c.arguments_json()) for c in calls
    )
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def format_seconds(seconds: float) -> str:
    if seconds < 0:
        raise ValueError("retry_after must be >= 0")
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def error_type(status: int) -> str:
    if status == 401:
        return "authentication_error"
    if status == 429:
        return "rate_limit_exceeded"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def error_body(message: str, error_type: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "param": None, "code": code}}


def to_reply(value: Any) -> Reply:
    if isinstance(value, Reply):
        return value
    if isinstance(value, str):
        return Reply(text=value)
    raise TypeError(f"a responder must return a Reply or a str, not {type(value).__name__}")
