"""Running one turn with Ctrl-C and ``--timeout`` handled: abort, settle, exit status."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._errors import (
    ClientStateError,
    ConnectionLostError,
    CopilotError,
    CopilotTimeoutError,
    SessionClosedError,
)
from .permission_prompt import PermissionPolicy
from .printing import TurnPrinter
from .status import ABORT_SETTLE, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_TIMEOUT

__all__ = [
    "COMPLETED",
    "FAILED",
    "INTERRUPTED",
    "LOST",
    "TIMED_OUT",
    "IdleWatch",
    "TurnResult",
    "run_turn",
]


# ---------------------------------------------------------------------------
# one turn
# ---------------------------------------------------------------------------

COMPLETED, FAILED, TIMED_OUT, INTERRUPTED, LOST = (
    "completed",
    "failed",
    "timed out",
    "interrupted",
    "lost",
)


@dataclass
class TurnResult:
    """How a turn ended: ``completed``, ``failed`` (session.error), ``timed out``,
    ``interrupted`` (Ctrl-C; the turn was aborted) or ``lost`` (the CLI or the session is gone)."""

    status: str
    error: BaseException | None = None

    @property
    def exit_status(self) -> int:
        return {
            COMPLETED: EXIT_OK,
            FAILED: EXIT_FAILED,
            TIMED_OUT: EXIT_TIMEOUT,
            INTERRUPTED: EXIT_INTERRUPTED,
            LOST: EXIT_FAILED,
        }[self.status]


class IdleWatch:
    """Knows when the session last went idle, to let an aborted turn settle."""

    def __init__(self, session: Any) -> None:
        self.event = threading.Event()

        def on_idle(_event: Any) -> None:
            self.event.set()

        session.on("session.idle", on_idle)

    def clear(self) -> None:
        self.event.clear()

    def wait(self, timeout: float) -> bool:
        return self.event.wait(timeout)


def _abort(session: Any) -> None:
    try:
        session.abort(timeout=5.0)
    except CopilotError as exc:
        logging.getLogger("copilot_sync.cli").debug("abort failed: %s", exc)


def run_turn(
    session: Any,
    prompt: str,
    printer: TurnPrinter,
    policy: PermissionPolicy,
    *,
    timeout: float | None,
    idle: IdleWatch | None = None,
    on_event: Callable[[Any], None] | None = None,
) -> TurnResult:
    """Send ``prompt``, print the reply as it streams, and say how the turn ended.

    Ctrl-C aborts the turn and returns ``interrupted`` (a second Ctrl-C while the abort
    settles propagates); a timeout aborts it too. The session stays usable either way.
    """
    printer.start_turn()
    policy.cancel.clear()
    if idle is not None:
        idle.clear()
    stream = None
    try:
        if timeout is not None and timeout <= 0:
            raise CopilotTimeoutError("no time left for the turn")
        stream = session.stream(prompt, timeout=timeout)
        for event in stream:  # Ctrl-C inside the iteration: the stream aborts the turn itself
            if on_event is not None:
                on_event(event)
            printer.handle(event)
    except KeyboardInterrupt:
        policy.cancel.set()
        policy.settle()
        printer.finish_turn()
        if stream is None or not stream.closed:  # interrupted outside the stream's own handling
            if stream is not None:
                stream.close()
            _abort(session)
        if idle is not None:
            idle.wait(ABORT_SETTLE)
        return TurnResult(INTERRUPTED)
    except CopilotTimeoutError as exc:
        policy.cancel.set()
        policy.settle()
        printer.finish_turn()
        if stream is not None:
            stream.close()
        _abort(session)
        if idle is not None:
            idle.wait(ABORT_SETTLE)
        return TurnResult(TIMED_OUT, exc)
    except (ConnectionLostError, SessionClosedError, ClientStateError) as exc:
        printer.finish_turn()
        return TurnResult(LOST, exc)
    except (
        CopilotError
    ) as exc:  # SessionError (session.error), TurnAbortedError (aborted elsewhere), JsonRpcError
        printer.finish_turn()
        return TurnResult(FAILED, exc)
    printer.finish_turn()
    return TurnResult(COMPLETED)
