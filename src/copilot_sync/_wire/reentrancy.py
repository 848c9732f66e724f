"""Blocking calls made from inside handlers: refuse the ones that can never complete.

A user handler the SDK runs for a session may hold that session up: a tool, permission,
user-input, hook, transform or session-filesystem handler, or the handler of a dialog a
tool call asked for, is awaited by the session's running turn (the CLI waits for its
answer), and an ``on()`` handler or a future's done callback holds the session's event
thread, which every waiter of that session needs. (A command handler does not: the CLI
runs turns while a command waits, so it may block on its own session.) So a blocking call waiting on the *same* session from there can never
return, and neither can a ring of them: a handler of A waiting on B while a handler of B
waits on A.

This module keeps two small tables, both keyed by thread:

* which sessions' handlers the thread is running (set around every user handler the SDK
  runs on the worker pool; a session's event thread belongs to its session for good,
  since it only ever runs that session's handlers and the SDK's own work);
* which session the thread is blocked waiting on (set around ``send_and_wait``,
  ``stream`` iteration, ``send_and_collect``, ``wait_for_idle``, ``TurnFuture.result``).

Before a thread starts a blocking wait on session W, :func:`blocking` follows the
wait-for graph from W: the threads running W's handlers, the sessions those threads are
blocked on, their handler threads, and so on. If that path comes back to the calling
thread, the wait could never end, and :class:`ReentrancyError` is raised at once, before
anything is sent. A wait that can complete (a tool of A waiting on an independent B) is
left alone. Only threads inside a handler can close a cycle or lie on one, so the
common case (a script's main thread) costs one dictionary lookup.

The first table also tells :func:`handlers_running`, for ``idle_timeout``: while a
handler of a session runs, the CLI is waiting for it, and the session is not idle.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Generator
from typing import Any, TypeVar, cast

from .._errors import ReentrancyError

__all__ = [
    "EVENT",
    "ReentrancyError",
    "blocking",
    "check",
    "current_handler",
    "handler_scope",
    "handlers_running",
    "run_as_handler",
]

T = TypeVar("T")


# Sessions are held weakly: a session's event thread stays in _handlers for the session's
# whole life, and must not keep a session (and its client) nobody else holds alive.
_lock = threading.Lock()
_handlers: dict[
    int, list[tuple[weakref.ref[Any], str]]
] = {}  # thread -> (session, kind) of the handlers it runs
_waiting: dict[int, tuple[weakref.ref[Any], str]] = {}  # thread -> (session, call) it is blocked on

#: The handler kind of a session's event thread (``on()`` handlers, futures' done callbacks).
EVENT = "event"


def _a(kind: str) -> str:
    return f"{'an' if kind[:1] in 'aeio' else 'a'} {kind}"


def _label(session: Any) -> str:
    session_id = getattr(session, "session_id", None)
    return f"session {session_id[:8]}" if isinstance(session_id, str) else repr(session)


@contextlib.contextmanager
def handler_scope(session: Any, kind: str) -> Generator[None, None, None]:
    """Mark the current thread as running a ``kind`` handler of ``session`` (nestable).
    ``session`` may be given as a weak reference."""
    ident = threading.get_ident()
    ref: weakref.ref[Any] = (
        cast("weakref.ref[Any]", session)
        if isinstance(session, weakref.ref)
        else weakref.ref(session)
    )
    entry = (ref, kind)
    with _lock:
        _handlers.setdefault(ident, []).append(entry)
    try:
        yield
    finally:
        with _lock:
            stack = _handlers.get(ident)
            if stack:
                stack.pop()
                if not stack:
                    del _handlers[ident]


def run_as_handler(session: Any, kind: str, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` inside :func:`handler_scope` (for jobs on the worker pool)."""
    with handler_scope(session, kind):
        return fn(*args)


