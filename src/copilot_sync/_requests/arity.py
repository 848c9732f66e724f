"""``check_arity``: a handler's signature checked when it is registered, not when the CLI calls it."""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["check_arity"]


def check_arity(fn: Any, count: int, what: str) -> None:
    """``TypeError`` now, naming ``what``, if ``fn`` cannot be called with ``count`` positional arguments."""
    if not callable(fn):
        raise TypeError(f"{what} must be callable, not {type(fn).__name__}")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # some builtins have no signature: trust them
    try:
        signature.bind(*range(count))
    except TypeError:
        raise TypeError(
            f"{what} must accept {count} positional argument{'s' if count != 1 else ''}; {fn!r} has signature {signature}"
        ) from None
