"""``autoModeSwitch.request``: the CLI offers to switch to auto mode; the SDK declines."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .protocol import RequestContext

__all__ = ["answer"]


def answer(context: RequestContext, method: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"response": "no"}
