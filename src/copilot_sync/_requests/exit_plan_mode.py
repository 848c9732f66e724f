"""``exitPlanMode.request``: the CLI asks to leave plan mode; the SDK approves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .protocol import RequestContext

__all__ = ["answer"]


def answer(context: RequestContext, method: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"approved": True}
