"""``--allow-all-tools`` or asking at the terminal: the command line's permission handler."""

from __future__ import annotations

import argparse
import os
import select
import sys
import threading
from collections.abc import Mapping
from typing import Any, TextIO

from .._requests.permissions import PermissionHandler, PermissionRequest, PermissionRequestResult
from .printing import one_line
from .status import stderr_lock

__all__ = ["PermissionPolicy", "describe_request"]


# ---------------------------------------------------------------------------
# permissions
# ---------------------------------------------------------------------------


def describe_request(request: Any) -> str:
    """What a permission request asks for, in a few words."""

    def field(name: str) -> Any:
        try:
            return getattr(request, name)
        except AttributeError:
            return None

    kind = field("kind") or "unknown"
    if kind == "shell":
        what = f"run `{one_line(str(field('full_command_text') or ''), 200)}`"
    elif kind == "write":
        what = f"write {field('file_name') or field('path') or 'a file'}"
    elif kind == "read":
        what = f"read {field('path') or field('file_name') or 'a file'}"
    elif kind == "url":
        what = f"fetch {field('url') or 'a URL'}"
    elif kind == "mcp":
        what = f"call MCP tool {field('server_name') or '?'}/{field('tool_name') or '?'}"
    elif kind == "custom-tool":
        what = f"call tool {field('tool_name') or '?'}"
    elif kind == "memory":
        what = f"remember {one_line(str(field('fact') or field('subject') or 'something'), 120)}"
    else:
        what = f"{kind} ({field('tool_name') or field('intention') or 'no details'})"
    return what


_DENY_FEEDBACK = (
    "Denied: no one is at a terminal to approve it, and --allow-all-tools was not given."
)


class PermissionPolicy:
    """The ``on_permission_request`` handler of ``run`` and ``chat``.

    ``mode`` is ``"allow"`` (``--allow-all-tools``), ``"ask"`` (stdin is a terminal: ask
    y/n/a on stderr) or ``"deny"`` (say so on stderr). Runs on a worker thread; a question
    still open when the turn is interrupted is answered "no" at once (:attr:`cancel`).
    """

    def __init__(self, mode: str, *, stdin_fd: int = 0, err: TextIO | None = None) -> None:
        if mode not in ("allow", "ask", "deny"):
            raise ValueError(f"unknown permission mode {mode!r}")
        self.mode = mode
        self.stdin_fd = stdin_fd
        self.err = err if err is not None else sys.stderr
        self.cancel = threading.Event()
        self._ask_lock = threading.Lock()  # one question at a time
        #: Tool calls refused here: their "failed" line would only repeat the refusal.
        self.refused: set[str] = set()

    @classmethod
    def from_args(cls, args: argparse.Namespace, stdin: TextIO | None = None) -> PermissionPolicy:
        if args.allow_all_tools:
            return cls("allow")
        stdin = sys.stdin if stdin is None else stdin
        try:
            interactive = stdin is not None and stdin.isatty()
        except (ValueError, OSError):
            interactive = False
        return cls("ask" if interactive else "deny")

    def _say(self, text: str, *, end: str = "\n") -> None:
        with stderr_lock:
            self.err.write(text + end)
            self.err.flush()

    def __call__(self, request: PermissionRequest, invocation: Mapping[str, Any]) -> Any:
        if self.mode == "allow":
            return PermissionHandler.approve_all(request, invocation)
        what = describe_request(request)
        if self.mode == "deny":
            decision = PermissionRequestResult(kind="reject", feedback=_DENY_FEEDBACK)
            self._say(
                f"✗ permission denied: {what} (stdin is not a terminal; pass --allow-all-tools to allow)"
            )
        else:
            with self._ask_lock:
                decision = self._ask(what)
        if decision.kind == "reject":
            tool_call_id = getattr(request, "tool_call_id", None)
            if isinstance(tool_call_id, str):
                self.refused.add(tool_call_id)
        return decision

    def _ask(self, what: str) -> PermissionRequestResult:
        if self.cancel.is_set():
            return PermissionRequestResult(kind="reject")
        self._say(f"? allow: {what}  [y]es / [n]o / [a]lways this session: ", end="")
        answer = self._read_answer()
        if answer is None:
            self._say("" if self.cancel.is_set() else "\n✗ permission denied (no answer)")
            return PermissionRequestResult(kind="reject")
        answer = answer.strip().lower()
        if answer in ("y", "yes"):
            return PermissionRequestResult(kind="approve-once")
        if answer in ("a", "always"):
            return PermissionRequestResult(kind="approve-for-session")
        self._say("✗ permission denied")
        return PermissionRequestResult(kind="reject")

    def settle(self, timeout: float = 1.0) -> None:
        """After :meth:`cancel`: wait until an open question has given up (it polls every 0.1 s)."""
        if self._ask_lock.acquire(timeout=timeout):
            self._ask_lock.release()

    def _read_answer(self) -> str | None:
        """One line from the terminal; ``None`` on end of file or when the turn is cancelled."""
        while not self.cancel.is_set():
            try:
                ready, _, _ = select.select([self.stdin_fd], [], [], 0.1)
            except (OSError, ValueError):
                return None
            if ready and not self.cancel.is_set():  # typed after the turn ended: not an answer
                try:
                    data = os.read(self.stdin_fd, 4096)
                except OSError:
                    return None
                return data.decode(errors="replace") if data else None
        return None
