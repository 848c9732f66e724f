"""Output of shell commands started with ``session.rpc.shell.exec(...)``.

The CLI streams a command's output as ``shell.output`` notifications
(``{processId, stream, data}``) and ends with one ``shell.exit`` (``{processId,
exitCode}``). Neither carries a ``sessionId`` (observed on 1.0.81), so the client's
:class:`ShellRouter` learns which session owns a process id from the ``shell.exec``
answer. A fast command's output can arrive before that answer has reached the caller:
such notifications wait in a small buffer until the process id is claimed (or are
dropped after :data:`_UNCLAIMED_TTL` seconds, e.g. for another client's command).

Handlers run on one thread per session (``copilot-shell-<id>``, started on first use), in
the order the CLI sent the notifications, never on the reader thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from .._wire.dispatch import EventDispatcher, Subscribers

__all__ = ["SessionShell", "ShellExit", "ShellOutput", "ShellRouter"]

logger = logging.getLogger("copilot_sync.session")

_UNCLAIMED_TTL = 30.0  # seconds an unclaimed process id's notifications are kept
_UNCLAIMED_MAX_PROCESSES = 64
_UNCLAIMED_MAX_MESSAGES = 10_000  # per process id


@dataclass(frozen=True)
class ShellOutput:
    """A chunk of a command's output. ``stream`` is ``"stdout"`` or ``"stderr"``."""

    process_id: str
    stream: str
    data: str


@dataclass(frozen=True)
class ShellExit:
    """A command ended. ``exit_code`` is ``None`` if the CLI did not say."""

    process_id: str
    exit_code: int | None


ShellOutputHandler = Callable[[ShellOutput], Any]
ShellExitHandler = Callable[[ShellExit], Any]


def _parse(method: str, params: Any) -> ShellOutput | ShellExit | None:
    if not isinstance(params, dict) or not isinstance(params.get("processId"), str):
        return None
    process_id = params["processId"]
    if method == "shell.output":
        data = params.get("data")
        stream = params.get("stream")
        return ShellOutput(process_id, stream if isinstance(stream, str) else "stdout", data if isinstance(data, str) else "")
    code = params.get("exitCode")
    return ShellExit(process_id, code if isinstance(code, int) and not isinstance(code, bool) else None)


class SessionShell:
    """One session's shell handlers and the thread that runs them."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.output_handlers = Subscribers()
        self.exit_handlers = Subscribers()
        self._lock = threading.Lock()
        self._dispatcher: EventDispatcher | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"<SessionShell {self.session_id[:8]} output={len(self.output_handlers)} exit={len(self.exit_handlers)}>"

    def put(self, item: ShellOutput | ShellExit) -> None:
        """Reader thread (or a claiming caller): queue ``item`` for the handlers."""
        dispatcher = self._dispatcher
        if dispatcher is None:
            with self._lock:
                if self._closed:
                    return
                if self._dispatcher is None:
                    self._dispatcher = EventDispatcher(f"copilot-shell-{self.session_id[:8]}", self._deliver)
                dispatcher = self._dispatcher
        dispatcher.put(item)

    def _deliver(self, item: ShellOutput | ShellExit) -> None:
        handlers = self.output_handlers if isinstance(item, ShellOutput) else self.exit_handlers
        for handler in handlers.snapshot():
            try:
                handler(item)
            except BaseException:  # even SystemExit: the next handler and the next chunk still run
                logger.exception("session %s: shell handler %r raised", self.session_id, handler)

    def close(self, *, wait: float | None) -> None:
        with self._lock:
            self._closed = True
            dispatcher = self._dispatcher
        if dispatcher is not None:
            dispatcher.stop(wait=wait)


class ShellRouter:
    """Routes ``shell.output``/``shell.exit`` to the session that started the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owners: dict[str, SessionShell] = {}
        self._unclaimed: OrderedDict[str, tuple[float, list[ShellOutput | ShellExit]]] = OrderedDict()

    def route(self, method: str, params: Any) -> None:
        """Reader thread: deliver one notification, or keep it until its process id is claimed."""
        item = _parse(method, params)
        if item is None:
            logger.warning("skipped a %s notification without a processId: %.120r", method, params)
            return
        with self._lock:
            owner = self._owners.get(item.process_id)
            if owner is not None:
                owner.put(item)
                if isinstance(item, ShellExit):
                    del self._owners[item.process_id]
                return
            self._keep_unclaimed(item)

    def _keep_unclaimed(self, item: ShellOutput | ShellExit) -> None:
        now = time.monotonic()
        while self._unclaimed:
            process_id, (since, _items) = next(iter(self._unclaimed.items()))
            if now - since < _UNCLAIMED_TTL and len(self._unclaimed) < _UNCLAIMED_MAX_PROCESSES:
                break
            del self._unclaimed[process_id]
            logger.debug("dropped shell output of process %s: no session claimed it", process_id)
        entry = self._unclaimed.get(item.process_id)
        if entry is None:
            entry = self._unclaimed[item.process_id] = (now, [])
        if len(entry[1]) < _UNCLAIMED_MAX_MESSAGES:
            entry[1].append(item)

    def claim(self, process_id: Any, shell: SessionShell) -> None:
        """Caller thread, after ``shell.exec`` answered: route ``process_id`` to ``shell``
        from now on, first delivering whatever arrived before the answer (in order)."""
        if not isinstance(process_id, str):
            return
        with self._lock:
            _since, early = self._unclaimed.pop(process_id, (0.0, []))
            ended = False
            for item in early:
                shell.put(item)
                ended = ended or isinstance(item, ShellExit)
            if not ended:
                self._owners[process_id] = shell

    def forget(self, shell: SessionShell) -> None:
        """A session closed: stop routing its processes."""
        with self._lock:
            for process_id in [pid for pid, owner in self._owners.items() if owner is shell]:
                del self._owners[process_id]
