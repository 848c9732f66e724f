"""Ref: an option named by import path, for options that cannot be pickled (tools...)."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from typing import Any

__all__ = ["Ref", "resolve_refs"]


@dataclasses.dataclass(frozen=True)
class Ref:
    """A value named by its import path, ``"package.module:attribute"`` (the attribute may be
    dotted: ``"copilot_sync:PermissionHandler.approve_all"``), looked up where the item runs.

    Use it for an option that cannot be pickled when items run in worker processes or on
    Dask, a ``define_tool`` tool for example: ``tools=[Ref("mypkg.tools:get_weather")]``.
    The module must be importable on every worker.
    """

    target: str

    def __post_init__(self) -> None:
        module, sep, attribute = self.target.partition(":")
        if not sep or not module or not attribute:
            raise ValueError(
                f"Ref target must look like 'package.module:attribute', not {self.target!r}"
            )

    def resolve(self) -> Any:
        """Import the module and return the attribute."""
        module, _, attribute = self.target.partition(":")
        value: Any = importlib.import_module(module)
        for part in attribute.split("."):
            value = getattr(value, part)
        return value


def resolve_refs(value: Any) -> Any:
    """``value`` with every :class:`Ref` in it (also inside lists, tuples and dicts) resolved."""
    if isinstance(value, Ref):
        return value.resolve()
    if isinstance(value, (list, tuple)):
        items: list[Any] | tuple[Any, ...] = value  # pyright: ignore[reportUnknownVariableType]
        resolved = [resolve_refs(v) for v in items]
        return resolved if isinstance(value, list) else tuple(resolved)
    if isinstance(value, Mapping):
        mapping: Mapping[Any, Any] = value  # pyright: ignore[reportUnknownVariableType]
        return {k: resolve_refs(v) for k, v in mapping.items()}
    return value
