"""Optional OpenTelemetry trace propagation (docs/TRACING.md).

Out: the current span's W3C ``traceparent``/``tracestate`` go into the params of
``session.create``, ``session.resume`` and ``session.send`` (:func:`outgoing`).
In: the context the CLI sends with a request (``external_tool.requested`` data, a
direct request's params, or a ``hooks.invoke`` input) is attached around the user
handler that answers it on the worker pool (:func:`incoming`, :func:`attached`,
:func:`run_in`).

``opentelemetry-api`` (the ``copilot-sync[otel]`` extra) is imported lazily, on first
use; without it every function here is a cheap no-op. The fields are always W3C Trace
Context, whatever propagator the application configured globally. A tracing failure
never breaks a call: it is logged at DEBUG and the call goes on without a context.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Generator, Mapping
from typing import Any, TypeVar

from ._fields import is_mapping

__all__ = ["FIELDS", "attached", "capture", "incoming", "outgoing", "run_in"]

logger = logging.getLogger("copilot_sync.tracing")

T = TypeVar("T")

#: The W3C Trace Context fields, as the CLI's schema names them.
FIELDS = ("traceparent", "tracestate")

_UNLOADED: Any = object()
_api: Any = _UNLOADED  # (opentelemetry.context, opentelemetry.trace, W3C propagator), or None


def _load() -> Any:
    """The OpenTelemetry API pieces this module uses, or None when it is not installed."""
    global _api
    if _api is _UNLOADED:
        try:
            from opentelemetry import context, trace
            from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

            _api = (context, trace, TraceContextTextMapPropagator())
        except Exception as exc:  # ImportError, or a broken install: trace nothing
            logger.debug("OpenTelemetry is not available; no trace context is propagated: %s", exc)
            _api = None
    return _api


def outgoing() -> dict[str, str]:
    """The current span's ``traceparent`` (and ``tracestate``, if any) for a request's
    params; empty without OpenTelemetry or without a valid current span."""
    api = _load()
    if api is None:
        return {}
    try:
        carrier: dict[str, str] = {}
        api[2].inject(carrier)
        return {
            key: carrier[key]
            for key in FIELDS
            if isinstance(carrier.get(key), str) and carrier[key]
        }
    except Exception:
        logger.debug(
            "could not read the current trace context; the request goes without it", exc_info=True
        )
        return {}


def incoming(params: Any) -> Any:
    """The OpenTelemetry context the CLI sent with ``params`` (a request's params or an
    event's data): ``traceparent``/``tracestate`` at its top level, or in its ``input``
    (``hooks.invoke``). None if there is none, it is malformed, or OpenTelemetry is absent."""
    if not is_mapping(params):
        return None
    carrier = _carrier(params)
    if carrier is None and isinstance(params.get("input"), Mapping):
        carrier = _carrier(params["input"])
    if carrier is None:
        return None
    api = _load()
    if api is None:
        return None
    try:
        ctx = api[2].extract(carrier, context=api[0].Context())
        if not api[1].get_current_span(ctx).get_span_context().is_valid:
            logger.debug("ignored a malformed trace context from the CLI: %.120r", carrier)
            return None
        return ctx
    except Exception:
        logger.debug("could not read the trace context the CLI sent", exc_info=True)
        return None


def _carrier(fields: Mapping[str, Any]) -> dict[str, str] | None:
    """The W3C fields of ``fields`` as a propagator carrier, or None without a traceparent."""
    traceparent = fields.get("traceparent")
    if not isinstance(traceparent, str) or not traceparent:
        return None
    carrier = {"traceparent": traceparent}
    tracestate = fields.get("tracestate")
    if isinstance(tracestate, str) and tracestate:
        carrier["tracestate"] = tracestate
    return carrier


def capture() -> Any:
    """The current OpenTelemetry context, to run work in on another thread; None without
    OpenTelemetry (then :func:`run_in` adds nothing)."""
    api = _load()
    if api is None:
        return None
    try:
        return api[0].get_current()
    except Exception:
        logger.debug("could not capture the current trace context", exc_info=True)
        return None


@contextlib.contextmanager
def attached(ctx: Any) -> Generator[None, None, None]:
    """Make ``ctx`` the current OpenTelemetry context for the block (nothing if None)."""
    if ctx is None:
        yield
        return
    token = None
    try:
        token = _load()[0].attach(ctx)
    except Exception:
        logger.debug("could not attach a trace context; the handler runs without it", exc_info=True)
    try:
        yield
    finally:
        if token is not None:
            try:
                _load()[0].detach(token)
            except Exception:
                logger.debug("could not detach a trace context", exc_info=True)


def run_in(ctx: Any, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` with ``ctx`` as the current OpenTelemetry context (for worker jobs)."""
    with attached(ctx):
        return fn(*args)
