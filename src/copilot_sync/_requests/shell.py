"""Output and exit of shell commands, for ``session.on_shell_output`` / ``on_shell_exit``.

Two sources feed the same handlers, depending on the CLI version (docs/CLI_VERSIONS.md,
"Shell command output"):

* **Notifications** (CLI 1.0.81 to 1.0.89), for commands started with
  ``session.rpc.shell.exec(...)``: ``shell.output`` (``{processId, stream, data}``) and
  one ``shell.exit`` (``{processId, exitCode}``). Neither carries a ``sessionId``, so the
  client's :class:`ShellRouter` learns which session owns a process id from the
  ``shell.exec`` answer. A fast command's output can arrive before that answer has reached
  the caller: such notifications wait in a small buffer until the process id is claimed
  (or are dropped after :data:`_UNCLAIMED_TTL` seconds, e.g. for another client's command).
  From CLI 1.0.92 on these notifications are gone and nothing reports an ``exec``'d
  command's output; the session logs one warning (:meth:`SessionShell.note_exec`).
* **Session events** (CLI 1.0.92 and later), for
  ``session.rpc.shell.execute_user_requested(...)`` and the agent's own shell tool: each
  ephemeral ``tool.shell_output`` (``{toolCallId, text, sequence, stream?}``) becomes a
  :class:`ShellOutput`, and a ``tool.execution_complete`` whose data has ``shellExecution``
  (``{exitCode}``) becomes a :class:`ShellExit`; both with ``tool_call_id`` set (and
  ``process_id`` equal to it). They are read from the event's wire dict, so they work
  whether or not the generated event classes know the type. A repeated chunk (same
  ``toolCallId`` and ``sequence``) or a repeated exit is delivered once; a malformed
  payload is logged and skipped. CLI 1.0.81 sends neither, so this path is simply idle there.

Handlers run on one thread per session (``copilot-shell-<id>``, started on first use), in
the order the CLI sent the notifications or events, never on the reader thread or the
session's event thread. A handler that raises is logged; the next handler and the next
chunk still run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._fields import is_object
from .._versions import parse_cli_version
from .._wire.dispatch import EventDispatcher, Subscribers

__all__ = [
    "EXEC_OUTPUT_SILENT_FROM",
    "SHELL_EVENT_TYPES",
    "SessionShell",
    "ShellExit",
    "ShellOutput",
    "ShellRouter",
    "exec_output_reported",
]

logger = logging.getLogger("copilot_sync.session")

_UNCLAIMED_TTL = 30.0  # seconds an unclaimed process id's notifications are kept
_UNCLAIMED_MAX_PROCESSES = 64
_UNCLAIMED_MAX_MESSAGES = 10_000  # per process id
_SEEN_MAX = 8192  # event-sourced chunks and exits remembered per session, to deliver each once

#: The session event types the shell handlers are fed from (see the module docstring).
SHELL_EVENT_TYPES = frozenset({"tool.shell_output", "tool.execution_complete"})

#: The first CLI version that no longer reports the output of ``session.shell.exec``.
EXEC_OUTPUT_SILENT_FROM = (1, 0, 92)


@dataclass(frozen=True)
class ShellOutput:
    """A chunk of a shell command's output.

    From a ``shell.output`` notification (a command started with
    ``session.rpc.shell.exec``, CLI 1.0.81 to 1.0.89), or from a ``tool.shell_output``
    session event (``session.rpc.shell.execute_user_requested`` or the agent's shell tool,
    CLI 1.0.92 and later); ``tool_call_id`` tells which.
    """

    #: The ``processId`` of an ``exec``'d command; for event-sourced output, the tool call id.
    process_id: str
    #: ``"stdout"``, ``"stderr"``, or ``"terminal"`` (output the CLI cannot attribute to
    #: one stream); ``"stdout"`` when the CLI did not say.
    stream: str
    #: The text of the chunk (not necessarily whole lines).
    data: str
    #: The ``toolCallId`` the chunk belongs to if it came from a ``tool.shell_output`` event;
    #: ``None`` for ``shell.output`` notifications.
    tool_call_id: str | None = None
    #: The chunk's 0-based position among the tool call's chunks, across streams, if the CLI
    #: gave one (event-sourced output only).
    sequence: int | None = None


@dataclass(frozen=True)
class ShellExit:
    """A shell command ended (after its last :class:`ShellOutput`).

    From a ``shell.exit`` notification (``session.rpc.shell.exec``, CLI 1.0.81 to 1.0.89),
    or from a ``tool.execution_complete`` session event that carries ``shellExecution``
    (CLI 1.0.92 and later); ``tool_call_id`` tells which.
    """

    #: The ``processId`` of an ``exec``'d command; for an event-sourced exit, the tool call id.
    process_id: str
    #: The command's exit code, or ``None`` if the CLI did not say.
    exit_code: int | None
    #: The ``toolCallId`` of the completed tool call if the exit came from a
    #: ``tool.execution_complete`` event; ``None`` for ``shell.exit`` notifications.
    tool_call_id: str | None = None


ShellOutputHandler = Callable[[ShellOutput], Any]
ShellExitHandler = Callable[[ShellExit], Any]


def exec_output_reported(version: Any) -> bool:
    """Does a CLI of ``version`` report the output of ``session.shell.exec`` commands?
    True for versions before :data:`EXEC_OUTPUT_SILENT_FROM`, and for unknown ones."""
    parsed = parse_cli_version(version)
    return parsed is None or parsed < EXEC_OUTPUT_SILENT_FROM


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse(method: str, params: Any) -> ShellOutput | ShellExit | None:
    if not is_object(params) or not isinstance(params.get("processId"), str):
        return None
    process_id = params["processId"]
    if method == "shell.output":
        data = params.get("data")
        stream = params.get("stream")
        return ShellOutput(
            process_id,
            stream if isinstance(stream, str) else "stdout",
            data if isinstance(data, str) else "",
        )
    code = params.get("exitCode")
    return ShellExit(process_id, code if _is_int(code) else None)


def _from_event(session_id: str, event_type: str, data: Any) -> ShellOutput | ShellExit | None:
    """The item a shell event's ``data`` (wire dict) stands for; ``None`` (logged if malformed)
    when there is none. Never raises."""
    if event_type == "tool.execution_complete":
        if not is_object(data) or "shellExecution" not in data:
            return None  # not a shell tool call, or a CLI before 1.0.92
        execution = data.get("shellExecution")
        tool_call_id = data.get("toolCallId")
        if not is_object(execution) or not isinstance(tool_call_id, str) or not tool_call_id:
            logger.debug("session %s: skipped a malformed shellExecution: %.160r", session_id, data)
            return None
        code = execution.get("exitCode")
        return ShellExit(tool_call_id, code if _is_int(code) else None, tool_call_id)
    if not is_object(data):
        logger.warning(
            "session %s: skipped a tool.shell_output event without data: %.160r", session_id, data
        )
        return None
    tool_call_id = data.get("toolCallId")
    text = data.get("text")
    stream = data.get("stream", "stdout")
    if stream is None:
        stream = "stdout"
    if (
        not isinstance(tool_call_id, str)
        or not tool_call_id
        or not isinstance(text, str)
        or not isinstance(stream, str)
    ):
        logger.warning(
            "session %s: skipped a malformed tool.shell_output event: %.160r", session_id, data
        )
        return None
    sequence = data.get("sequence")
    return ShellOutput(
        tool_call_id, stream, text, tool_call_id, sequence if _is_int(sequence) else None
    )


class SessionShell:
    """One session's shell handlers and the thread that runs them."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.output_handlers: Subscribers = Subscribers()
        self.exit_handlers: Subscribers = Subscribers()
        self._lock = threading.Lock()
        self._dispatcher: EventDispatcher | None = None
        self._closed = False
        self._seen: OrderedDict[tuple[str, Any], None] = (
            OrderedDict()
        )  # event-sourced items delivered
        self._silent_exec: str | None = (
            None  # the CLI version, once an exec ran on a CLI that hides its output
        )
        self._exec_warned = False

    def __repr__(self) -> str:
        return f"<SessionShell {self.session_id[:8]} output={len(self.output_handlers)} exit={len(self.exit_handlers)}>"

    def put(self, item: ShellOutput | ShellExit) -> None:
        """Reader thread, event thread (or a claiming caller): queue ``item`` for the handlers."""
        dispatcher = self._dispatcher
        if dispatcher is None:
            with self._lock:
                if self._closed:
                    return
                if self._dispatcher is None:
                    self._dispatcher = EventDispatcher(
                        f"copilot-shell-{self.session_id[:8]}", self._deliver
                    )
                dispatcher = self._dispatcher
        dispatcher.put(item)

    def on_event(self, event_type: str, data: Any) -> None:
        """The session's event thread: a ``tool.shell_output`` or ``tool.execution_complete``
        event's ``data`` (wire dict). Queues the chunk or exit it carries, once, if anyone
        listens. Never raises."""
        try:
            item = _from_event(self.session_id, event_type, data)
        except Exception:  # a bug here must not cost the session's other handlers their event
            logger.exception("session %s: could not read a %s event", self.session_id, event_type)
            return
        if item is None:
            return
        key: tuple[str, Any]
        if isinstance(item, ShellExit):
            key, listeners = (item.process_id, "exit"), self.exit_handlers
        else:
            key, listeners = (item.process_id, item.sequence), self.output_handlers
        if item.tool_call_id is not None and key[1] is not None:
            with self._lock:
                if key in self._seen:
                    logger.debug(
                        "session %s: %s for %s seen again; delivered once",
                        self.session_id,
                        event_type,
                        key,
                    )
                    return
                self._seen[key] = None
                if len(self._seen) > _SEEN_MAX:
                    self._seen.popitem(last=False)
        if len(listeners):
            self.put(item)

    def note_exec(self, version: Any) -> None:
        """Caller thread, after ``shell.exec`` answered on a CLI of ``version``: if that CLI
        does not report an ``exec``'d command's output, warn (once) whoever listens."""
        if exec_output_reported(version):
            return
        with self._lock:
            self._silent_exec = str(version)
        self.warn_if_unobservable()

    def warn_if_unobservable(self) -> None:
        """After an ``exec`` on a CLI that hides its output, or a handler was added: log one
        warning per session if there are shell handlers that will never hear of it."""
        with self._lock:
            version = self._silent_exec
            if (
                version is None
                or self._exec_warned
                or not (len(self.output_handlers) or len(self.exit_handlers))
            ):
                return
            self._exec_warned = True
        logger.warning(
            "session %s: CLI %s does not report the output or exit code of commands started with "
            "session.rpc.shell.exec(...) (no CLI from 1.0.92 on does), so on_shell_output/on_shell_exit "
            "will not see them; use session.rpc.shell.execute_user_requested(request_id=..., command=...) "
            "(the command and its output enter the conversation history) or the agent's shell tool instead",
            self.session_id,
            version,
        )

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
        self._unclaimed: OrderedDict[str, tuple[float, list[ShellOutput | ShellExit]]] = (
            OrderedDict()
        )

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
