"""``userInput.request`` (the ``ask_user`` tool): the session's ``on_user_input_request`` answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._errors import JsonRpcError
from .._fields import is_mapping
from .._wire.connection import INTERNAL_ERROR

if TYPE_CHECKING:
    from .protocol import RequestContext

__all__ = ["answer"]


def answer(context: RequestContext, method: str, params: dict[str, Any]) -> dict[str, Any]:
    handler = context.user_input_handler
    if handler is None:
        raise JsonRpcError(INTERNAL_ERROR, "User input requested but no handler registered")
    request = {
        key: params[key] for key in ("question", "choices", "allowFreeform") if key in params
    }
    value = handler(request, {"session_id": context.session_id})
    if isinstance(value, str):
        choices: list[Any] = request.get("choices") or []
        return {"answer": value, "wasFreeform": value not in choices}
    if is_mapping(value) and isinstance(value.get("answer"), str):
        freeform = value.get("wasFreeform", value.get("was_freeform", True))
        return {"answer": value["answer"], "wasFreeform": bool(freeform)}
    raise TypeError(
        f"on_user_input_request must return {{'answer': str, 'wasFreeform': bool}} or a string, not {value!r}"
    )
