"""``autoModeSwitch.request``: after a rate limit, the CLI offers to switch the session to
auto mode; the session's ``on_auto_mode_switch_request`` decides (without one: ``"no"``).

The handler gets ``{"error_code": ..., "retry_after_seconds": ...}`` (either may be absent)
and returns ``"yes"`` (this turn), ``"yes_always"`` (and remember it), ``"no"``, or a bool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._fields import snake_keys

if TYPE_CHECKING:
    from .protocol import RequestContext

__all__ = ["RESPONSES", "answer"]

#: The answers the CLI takes (its ``UIAutoModeSwitchResponse``).
RESPONSES = ("yes", "yes_always", "no")


def answer(context: RequestContext, method: str, params: dict[str, Any]) -> dict[str, Any]:
    handler = context.auto_mode_switch_handler
    if handler is None:
        return {"response": "no"}
    request = snake_keys({key: value for key, value in params.items() if key != "sessionId"})
    value = handler(request, {"session_id": context.session_id})
    if isinstance(value, bool):
        return {"response": "yes" if value else "no"}
    if value not in RESPONSES:
        raise ValueError(
            f"on_auto_mode_switch_request must return one of {', '.join(RESPONSES)} or a bool; got {value!r}"
        )
    return {"response": value}
