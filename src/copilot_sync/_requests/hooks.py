"""``hooks.invoke``: the CLI asks a session's hook for its output."""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._fields import is_mapping, is_object
from .._session_config import camel

if TYPE_CHECKING:
    from .protocol import RequestContext

__all__ = ["HOOK_CALLBACKS", "answer", "hook_input"]

logger = logging.getLogger("copilot_sync.session")

HOOK_CALLBACKS = {
    "preToolUse": "on_pre_tool_use",
    "postToolUse": "on_post_tool_use",
    "postToolUseFailure": "on_post_tool_use_failure",
    "userPromptSubmitted": "on_user_prompt_submitted",
    "userPromptTransformed": "on_user_prompt_transformed",
    "sessionStart": "on_session_start",
    "sessionEnd": "on_session_end",
    "errorOccurred": "on_error_occurred",
    "agentStop": "on_agent_stop",
    "preMcpToolCall": "on_pre_mcp_tool_call",
    "subagentStart": "on_subagent_start",
    "subagentStop": "on_subagent_stop",
}


def answer(context: RequestContext, method: str, params: dict[str, Any]) -> dict[str, Any]:
    hook_type = params.get("hookType")
    name = HOOK_CALLBACKS.get(hook_type) if isinstance(hook_type, str) else None
    hook = context.hooks.get(name) if name else None
    if hook is None:
        return {}
    raw_input = params.get("input")
    try:
        output = hook(
            hook_input(hook_type, raw_input if is_object(raw_input) else {}),
            {"session_id": context.session_id},
        )
    except BaseException:  # even SystemExit: answered with the documented default
        logger.exception(
            "session %s: hook %s raised; answering with no output", context.session_id, name
        )
        return {}
    if output is None:
        return {}
    if not is_mapping(output):
        logger.warning(
            "session %s: hook %s returned %r, not a dict; ignored", context.session_id, name, output
        )
        return {}
    return {
        "output": {
            camel(key) if isinstance(key, str) else key: _wire_value(value)
            for key, value in output.items()
        }
    }


def _wire_value(value: Any) -> Any:
    """A hook output value as JSON: a ``ToolResult`` (e.g. ``modifiedResult``) in its wire form."""
    to_wire = getattr(value, "to_wire", None)
    return to_wire() if callable(to_wire) else value


def hook_input(hook_type: Any, raw: Mapping[str, Any]) -> dict[str, Any]:
    """A hook's input as handlers receive it: wire keys, except ``cwd`` →
    ``workingDirectory``, ``stop_hook_active`` → ``stopHookActive``, the epoch-ms
    ``timestamp`` → an aware ``datetime``, and an error object → its message."""
    data = dict(raw)
    if "cwd" in data:
        data["workingDirectory"] = data.pop("cwd")
    if "stop_hook_active" in data:
        data["stopHookActive"] = data.pop("stop_hook_active")
    timestamp = data.get("timestamp")
    if isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool):
        try:
            data["timestamp"] = _dt.datetime.fromtimestamp(timestamp / 1000, tz=_dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            pass
    if hook_type in ("errorOccurred", "sessionEnd", "postToolUseFailure") and isinstance(
        data.get("error"), Mapping
    ):
        error = data["error"]
        data["error"] = str(error.get("message") or error.get("name") or error)
    return data