def current_handler() -> tuple[Any, str] | None:
    """The innermost ``(session, kind)`` handler the current thread runs, if any."""
    stack = _handlers.get(threading.get_ident())
    if not stack:
        return None
    ref, kind = stack[-1]
    session = ref()
    return None if session is None else (session, kind)


def handlers_running(session: Any) -> bool:
    """Whether a handler of ``session`` the CLI may be waiting for runs now: any kind but
    its event thread's (a tool, permission, user-input, hook, session-filesystem handler...)."""
    with _lock:
        return any(
            kind != EVENT and held() is session
            for stack in _handlers.values()
            for held, kind in stack
        )


def _find_cycle(caller: int, target: Any) -> list[tuple[Any, str, Any]] | None:
    """The chain of ``(session, handler kind, session that handler waits on)`` leading from
    ``target`` back to a handler the calling thread runs; ``None`` if there is none.
    Called with ``_lock`` held."""
    seen: set[int] = set()
    todo: list[tuple[Any, list[tuple[Any, str, Any]]]] = [(target, [])]
    while todo:
        session, chain = todo.pop()
        if id(session) in seen:
            continue
        seen.add(id(session))
        for ident, stack in _handlers.items():
            for held, kind in stack:
                if held() is not session:
                    continue
                if ident == caller:
                    return [*chain, (session, kind, None)]
                waited = _waiting.get(ident)
                waits_on = waited[0]() if waited is not None else None
                if waits_on is not None:
                    todo.append((waits_on, [*chain, (session, kind, waits_on)]))
    return None


def _message(call: str, target: Any, chain: list[tuple[Any, str, Any]]) -> str:
    held, kind, _ = chain[-1]
    if len(chain) == 1:  # waiting on the very session whose handler this is
        if kind == EVENT:
            return (
                f"{call} on {_label(target)} cannot be called from this session's own event handler "
                "(an on() handler or a future's done callback) because it could never complete: the "
                "events it waits for are queued behind this handler. Use send() or send_async() "
                "(with add_done_callback()) instead"
            )
        return (
            f"{call} on {_label(target)} from inside {_a(kind)} handler of that session can never "
            f"complete: the session's running turn is waiting for this {kind} handler to return. "
            "Use send_async() or send() instead, and do not wait for the result inside the handler"
        )
    ring = " -> ".join(
        f"{_a(step_kind)} handler of {_label(step_session)} waits on {_label(waits_on)}"
        for step_session, step_kind, waits_on in chain[:-1]
    )
    return (
        f"{call} on {_label(target)} from inside {_a(kind)} handler of {_label(held)} can never complete: "
        f"{ring}, which waits for this handler (a deadlock). Use send_async() or send() in one of "
        "these handlers instead of a blocking call"
    )


def check(session: Any, call: str) -> None:
    """Raise :class:`ReentrancyError` if a blocking ``call`` on ``session`` from this thread
    could never complete. Registers nothing."""
    ident = threading.get_ident()
    if ident not in _handlers:  # see blocking()
        return
    with _lock:
        chain = _find_cycle(ident, session)
    if chain is not None:
        raise ReentrancyError(_message(call, session, chain))


@contextlib.contextmanager
def blocking(session: Any, call: str) -> Generator[None, None, None]:
    """Around a blocking wait on ``session``: refuse it if it could never complete, else
    record the wait (so a later wait by another handler can see a ring form) until it ends."""
    ident = threading.get_ident()
    if ident not in _handlers:
        # Not inside any handler: this thread can close no ring, and no path through the
        # graph passes through it (only handler threads hold sessions up). Only this thread
        # adds or removes its own entry, so the unlocked check is exact.
        yield
        return
    previous = None
    with _lock:
        chain = _find_cycle(ident, session)
        if chain is None:
            previous = _waiting.get(ident)
            _waiting[ident] = (weakref.ref(session), call)
    if chain is not None:
        raise ReentrancyError(_message(call, session, chain))
    try:
        yield
    finally:
        with _lock:
            if previous is None:
                _waiting.pop(ident, None)
            else:
                _waiting[ident] = previous
