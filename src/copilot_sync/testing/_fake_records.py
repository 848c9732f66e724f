"""The fake CLI's data: default scenario and models, the request kinds it answers, timestamps,
JSON, ``RpcError``/``Reply`` and the per-session record ``Session``."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from ._fake_conn import Conn

logger = logging.getLogger("copilot_sync.testing")

AUTO: Any = object()  # "fill in the parentId yourself"
CHUNK = 256 * 1024
REPORTED_ENV = (
    "COPILOT_SDK_AUTH_TOKEN",
    "COPILOT_CONNECTION_TOKEN",
    "XDG_CACHE_HOME",
    "COPILOT_HOME",
)

DEFAULT_SCENARIO: dict[str, Any] = {
    "rules": [],
    "reply_text": None,
    "replies": {},
    "streaming_chunks": 3,
    "protocol_version": 3,
    "connect_unhandled": False,
    "ping_without_version": False,
    "version": "1.0.81-fake",
    "think_time": 0.0,
    "turn_error": None,
    "turn_errors": {},
    "models": None,
    "auth_status": None,
}

DEFAULT_MODELS: list[dict[str, Any]] = [
    {
        "id": "gpt-4o",
        "name": "GPT-4o",
        "capabilities": {
            "supports": {"vision": True, "reasoningEffort": False},
            "limits": {
                "max_prompt_tokens": 64000,
                "max_output_tokens": 4096,
                "max_context_window_tokens": 128000,
            },
        },
        "policy": {
            "state": "enabled",
            "terms": "Enable access to the latest GPT-4o model from OpenAI.",
        },
        "billing": {"multiplier": 0},
    },
    {
        "id": "claude-sonnet-4.5",
        "name": "Claude Sonnet 4.5",
        "capabilities": {
            "supports": {"vision": True, "reasoningEffort": True},
            "limits": {
                "max_prompt_tokens": 128000,
                "max_output_tokens": 16000,
                "max_context_window_tokens": 200000,
            },
        },
        "policy": {"state": "enabled", "terms": "Enable access to Claude Sonnet 4.5."},
        "billing": {"multiplier": 1},
        "supportedReasoningEfforts": ["low", "medium", "high"],
        "defaultReasoningEffort": "medium",
    },
]

# answer method -> (request event type, completion event type, completion is ephemeral)
ANSWERS: dict[str, tuple[str, str, bool]] = {
    "session.tools.handlePendingToolCall": (
        "external_tool.requested",
        "external_tool.completed",
        False,
    ),
    "session.permissions.handlePendingPermissionRequest": (
        "permission.requested",
        "permission.completed",
        False,
    ),
    "session.commands.handlePendingCommand": ("command.execute", "command.completed", True),
    "session.ui.handlePendingElicitation": ("elicitation.requested", "elicitation.completed", True),
    "session.ui.handlePendingUserInput": ("user_input.requested", "user_input.completed", True),
    "session.ui.handlePendingExitPlanMode": (
        "exit_plan_mode.requested",
        "exit_plan_mode.completed",
        True,
    ),
    "session.ui.handlePendingAutoModeSwitch": (
        "auto_mode_switch.requested",
        "auto_mode_switch.completed",
        True,
    ),
    "session.mcp.oauth.handlePendingRequest": ("mcp.oauth_required", "mcp.oauth_completed", True),
}
ASK_TYPES = frozenset(v[0] for v in ANSWERS.values())


def iso_ms(t: float | None = None) -> str:
    """ISO-8601 UTC with millisecond digits, like event timestamps."""
    t = time.time() if t is None else t
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(t))}.{int(t * 1000) % 1000:03d}Z"


def iso_ns() -> str:
    """ISO-8601 UTC with nanosecond digits, like ``ping``'s timestamp."""
    seconds, frac = divmod(time.time_ns(), 10**9)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds))}.{frac:09d}Z"


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def subset(expected: Any, actual: Any) -> bool:
    """True when ``expected`` is a recursive subset of ``actual`` (dicts); equality otherwise."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and subset(v, actual[k])
            for k, v in cast("dict[Any, Any]", expected).items()
        )
    return bool(expected == actual)


def hard_exit(code: int) -> None:
    """End the process now (threads and all), flushing stderr first."""
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    os._exit(code)


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data

    def to_wire(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            err["data"] = self.data
        return err


class Reply:
    """What a default handler wants sent: a result or an error, plus work to do afterwards."""

    __slots__ = ("after", "defer", "error", "result")

    def __init__(
        self,
        result: Any = None,
        *,
        error: RpcError | None = None,
        after: Callable[[], Any] | None = None,
        defer: Callable[[Any], Any] | None = None,
    ) -> None:
        # ``defer``: answer later; called with the request id instead of sending a response now
        self.result, self.error, self.after, self.defer = result, error, after, defer


# --------------------------------------------------------------------------- sessions


class Session:
    def __init__(self, sid: str) -> None:
        self.id = sid
        self.known = False  # created by session.create (else: only events emitted by a test)
        self.active = False  # created or resumed, and not destroyed since
        self.emit_lock = threading.RLock()
        self.last_event_id: str | None = None
        self.history: list[dict[str, Any]] = []
        self.conns: list[Conn] = []
        self.start_time = iso_ms()
        self.modified_time = self.start_time
        self.mod_seq = 0
        self.cwd = os.getcwd()
        self.model: str | None = None
        self.reasoning_effort: str | None = None
        self.streaming = False
        self.elicitation = False
        self.summary: str | None = None
        self.asks: dict[str, str] = {}  # requestId -> request event type, until answered
        self.queue: deque[dict[str, Any]] = deque()
        self.running = False
        self.abort = threading.Event()

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "sessionId": self.id,
            "startTime": self.start_time,
            "modifiedTime": self.modified_time,
            "isRemote": False,
            "isDetached": False,
        }
        if self.summary is not None:
            meta["summary"] = self.summary
        meta["context"] = {"cwd": self.cwd}
        return meta
