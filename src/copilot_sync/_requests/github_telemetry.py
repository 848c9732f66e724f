"""``gitHubTelemetry.event``: the CLI's own GitHub telemetry, forwarded to the host.

A client built with ``on_github_telemetry=fn`` opts in on the ``connect`` handshake (and,
as the official SDK does for older CLIs, on every ``session.create``/``session.resume``)
with ``enableGitHubTelemetryForwarding: true``. From then on the CLI sends every telemetry
event it emits (its sessions', sessionless and process-wide ones) as a
``gitHubTelemetry.event`` *notification* (the schema's ``"notification": true``, result
``null``: nothing is answered, and the CLI never waits for the host).

The reader thread only queues the params (:class:`GitHubTelemetryForwarder`); ``fn`` gets
one :class:`GitHubTelemetryEvent` at a time on the worker pool, in the order the CLI sent
them on this connection: one delivery job is in flight at a time, and each job hands one
event over and then queues the next, so telemetry never holds a worker for long. An
exception from ``fn`` is logged (with its traceback) and swallowed. If ``fn`` falls behind,
at most :data:`MAX_PENDING` events wait; later ones are dropped (one warning per backlog).
Events still waiting when the client stops (or the connection is replaced by a new
``start()``) are dropped. The official SDK marks the option internal: it is meant for
first-party hosts that re-emit the events into their own telemetry stores.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._fields import as_opt_str, is_mapping
from .arity import check_arity

if TYPE_CHECKING:
    from .._wire.workers import WorkerPool

__all__ = [
    "FORWARDING_FLAG",
    "MAX_PENDING",
    "METHOD",
    "GitHubTelemetryEvent",
    "GitHubTelemetryForwarder",
    "GitHubTelemetryHandler",
    "event_of",
]

METHOD = "gitHubTelemetry.event"
#: The opt-in, in ``connect`` params and in ``session.create``/``session.resume`` params.
FORWARDING_FLAG = "enableGitHubTelemetryForwarding"
#: Events that may wait for a slow ``on_github_telemetry`` before newer ones are dropped.
MAX_PENDING = 10_000

logger = logging.getLogger("copilot_sync.client")

GitHubTelemetryHandler = Callable[["GitHubTelemetryEvent"], object]
"""The client's ``on_github_telemetry``: called with each :class:`GitHubTelemetryEvent` on a
worker thread; what it returns is ignored, and what it raises is logged."""


def _strings(value: object) -> dict[str, str]:
    if not is_mapping(value):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _numbers(value: object) -> dict[str, float]:
    if not is_mapping(value):
        return {}
    return {
        k: float(v)
        for k, v in value.items()
        if isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool)
    }


@dataclass(frozen=True)
class GitHubTelemetryEvent:
    """One GitHub telemetry event the CLI forwarded (``gitHubTelemetry.event``), in the
    runtime's native GitHub telemetry shape, its fields in snake_case.

    ``kind`` names the event (``"session_start"``, ``"assistant_usage"``,
    ``"tool_call_executed"``...); ``properties`` holds its string values and ``metrics`` its
    numbers. ``restricted`` marks a restricted event (``cli.restricted_telemetry``), which a
    host must route to first-party Microsoft stores only. ``session_id`` is the session it
    belongs to, or ``None`` for a sessionless event. ``raw`` is the notification's params as
    the CLI sent them (camelCase at the top, the event's own keys in snake_case).
    """

    kind: str
    """The event's type, e.g. ``"session_start"`` or ``"assistant_usage"``."""
    restricted: bool
    """Whether this is a restricted event (first-party Microsoft stores only)."""
    session_id: str | None = None
    """The session the event belongs to; ``None`` for a sessionless event."""
    properties: Mapping[str, str] = field(default_factory=dict[str, str])
    """String-valued properties, by key."""
    metrics: Mapping[str, float] = field(default_factory=dict[str, float])
    """Numeric metrics, by key."""
    created_at: str | None = None
    """When the event was created (ISO 8601), if the CLI said."""
    model_call_id: str | None = None
    """The model call that produced the event, if any."""
    copilot_tracking_id: str | None = field(default=None, repr=False)
    """Copilot tracking id for user-level attribution, if any."""
    exp_assignment_context: str | None = field(default=None, repr=False)
    """Experiment assignment context, if any."""
    features: Mapping[str, str] | None = field(default=None, repr=False)
    """Feature flags of the session, by flag, if the CLI sent them."""
    client: Mapping[str, Any] | None = field(default=None, repr=False)
    """Metadata of the process that produced the event (``cli_version``, ``os_platform``,
    ``node_version``...; the CLI's snake_case keys), if the CLI sent it."""
    raw: Mapping[str, Any] = field(default_factory=dict[str, Any], repr=False, compare=False)
    """The notification's params exactly as the CLI sent them."""


def event_of(params: object) -> GitHubTelemetryEvent | None:
    """The typed event of one notification's params; ``None`` if they are not one (no
    ``event`` object with a string ``kind``, or no boolean ``restricted``)."""
    if not is_mapping(params):
        return None
    event = params.get("event")
    restricted = params.get("restricted")
    if not is_mapping(event) or not isinstance(restricted, bool):
        return None
    kind = event.get("kind")
    if not isinstance(kind, str):
        return None
    features = event.get("features")
    client = event.get("client")
    return GitHubTelemetryEvent(
        kind=kind,
        restricted=restricted,
        session_id=as_opt_str(params.get("sessionId")),
        properties=_strings(event.get("properties")),
        metrics=_numbers(event.get("metrics")),
        created_at=as_opt_str(event.get("created_at")),
        model_call_id=as_opt_str(event.get("model_call_id")),
        copilot_tracking_id=as_opt_str(event.get("copilot_tracking_id")),
        exp_assignment_context=as_opt_str(event.get("exp_assignment_context")),
        features=_strings(features) if is_mapping(features) else None,
        client=dict(client) if is_mapping(client) else None,
        raw=params,
    )


class GitHubTelemetryForwarder:
    """Delivers the forwarded events of one client to its ``on_github_telemetry``: queued
    by the reader thread (:meth:`offer`, which never blocks), handed over one at a time, in
    order, on the worker pool. A new connection (a new pool) starts a new queue."""

    METHOD = METHOD

    def __init__(self, handler: GitHubTelemetryHandler) -> None:
        self._handler = handler
        self._lock = threading.Lock()
        self._pool: weakref.ref[WorkerPool] | None = None
        self._pending: deque[Any] = deque()
        self._delivering = False
        self._overflowing = False

    @classmethod
    def of(cls, handler: GitHubTelemetryHandler | None) -> GitHubTelemetryForwarder | None:
        """A forwarder for the client's ``on_github_telemetry`` (``None`` without one);
        ``TypeError`` now if it cannot take one argument."""
        if handler is None:
            return None
        check_arity(handler, 1, "on_github_telemetry")
        return cls(handler)

    def offer(self, pool: WorkerPool | None, params: Any) -> None:
        """Queue one notification's params (reader thread: never blocks, never raises)."""
        if pool is None:
            return
        with self._lock:
            if self._pool is None or self._pool() is not pool:
                self._pool = weakref.ref(pool)  # a new connection: nothing of the old one is left
                self._pending = deque()
                self._delivering = self._overflowing = False
            pending = self._pending
            if len(pending) >= MAX_PENDING:
                if not self._overflowing:
                    self._overflowing = True
                    logger.warning(
                        "on_github_telemetry is %d events behind; dropping new telemetry events",
                        len(pending),
                    )
                return
            pending.append(params)
            if self._delivering:
                return
            self._delivering = True
        self._submit(pool, pending)

    def _submit(self, pool: WorkerPool, pending: deque[Any]) -> None:
        if not pool.submit(self._deliver_next, pool, pending, wait=False):
            with self._lock:  # the pool is shut down: what waits is dropped
                pending.clear()
                if self._pending is pending:
                    self._delivering = False

    def _deliver_next(self, pool: WorkerPool, pending: deque[Any]) -> None:
        """One worker job: hand the oldest waiting event over, then queue the next job."""
        with self._lock:
            if not pending:
                if self._pending is pending:
                    self._delivering = False
                return
            params = pending.popleft()
            if not pending:
                self._overflowing = False
        self._call(params)
        with self._lock:
            if self._pending is not pending:
                return  # a new connection started a new queue
            if not pending:
                self._delivering = False
                return
        self._submit(pool, pending)

    def _call(self, params: Any) -> None:
        event = event_of(params)
        if event is None:
            logger.warning("skipped a malformed %s notification: %.120r", METHOD, params)
            return
        try:
            self._handler(event)
        except BaseException:  # SystemExit and the like too: the next event still comes
            logger.exception("on_github_telemetry raised on a %r event; ignored", event.kind)
