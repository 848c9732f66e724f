"""``exitPlanMode.request``: the agent asks to leave plan mode; the session's
``on_exit_plan_mode_request`` decides (without one, the SDK approves).

The handler gets the request with snake_case keys (``summary``, ``plan_content``,
``actions``, ``recommended_action``) and returns a bool or a dict with ``approved`` and,
optionally, ``selected_action`` (one of :data:`ACTIONS`), ``feedback``,
``auto_approve_edits`` and ``defer_implementation`` (camelCase keys work too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._fields import is_mapping, snake_keys

if TYPE_CHECKING:
    from .protocol import RequestContext

__all__ = ["ACTIONS", "answer", "exit_plan_mode_result"]

#: What the user may choose to do after plan mode (the CLI's ``UIExitPlanModeAction``).
ACTIONS = ("exit_only", "interactive", "autopilot", "autopilot_fleet")

_FIELDS = {
    "approved": ("approved", bool),
    "selected_action": ("selectedAction", str),
    "selectedAction": ("selectedAction", str),
    "feedback": ("feedback", str),
    "auto_approve_edits": ("autoApproveEdits", bool),
    "autoApproveEdits": ("autoApproveEdits", bool),
    "defer_implementation": ("deferImplementation", bool),
    "deferImplementation": ("deferImplementation", bool),
}


def answer(context: RequestContext, method: str, params: dict[str, Any]) -> dict[str, Any]:
    handler = context.exit_plan_mode_handler
    if handler is None:
        return {"approved": True}
    request = snake_keys({key: value for key, value in params.items() if key != "sessionId"})
    return exit_plan_mode_result(handler(request, {"session_id": context.session_id}))


def exit_plan_mode_result(value: Any) -> dict[str, Any]:
    """The wire answer for what a handler returned; ``TypeError``/``ValueError`` for junk."""
    if isinstance(value, bool):
        return {"approved": value}
    if not is_mapping(value) or not isinstance(value.get("approved"), bool):
        raise TypeError(
            "on_exit_plan_mode_request must return a bool or a dict with a bool 'approved', "
            f"not {type(value).__name__}"
        )
    result: dict[str, Any] = {}
    for key, item in value.items():
        field = _FIELDS.get(key)
        if field is None:
            raise TypeError(f"on_exit_plan_mode_request returned an unknown key {key!r}")
        wire, expected = field
        if item is None:
            continue
        if not isinstance(item, expected):
            raise TypeError(f"{key!r} must be a {expected.__name__}, not {type(item).__name__}")
        result[wire] = item
    action = result.get("selectedAction")
    if action is not None and action not in ACTIONS:
        raise ValueError(f"selected_action must be one of {', '.join(ACTIONS)}; got {action!r}")
    return result
