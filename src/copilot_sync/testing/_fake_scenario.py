"""The fake CLI's scenario vocabulary: :class:`Scenario`, :class:`Rule` and the actions a rule
runs (``reply``, ``error``, ``events``, ``exit``...), and the fake's errors. No processes here."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterable
from typing import Any

__all__ = [
    "Action",
    "FakeCLIError",
    "FakeCLITimeout",
    "Rule",
    "Scenario",
    "close_stdout",
    "default",
    "error",
    "events",
    "exit",
    "kill",
    "notify",
    "raw",
    "reply",
    "request",
    "sleep",
    "stall",
]

Action = dict[str, Any]
ANSWER_OPS = frozenset({"default", "reply", "error", "stall"})


class FakeCLIError(Exception):
    """The fake CLI could not do what the test asked (dead instance, rejected command...)."""


class FakeCLITimeout(FakeCLIError, TimeoutError):
    """A wait on the fake CLI ran out of time."""


# --------------------------------------------------------------------------- scenario


def reply(result: Any = None) -> Action:
    """Answer the request with ``result``."""
    return {"op": "reply", "result": result}


def error(code: int, message: str, data: Any = None) -> Action:
    """Answer the request with a JSON-RPC error."""
    act: Action = {"op": "error", "code": code, "message": message}
    if data is not None:
        act["data"] = data
    return act


def default() -> Action:
    """Answer the request the built-in way (and run its follow-up work, such as a turn)."""
    return {"op": "default"}


def events(
    items: Iterable[dict[str, Any] | tuple[str, Any]], *, session_id: str | None = None
) -> Action:
    """Emit events for the request's ``sessionId`` (or ``session_id``).

    Each item is ``(type, data)`` or a dict with ``type``, ``data`` and optionally ``ephemeral``,
    ``agentId``, ``id``, ``parentId``; ``id``, ``timestamp`` and ``parentId`` are filled in.
    """
    specs = [
        {"type": i[0], "data": i[1] if len(i) > 1 else None} if isinstance(i, tuple) else dict(i)
        for i in items
    ]
    act: Action = {"op": "events", "events": specs}
    if session_id is not None:
        act["sessionId"] = session_id
    return act


def notify(method: str, params: Any = None) -> Action:
    """Send a notification on the same connection."""
    return {"op": "notify", "method": method, "params": params}


def request(method: str, params: Any = None, *, timeout: float = 30.0) -> Action:
    """Send a server-to-client request and wait (up to ``timeout``) for the SDK's response."""
    return {"op": "request", "method": method, "params": params, "timeout": timeout}


def sleep(seconds: float) -> Action:
    """Wait ``seconds`` before the rule's next action (its actions then run on a thread of
    their own, so the fake goes on answering other messages)."""
    return {"op": "sleep", "seconds": seconds}


def exit(code: int = 0) -> Action:  # the scenario vocabulary shadows the builtin on purpose
    """End the fake process at once with ``code``."""
    return {"op": "exit", "code": code}


def kill() -> Action:
    """SIGKILL the fake process (the parent sees -9)."""
    return {"op": "kill"}


def raw(data: bytes) -> Action:
    """Write raw bytes to the connection (garbage, a bad header, half a frame...)."""
    return {"op": "raw", "b64": base64.b64encode(bytes(data)).decode("ascii")}


def stall() -> Action:
    """Never answer this request."""
    return {"op": "stall"}


def close_stdout() -> Action:
    """Close the fake's output (stdout, or the socket's write side); it keeps reading."""
    return {"op": "close_stdout"}


@dataclasses.dataclass
class Rule:
    """Scripted behaviour for matching messages (see the module docstring)."""

    method: str
    match: dict[str, Any] | None = None
    times: int | None = None
    actions: list[Action] = dataclasses.field(default_factory=list[Action])
    instance: int | None = None  # only in the n-th spawned process (0-based)

    def to_dict(self) -> dict[str, Any]:
        """The rule as the JSON object the fake CLI process reads."""
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Scenario:
    """Everything about the fake's behaviour that is known before it starts (JSON-serialisable).

    ``reply_text``/``replies`` may contain ``{prompt}``; the default reply is ``"echo: <prompt>"``.
    ``think_time`` is slept (abortably) between ``assistant.turn_start`` and the reply of every
    turn. ``turn_error(s)`` make turns emit ``session.error{errorType:"query"}`` instead of a reply.
    ``protocol_version=None`` omits it everywhere. ``models``/``auth_status`` replace those results.
    """

    rules: list[Rule] = dataclasses.field(default_factory=list[Rule])
    reply_text: str | None = None
    replies: dict[str, str] = dataclasses.field(default_factory=dict[str, str])
    streaming_chunks: int = 3
    protocol_version: int | None = 3
    connect_unhandled: bool = False
    ping_without_version: bool = False
    version: str = "1.0.81-fake"
    think_time: float = 0.0
    turn_error: str | None = None
    turn_errors: dict[str, str] = dataclasses.field(default_factory=dict[str, str])
    models: list[dict[str, Any]] | None = None
    auth_status: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The scenario as the JSON object the fake CLI process reads."""
        data = dataclasses.asdict(self)
        data["rules"] = [r.to_dict() if isinstance(r, Rule) else dict(r) for r in self.rules]
        return data
