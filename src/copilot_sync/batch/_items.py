"""Batch items: prompts or records normalised to :class:`Item`, with ids checked."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["ITEM_OPTIONS", "Item", "normalise_items"]

#: Per-item options a record may carry beside ``id`` and ``prompt``.
ITEM_OPTIONS = frozenset(
    {"model", "timeout", "idle_timeout", "response_format", "attachments", "mode", "agent_mode"}
)


@dataclasses.dataclass(frozen=True)
class Item:
    """One unit of work: its id, its prompt and its per-item options (plain data)."""

    id: str
    prompt: str
    options: dict[str, Any] = dataclasses.field(default_factory=dict[str, Any])


def normalise_items(items: Iterable[str | Mapping[str, Any]]) -> list[Item]:
    """Turn prompts and records into :class:`Item` s.

    An item without an id gets its 0-based position in ``items`` as id (``"0"``, ``"1"``...):
    resuming needs the same input order unless every item has an explicit id. Raises
    ``ValueError`` on a duplicate id or an unknown per-item option, ``TypeError`` on an item
    that is neither a string nor a mapping with a string ``prompt``.
    """
    result: list[Item] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(items):
        if isinstance(raw, str):
            item = Item(str(index), raw)
        elif isinstance(raw, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
            record: dict[str, Any] = dict(raw)
            prompt = record.pop("prompt", None)
            if not isinstance(prompt, str):
                raise TypeError(f"item {index}: 'prompt' must be a string, not {prompt!r}")
            raw_id = record.pop("id", None)
            if raw_id is None:
                raw_id = str(index)
            if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool):
                raise TypeError(f"item {index}: 'id' must be a string or an integer")
            unknown = sorted(set(record) - ITEM_OPTIONS)
            if unknown:
                raise ValueError(
                    f"item {index}: unknown option(s) {', '.join(unknown)}; "
                    f"a record may carry {', '.join(sorted(ITEM_OPTIONS))}"
                )
            item = Item(str(raw_id), prompt, record)
        else:
            raise TypeError(f"item {index} must be a prompt string or a mapping, not {raw!r}")
        if item.id in seen:
            raise ValueError(
                f"duplicate item id {item.id!r} (items {seen[item.id]} and {index}); ids must be unique"
            )
        seen[item.id] = index
        result.append(item)
    return result
