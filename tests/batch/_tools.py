"""A module-level tool for the batch tests (named by ``Ref`` in worker processes)."""

from __future__ import annotations

from copilot_sync import define_tool


@define_tool
def word_count(text: str) -> int:
    """How many words ``text`` has."""
    return len(text.split())
