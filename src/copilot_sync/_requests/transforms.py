"""``systemMessage.transform``: the session's section transforms rewrite the system message."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .._errors import JsonRpcError
from .._fields import is_object
from .._wire.connection import INTERNAL_ERROR

if TYPE_CHECKING:
    from .protocol import RequestContext

__all__ = ["answer"]

logger = logging.getLogger("copilot_sync.session")


def answer(context: RequestContext, method: str, params: dict[str, Any]) -> dict[str, Any]:
    sections = params.get("sections")
    if not is_object(sections) or not sections:
        raise JsonRpcError(
            INTERNAL_ERROR, "systemMessage.transform needs a non-empty sections object"
        )
    result: dict[str, Any] = {}
    for section_id, section in sections.items():
        content = section.get("content", "") if is_object(section) else ""
        transform = context.transforms.get(section_id)
        if transform is not None:
            try:
                new = transform(content)
            except BaseException:
                logger.exception(
                    "session %s: transform of section %r raised; kept it",
                    context.session_id,
                    section_id,
                )
            else:
                if isinstance(new, str):
                    content = new
                else:
                    logger.warning(
                        "session %s: transform of section %r returned %s, not a string; kept it",
                        context.session_id,
                        section_id,
                        type(new).__name__,
                    )
        result[section_id] = {"content": content}
    return {"sections": result}
