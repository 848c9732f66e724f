"""The options of one message: the ``session.send`` params that ``send``,
``send_and_wait``, ``stream``, ``send_async`` and ``send_and_collect`` build, checked
before anything is sent.

Wire names and shapes are those of the CLI's ``SendRequest`` (api.schema.json, the same
in CLI 1.0.81 and 1.0.102), which the CLI itself does not check: it accepts an unknown
``agentMode`` or a malformed ``source`` and copies them into the ``user.message`` event.
So the SDK checks them here, and a wrong argument raises ``TypeError``/``ValueError``
at the call.

* ``agent_mode`` -> ``agentMode``: the UI mode the message was sent in, copied to the
  ``user.message``; ``"plan"`` makes CLI 1.0.102 add its plan-mode instructions to the
  model's prompt. The session's own mode (``session.rpc.mode``) does not change.
* ``request_headers`` -> ``requestHeaders``: extra HTTP headers on this turn's model
  requests, over the provider's own (the turn's win).
* ``display_prompt`` -> ``displayPrompt``: what the ``user.message`` event and the
  history show as the message; the model still gets ``prompt``.
* ``source`` -> ``source``: provenance, copied to the ``user.message``.
* with OpenTelemetry, the current span's ``traceparent``/``tracestate`` (docs/TRACING.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast, get_args

from ._fields import is_mapping
from ._tracing import outgoing

__all__ = ["AGENT_MODES", "SEND_MODES", "AgentMode", "SendMode", "send_params"]

#: How the CLI delivers the message: queued behind a running turn, or steering it.
SendMode = Literal["enqueue", "immediate"]
#: The UI mode the agent was in when the message was sent (default: the session's mode).
AgentMode = Literal["interactive", "plan", "autopilot", "shell"]

SEND_MODES: tuple[str, ...] = get_args(SendMode)
AGENT_MODES: tuple[str, ...] = get_args(AgentMode)

# The schema's pattern for ``source``, ``^(user|system|command-.*|schedule-\d+|agent-.+)$``,
# as JavaScript reads it: ``.`` stops at a line break, ``\d`` is ASCII.
_SOURCE = re.compile(r"(?:user|system|command-.*|schedule-[0-9]+|agent-.+)", re.ASCII)
# An HTTP header name (RFC 9110 token); a value may not break the header line.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", re.ASCII)
_BAD_HEADER_VALUE = re.compile(r"[\r\n\x00]")


def send_params(
    prompt: Any,
    attachments: Any = None,
    mode: Any = None,
    *,
    agent_mode: Any = None,
    request_headers: Any = None,
    display_prompt: Any = None,
    source: Any = None,
) -> dict[str, Any]:
    """The ``session.send`` params for these arguments (``sessionId`` aside); ``TypeError``
    or ``ValueError`` naming the argument if one is wrong. ``None`` leaves a field out."""
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a string, not {type(prompt).__name__}")
    params: dict[str, Any] = {"prompt": prompt}
    if attachments is not None:
        if isinstance(attachments, (str, Mapping)) or not isinstance(attachments, Sequence):
            raise TypeError("attachments must be a list of attachment dicts")
        items = cast("Sequence[Any]", attachments)
        for attachment in items:
            if not is_mapping(attachment) or not isinstance(attachment.get("type"), str):
                raise TypeError(f"each attachment must be a dict with a 'type'; got {attachment!r}")
        params["attachments"] = [dict(a) for a in items]
    if mode is not None:
        params["mode"] = _one_of("mode", mode, SEND_MODES)
    if agent_mode is not None:
        params["agentMode"] = _one_of("agent_mode", agent_mode, AGENT_MODES)
    if request_headers is not None:
        params["requestHeaders"] = _headers(request_headers)
    if display_prompt is not None:
        if not isinstance(display_prompt, str):
            raise TypeError(f"display_prompt must be a string, not {type(display_prompt).__name__}")
        params["displayPrompt"] = display_prompt
    if source is not None:
        if not isinstance(source, str):
            raise TypeError(f"source must be a string, not {type(source).__name__}")
        if not _SOURCE.fullmatch(source):
            raise ValueError(
                "source must be 'user', 'system', 'command-<command id>', 'schedule-<number>' or "
                f"'agent-<agent id>'; got {source!r}"
            )
        params["source"] = source
    params.update(outgoing())  # the current span's traceparent/tracestate (docs/TRACING.md)
    return params


def _one_of(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(
            f"{name} must be a string, one of {', '.join(allowed)}; not {type(value).__name__}"
        )
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _headers(headers: Any) -> dict[str, str]:
    if not is_mapping(headers):
        raise TypeError(
            f"request_headers must be a dict of header names to strings, not {type(headers).__name__}"
        )
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"request_headers: {name!r} is not a valid HTTP header name")
        if not isinstance(value, str):
            raise TypeError(
                f"request_headers[{name!r}] must be a string, not {type(value).__name__}"
            )
        if _BAD_HEADER_VALUE.search(value):
            raise ValueError(f"request_headers[{name!r}] may not contain a line break or NUL")
        checked[name] = value
    return checked
