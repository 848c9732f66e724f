"""One attempt at one item: the picklable unit of work shipped to an executor."""

from __future__ import annotations

import dataclasses
import enum
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, cast

from .._errors import (
    AuthenticationError,
    ClientStateError,
    ConnectionLostError,
    CopilotTimeoutError,
    NoReplyError,
    SessionClosedError,
    SessionError,
    StructuredOutputError,
)
from .._events import SessionEvent
from ._clients import ClientPool, worker_pool
from ._refs import resolve_refs

__all__ = [
    "RECORD_KEYS",
    "SEND_OPTIONS",
    "Task",
    "is_retryable",
    "run_attempt",
    "run_task",
    "to_jsonable",
]

#: Options given to ``send_and_wait`` rather than ``create_session``.
SEND_OPTIONS = frozenset(
    {"timeout", "idle_timeout", "response_format", "attachments", "mode", "agent_mode"}
)


#: The fields of a result record, in file order (docs/BATCH.md).
RECORD_KEYS = (
    "id", "status", "text", "tool_calls", "usage", "duration", "cli_version",
    "error_type", "error", "attempts",
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Task:
    """Everything one attempt needs, as plain (picklable) data."""

    item_id: str
    prompt: str
    attempt: int
    send_options: dict[str, Any]
    session_options: dict[str, Any]
    client_options: dict[str, Any]
    sessions_per_cli: int
    #: Unique per submission: Dask keys tasks by their arguments, and a task cancelled in an
    #: earlier run must not hand its cancellation to this one.
    nonce: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)


def is_retryable(exc: BaseException, attempt: int) -> bool:
    """Whether a failure is worth another attempt: a CLI that died, a timeout, a transient
    ``session.error``; a bad structured reply only on the first attempt; never a bad
    option, missing credentials, a turn that ended without a reply, or anything else."""
    if isinstance(exc, (AuthenticationError, NoReplyError)):
        return False
    if isinstance(exc, StructuredOutputError):
        return attempt == 1
    return isinstance(
        exc,
        (
            ConnectionLostError,
            CopilotTimeoutError,
            SessionError,
            SessionClosedError,
            ClientStateError,
        ),
    )


def to_jsonable(value: Any) -> Any:
    """A structured-output value as JSON data (dataclasses, pydantic models, enums...)."""
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if isinstance(value, Mapping):
        mapping: Mapping[Any, Any] = value  # pyright: ignore[reportUnknownVariableType]
        return {str(k): to_jsonable(v) for k, v in mapping.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in cast(Iterable[Any], value)]
    return value


def reply_text(reply: object) -> str | None:
    """The text of a turn's final ``assistant.message`` event (``None`` without one)."""
    raw: Any = getattr(reply, "raw", None)
    if not isinstance(raw, dict):
        return None
    data: Any = cast(dict[str, Any], raw).get("data")
    if not isinstance(data, dict):
        return None
    content: Any = cast(dict[str, Any], data).get("content")
    return content if isinstance(content, str) else None


def run_task(task: Task) -> dict[str, Any]:
    """Run one attempt in this process, on this process's cached clients (executor entry point)."""
    return run_attempt(task, worker_pool(task.client_options, task.sessions_per_cli))


def run_attempt(task: Task, pool: ClientPool) -> dict[str, Any]:
    """Run one attempt; never raises for the item's own failure: the outcome says it.

    The outcome is a record without ``attempts`` plus ``retryable`` (bool).
    """
    started = time.monotonic()
    tool_calls: list[dict[str, Any]] = []
    usage = {"input_tokens": 0, "output_tokens": 0, "cost": 0.0}
    outcome: dict[str, Any] = {"id": task.item_id, "cli_version": None}

    def on_event(event: SessionEvent) -> None:
        raw: Any = event.raw.get("data")
        if not isinstance(raw, dict):
            return
        data = cast(dict[str, Any], raw)
        if event.type == "tool.execution_start":
            tool_calls.append({"name": data.get("toolName"), "arguments": data.get("arguments")})
        elif event.type == "assistant.usage":
            for key, wire in (("input_tokens", "inputTokens"), ("output_tokens", "outputTokens")):
                if isinstance(data.get(wire), (int, float)):
                    usage[key] += data[wire]
            if isinstance(data.get("cost"), (int, float)):
                usage["cost"] += data["cost"]

    broken = False
    client = None
    try:
        client = pool.acquire()
        outcome["cli_version"] = client.server_version
        session = client.create_session(**resolve_refs(task.session_options))
        try:
            session.on(on_event)
            send = resolve_refs(dict(task.send_options))
            send.setdefault("timeout", 300.0)
            reply = session.send_and_wait(task.prompt, **send)
            if send.get("response_format") is not None:
                text = to_jsonable(reply)
            else:
                text = reply_text(reply)
            outcome.update(status="ok", text=text, error_type=None, error=None, retryable=False)
        except CopilotTimeoutError:
            try:
                session.abort()
            except Exception:  # the turn is abandoned either way
                pass
            raise
        finally:
            try:
                session.disconnect(timeout=5)
            except Exception:
                pass
    except Exception as exc:
        broken = isinstance(exc, (ConnectionLostError, ClientStateError))
        outcome.update(
            status="error",
            text=None,
            error_type=type(exc).__name__,
            error=str(exc),
            retryable=is_retryable(exc, task.attempt),
        )
    finally:
        if client is not None:
            pool.release(client, broken=broken)
    outcome.update(tool_calls=tool_calls, usage=usage, duration=time.monotonic() - started)
    return outcome
