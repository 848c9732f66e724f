"""Elicitation: structured questions for a user, in both directions.

* The CLI asks this client: an ``elicitation.requested`` event runs the session's
  ``on_elicitation_request(context)`` handler on a worker thread, and its
  :class:`ElicitationResult` is sent back (any failure sends ``{"action": "cancel"}``).
* This client asks a user: ``session.ui.confirm/select/input/elicitation`` go through
  the CLI to whichever attached client can show a dialog, when ``session.capabilities``
  says one can.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from typing_extensions import Required

from .._errors import CapabilityError
from .._fields import is_mapping
from .._rpc import wire_of
from .._wire.timeouts import check_timeout

if TYPE_CHECKING:
    from .._session import CopilotSession
    from .protocol import RequestContext

__all__ = [
    "ElicitationContext",
    "ElicitationHandler",
    "ElicitationResult",
    "InputOptions",
    "SessionUI",
    "result_to_wire",
]

_session_logger = logging.getLogger("copilot_sync.session")

ElicitationFieldValue = str | float | bool | list[str]
_ACTIONS = ("accept", "decline", "cancel")


class ElicitationResult(TypedDict, total=False):
    """A user's answer: ``{"action": "accept", "content": {"field": value}}``, or
    ``{"action": "decline"}`` / ``{"action": "cancel"}``."""

    action: Required[Literal["accept", "decline", "cancel"]]
    content: dict[str, ElicitationFieldValue]


class ElicitationContext(TypedDict, total=False):
    """What an ``on_elicitation_request`` handler receives (wire keys, plus ``session_id``)."""

    session_id: Required[str]
    message: Required[str]
    requestedSchema: dict[str, Any]
    mode: Literal["form", "url"]
    elicitationSource: str
    url: str
    toolCallId: str
    requestId: str


class InputOptions(TypedDict, total=False):
    """Constraints for :meth:`SessionUI.input`."""

    title: str
    description: str
    minLength: int
    maxLength: int
    format: str
    default: str


ElicitationHandler = Callable[[ElicitationContext], Any]


def context_from_event(session_id: str, data: Mapping[str, Any]) -> ElicitationContext:
    context: ElicitationContext = {
        "session_id": session_id,
        "message": str(data.get("message") or ""),
    }
    for key in ("requestedSchema", "mode", "elicitationSource", "url", "toolCallId", "requestId"):
        if data.get(key) is not None:
            context[key] = data[key]
    return context


def result_to_wire(value: Any) -> dict[str, Any]:
    """What an elicitation handler returned, as the wire ``result``. ``ValueError``/``TypeError`` if it is not one."""
    if isinstance(value, str):
        value = {"action": value}
    if not is_mapping(value):
        raise TypeError(
            f"an elicitation handler must return a dict like {{'action': 'accept', ...}}, not {value!r}"
        )
    action = value.get("action", "cancel")
    if action not in _ACTIONS:
        raise ValueError(f"elicitation action must be one of {', '.join(_ACTIONS)}; got {action!r}")
    wire: dict[str, Any] = {"action": action}
    content = value.get("content")
    if content is not None:
        if not is_mapping(content):
            raise TypeError(f"elicitation content must be a dict, not {type(content).__name__}")
        wire["content"] = dict(content)
    return wire


class SessionUI:
    """Dialogs shown to a user through the CLI: ``session.ui.confirm("Deploy?")``.

    Each call blocks until the user answers (or ``timeout`` seconds pass) and needs a
    host that can show dialogs: ``session.capabilities["ui"]["elicitation"]`` true, i.e.
    some client attached to the session registered an elicitation handler. Otherwise it
    raises :class:`CapabilityError`.
    """

    def __init__(self, session: CopilotSession) -> None:
        self._session = session

    def __repr__(self) -> str:
        return f"<SessionUI of {self._session.session_id!r} available={self.available}>"

    @property
    def available(self) -> bool:
        """``True`` when the CLI reports that the session's host can show dialogs; otherwise the ``ui`` calls raise ``CapabilityError``."""
        ui = self._session.capabilities.get("ui")
        return is_mapping(ui) and ui.get("elicitation") is True

    def _require(self) -> None:
        if not self.available:
            raise CapabilityError(
                "the host does not support elicitation: no client attached to session "
                f"{self._session.session_id} can show dialogs (session.capabilities['ui']['elicitation'] "
                "is not true; a client gets it by passing on_elicitation_request)"
            )

    def elicitation(
        self,
        message: str | Mapping[str, Any],
        requested_schema: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> ElicitationResult:
        """Ask with a form described by a JSON Schema object. Also takes the official SDK's
        single ``{"message": ..., "requestedSchema": ...}`` dict."""
        if is_mapping(message):
            if requested_schema is not None:
                raise TypeError("pass either a params dict or message and requested_schema")
            requested_schema = message.get("requestedSchema", message.get("requested_schema"))
            message = message.get("message", "")
        if not isinstance(message, str):
            raise TypeError(f"message must be a string, not {type(message).__name__}")
        if not is_mapping(requested_schema):
            raise TypeError("requested_schema must be a JSON Schema object dict")
        timeout = check_timeout(timeout)
        self._require()
        typed = self._session.rpc.ui.elicitation(
            message=message, requested_schema=dict(requested_schema), timeout=timeout
        )
        result = wire_of(typed)
        answer: ElicitationResult = {"action": "cancel"}
        if is_mapping(result):
            action = result.get("action")
            answer = {"action": action if action in _ACTIONS else "cancel"}
            if isinstance(result.get("content"), Mapping):
                answer["content"] = dict(result["content"])
        return answer

    def confirm(self, message: str, *, timeout: float | None = None) -> bool:
        """A yes/no question; ``True`` only if the user accepted and confirmed."""
        schema = {
            "type": "object",
            "properties": {"confirmed": {"type": "boolean", "default": True}},
            "required": ["confirmed"],
        }
        result = self.elicitation(message, schema, timeout=timeout)
        return result["action"] == "accept" and result.get("content", {}).get("confirmed") is True

    def select(
        self, message: str, options: Sequence[str], *, timeout: float | None = None
    ) -> str | None:
        """Pick one of ``options``; ``None`` if the user declined or cancelled."""
        if isinstance(options, str) or not all(isinstance(option, str) for option in options):
            raise TypeError("options must be a list of strings")
        schema = {
            "type": "object",
            "properties": {"selection": {"type": "string", "enum": list(options)}},
            "required": ["selection"],
        }
        result = self.elicitation(message, schema, timeout=timeout)
        selection = result.get("content", {}).get("selection")
        return str(selection) if result["action"] == "accept" and selection is not None else None

    def input(
        self, message: str, options: InputOptions | None = None, *, timeout: float | None = None
    ) -> str | None:
        """Free text, optionally constrained; ``None`` if the user declined or cancelled."""
        field: dict[str, Any] = {"type": "string"}
        for key, value in (options or {}).items():
            if key not in InputOptions.__annotations__:
                raise TypeError(
                    f"unknown input option {key!r}; use {', '.join(InputOptions.__annotations__)}"
                )
            field[key] = value
        schema = {"type": "object", "properties": {"value": field}, "required": ["value"]}
        result = self.elicitation(message, schema, timeout=timeout)
        value = result.get("content", {}).get("value")
        return str(value) if result["action"] == "accept" and value is not None else None


# ---------------------------------------------------------------------------- elicitation.requested


def on_requested(
    context: RequestContext, raw: Mapping[str, Any], data: dict[str, Any], request_id: str
) -> None:
    """Event thread: the CLI shows a dialog; the session's ``on_elicitation_request`` answers."""
    handler = context.elicitation_handler
    if handler is not None and context.take(request_id, "elicitation.requested"):
        # A dialog a tool call asked for holds that turn up; one another client
        # asked for (session.ui.elicitation) does not.
        context.submit(
            "elicitation" if data.get("toolCallId") else None, answer, context, handler, data
        )


def answer(context: RequestContext, handler: Callable[..., Any], data: dict[str, Any]) -> None:
    """Worker: the handler's result, sent with ``session.ui.handlePendingElicitation``."""
    try:
        result = result_to_wire(handler(context_from_event(context.session_id, data)))
    except BaseException:
        _session_logger.exception(
            "session %s: elicitation handler failed; answering cancel", context.session_id
        )
        result = {"action": "cancel"}
    context.send_answer(
        "session.ui.handlePendingElicitation", data["requestId"], {"result": result}
    )
