"""``mcp.oauth_required`` (a broadcast request event): a remote MCP server answered with
an OAuth challenge; the session's ``on_mcp_auth_request`` may supply the token, answered
with ``session.mcp.oauth.handlePendingRequest``.

Without a handler the SDK stays out of it (the CLI's own flow, or another client, may
answer). With one, the session registers its interest in the event after
``session.create``, as the official SDK does, so the CLI waits for the host's answer.

The handler gets the event's data with snake_case keys (``server_name``, ``server_url``,
``reason``, ``www_authenticate_params``, ``static_client_config``...) and returns:

* ``{"access_token": str, "expires_in": seconds, "token_type": str}`` (camelCase works
  too; ``expires_in`` and ``token_type`` are optional): the token to use;
* ``{"kind": "runtime_refresh"}`` when the request says ``runtime_refresh_supported``: let
  the CLI refresh the credentials itself;
* ``None`` or ``{"kind": "cancelled"}``: no token.

A handler that raises or returns anything else is logged and answered ``cancelled``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._fields import is_mapping, snake_keys
from .token_answers import CANCELLED, token_answer

if TYPE_CHECKING:
    from .protocol import RequestContext

__all__ = ["COMPLETED", "INTEREST", "on_requested", "result_to_wire"]

logger = logging.getLogger("copilot_sync.session")

#: The event this family reacts to (``session.eventLog.registerInterest`` names it).
INTEREST = "mcp.oauth_required"
#: The event that says a request was answered (by anyone): never answer it after that.
COMPLETED = "mcp.oauth_completed"


def on_requested(
    context: RequestContext, raw: Mapping[str, Any], data: dict[str, Any], request_id: str
) -> None:
    """Event thread: schedule the handler on the worker pool (at most once per request)."""
    handler = context.mcp_auth_handler
    if handler is not None and context.take(request_id, INTEREST):
        context.submit("MCP auth", _answer, context, handler, data)


def _answer(context: RequestContext, handler: Callable[..., Any], data: dict[str, Any]) -> None:
    """Worker: run the handler and send its answer."""
    refresh_ok = data.get("runtimeRefreshSupported") is True
    try:
        result = result_to_wire(
            handler(snake_keys(dict(data)), {"session_id": context.session_id}), refresh_ok
        )
    except BaseException as exc:
        logger.error(
            "session %s: on_mcp_auth_request for server %r failed (%s); answering cancelled",
            context.session_id, data.get("serverName"), type(exc).__name__, exc_info=isinstance(exc, Exception),
        )  # fmt: skip
        result = dict(CANCELLED)
    context.send_answer(
        "session.mcp.oauth.handlePendingRequest", data["requestId"], {"result": result}
    )


def result_to_wire(value: Any, runtime_refresh_supported: bool = False) -> dict[str, Any]:
    """The ``McpOauthPendingRequestResponse`` for what a handler returned. Raises
    ``TypeError``/``ValueError`` for junk (the message never includes a token)."""
    if is_mapping(value) and value.get("kind") in ("runtime_refresh", "runtimeRefresh"):
        if not runtime_refresh_supported:
            raise ValueError("runtime_refresh was returned for a request that does not support it")
        return {"kind": "runtimeRefresh"}
    return token_answer(value, "on_mcp_auth_request")
