"""The state and methods of :class:`~._fake_engine.Engine` that its parts (``EngineTurns``,
``EngineControl``) use, declared once for the type checkers; ``Engine`` defines them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import threading
    from collections.abc import Iterable

    from ._fake_conn import Conn
    from ._fake_records import Session

__all__ = ["EngineState"]


class EngineState:
    """Attributes and methods of :class:`~._fake_engine.Engine` that its parts use."""

    if TYPE_CHECKING:
        sc: dict[str, Any]
        lock: threading.RLock
        sessions: dict[str, Session]
        conns: list[Conn]
        replies: dict[str, str]
        reply_text: str | None
        turn_error: str | None
        turn_errors: dict[str, str]

        def _live(self, params: dict[str, Any], method: str) -> Session: ...
        def emit(
            self, sid: str | Session, etype: str, data: Any = None, *, copies: int = 1, **spec: Any
        ) -> dict[str, Any]: ...
        def emit_many(
            self, sid: str, specs: Iterable[Any], *, require_conn: bool = False
        ) -> list[str]: ...
        def emit_deltas(
            self, sid: str, n: int, message_id: str, text: str, ephemeral: bool = True
        ) -> list[str]: ...
        def broadcast(self, method: str, params: Any) -> int: ...
