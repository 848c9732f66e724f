"""Small pieces of the client's handler options: ``on_list_models`` (a BYOK user's own
model list) and a session's interest in a gated event (``mcp.oauth_required``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from ._errors import CopilotError
from ._fields import is_mapping
from ._types import ModelInfo

if TYPE_CHECKING:
    from ._session import CopilotSession

__all__ = ["models_from_handler", "register_interest"]

logger = logging.getLogger("copilot_sync.client")


def models_from_handler(value: Any) -> list[ModelInfo]:
    """What ``on_list_models()`` returned, as ``ModelInfo``s: each item a ``ModelInfo`` or a
    ``models.list`` entry dict (``{"id": ..., "name": ..., "capabilities": ...}``)."""
    if isinstance(value, (str, bytes)) or is_mapping(value) or not isinstance(value, Iterable):
        raise TypeError(
            f"on_list_models must return a list of ModelInfo or dicts, not {type(value).__name__}"
        )
    models: list[ModelInfo] = []
    for item in cast("Iterable[Any]", value):
        if isinstance(item, ModelInfo):
            models.append(item)
        elif is_mapping(item) and isinstance(item.get("id"), str):
            models.append(ModelInfo.from_dict({"name": item["id"], **item}))
        else:
            raise TypeError(
                f"on_list_models returned {type(item).__name__}; each model must be a ModelInfo or a dict with an 'id'"
            )
    return models


def register_interest(session: CopilotSession, event_type: str, timeout: float | None) -> None:
    """Tell the CLI this session has a consumer for ``event_type`` (with it, 1.0.102 leaves
    MCP OAuth to the host). A CLI without the method is logged, not raised: the handler
    then sees the event only if the CLI sends it anyway."""
    try:
        session.rpc.event_log.register_interest(event_type=event_type, timeout=timeout)
    except CopilotError as exc:
        logger.info(
            "session %s: could not register interest in %s: %s", session.session_id, event_type, exc
        )
