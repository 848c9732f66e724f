"""The one table of requests the CLI sends to the SDK, and where each is answered.

Two kinds:

* :data:`REQUESTS`: direct JSON-RPC requests to this client (``hooks.invoke``...). Each
  is answered on a worker thread by ``answer(context, method, params) -> result``; the
  client sends the result (or the error raised) back as the JSON-RPC response.
* :data:`EVENTS`: broadcast request events in a session's event stream
  (``external_tool.requested``...). Each is looked at on the session's event thread by
  ``react(context, raw, data, request_id)``, which only schedules work; the answer goes
  back later as a session RPC from a worker.

To add a request: write ``_requests/<family>.py`` with its ``answer`` (or ``react``),
and add one line below. A method in neither table is answered by
:func:`method_not_found` (``-32601 Method not found: <method>``), logged once per name;
:data:`DECLINED` lists the ones the CLI's schema has and the SDK declines on purpose, and
:data:`NOTIFICATIONS` the schema's notifications the client consumes itself.
"""

from __future__ import annotations

import logging
import threading
from typing import NamedTuple

from .._errors import JsonRpcError
from .._wire.connection import METHOD_NOT_FOUND
from . import (
    auto_mode_switch,
    canvas,
    commands,
    elicitation,
    exit_plan_mode,
    extension_launch,
    github_telemetry,
    github_token,
    hooks,
    installations,
    mcp_auth,
    model_http_exchange,
    permissions,
    session_fs_wire,
    skill_provider,
    tools,
    transforms,
    user_input,
)
from .protocol import EventReaction, RequestAnswer

__all__ = [
    "CLIENT_REQUESTS",
    "DECLINED",
    "EVENTS",
    "NOTIFICATIONS",
    "PREFIXES",
    "REACTS_TO",
    "REQUESTS",
    "Request",
    "find",
    "method_not_found",
]

logger = logging.getLogger("copilot_sync.client")


class Request(NamedTuple):
    """A direct request: what kind of handler answers it (see ``_wire.reentrancy``), and how."""

    kind: str
    answer: RequestAnswer


#: Direct JSON-RPC requests from the CLI, by method.
REQUESTS: dict[str, Request] = {
    "hooks.invoke": Request("hook", hooks.answer),
    "systemMessage.transform": Request("system message transform", transforms.answer),
    "userInput.request": Request("user input", user_input.answer),
    "exitPlanMode.request": Request("request", exit_plan_mode.answer),
    "autoModeSwitch.request": Request("request", auto_mode_switch.answer),
    skill_provider.LIST: Request("request", skill_provider.answer),
    skill_provider.READ: Request("request", skill_provider.answer),
    canvas.OPEN: Request("request", canvas.answer),
    canvas.CLOSE: Request("request", canvas.answer),
    canvas.ACTION: Request("request", canvas.answer),
}

#: Direct requests the client answers itself, not a session (no session id to route by):
#: ``gitHubToken.getToken`` names a ``github_token_provider`` registration instead.
CLIENT_REQUESTS = frozenset(
    {
        github_token.METHOD,
        installations.METHOD,
        extension_launch.METHOD,
        *model_http_exchange.METHODS,  # request_handler's llmInference.httpRequest*
    }
)

#: Notifications of the CLI's schema (``"notification": true``) that the client consumes in
#: ``_on_notification``: ``gitHubTelemetry.event`` goes to ``on_github_telemetry``, in order.
NOTIFICATIONS = frozenset({github_telemetry.METHOD})

#: Direct requests by method prefix (the family answers ``<prefix><op>`` and rejects unknown ops).
PREFIXES: dict[str, Request] = {
    "sessionFs.": Request("session filesystem", session_fs_wire.answer),
}

#: Broadcast request events in a session's stream, by event type.
EVENTS: dict[str, EventReaction] = {
    "external_tool.requested": tools.on_requested,
    "permission.requested": permissions.on_requested,
    "command.execute": commands.on_execute,
    "elicitation.requested": elicitation.on_requested,
    mcp_auth.INTEREST: mcp_auth.on_requested,
}

#: CLI-to-SDK requests of the CLI's schema (``clientSession``/``clientGlobal``) that this
#: SDK deliberately does not answer, and why: each needs an opt-in the SDK never makes, so
#: a CLI that sends one anyway gets ``-32601`` (logged at INFO once per name).
#: ``tests/test_rpc_generated.py`` checks that every request of the default CLI's schema is
#: answered or listed here.
DECLINED: dict[str, str] = {
    "providerToken.getToken": "BYOK providers are configured with a static api_key or bearer_token",
    "tasks.cancel": "connect lists no client task kinds",
    "workflow.execute": "no workflows are registered (an extension connection's feature)",
    "workflow.abort": "no workflows are registered (an extension connection's feature)",
    "host.exited": "this client never calls host.start",
    "host.materializeSession": "this client never calls host.start",
    "host.registerSession": "this client never calls host.start",
    "host.sessionReleased": "this client never calls host.start",
    "host.shutdown": "this client never calls host.start",
    "host.unregisterSession": "this client never calls host.start",
    "uiThread.run": "the schema sends it only to in-process clients",
}

#: Every event type a session's request layer looks at: the requests, their
#: ``*.completed`` (never answer after it), and ``tool.execution_complete`` (denial warning).
REACTS_TO = frozenset(
    {
        *EVENTS,
        "external_tool.completed",
        "permission.completed",
        "elicitation.completed",
        mcp_auth.COMPLETED,
        "tool.execution_complete",
    }
)


def find(method: str) -> Request | None:
    """The direct request ``method``, or None if the SDK does not answer it."""
    request = REQUESTS.get(method)
    if request is not None:
        return request
    for prefix, request in PREFIXES.items():
        if method.startswith(prefix):
            return request
    return None


_lock = threading.Lock()
_logged: set[str] = set()


def method_not_found(method: str) -> JsonRpcError:
    """The error answer for a method the SDK does not answer, logged once per name: at
    INFO for one it declines on purpose (:data:`DECLINED`), else at WARNING (a newer CLI
    may expect an answer this SDK does not give yet)."""
    with _lock:
        first = method not in _logged and len(_logged) < 1024
        if first:
            _logged.add(method)
    if first:
        reason = DECLINED.get(method)
        if reason is not None:
            logger.info(
                "the CLI sent %s, which this SDK declines (%s): answered -32601", method, reason
            )
        else:
            logger.warning(
                "the CLI sent a request this SDK does not know: %.120s (answered -32601)", method
            )
    return JsonRpcError(METHOD_NOT_FOUND, f"Method not found: {method}")
