"""The fake CLI's controller commands (from :class:`~._fake_cli.FakeCLI` over the control
link: emit events, send requests, exit, stall...); a mixin of :class:`~._fake_engine.Engine`."""

from __future__ import annotations

import base64
import logging
from typing import TYPE_CHECKING, Any

from .._fields import is_object
from ._fake_engine_state import EngineState
from ._fake_records import AUTO

if TYPE_CHECKING:
    from ._fake_conn import Conn

__all__ = ["EngineControl"]

logger = logging.getLogger("copilot_sync.testing")


class EngineControl(EngineState):
    """Part of :class:`~._fake_engine.Engine` (its state is set up there)."""

    # ------------------------------------------------------------------ controller commands

    def _latest_conn(self, sid: Any = None) -> Conn:
        with self.lock:
            sess = self.sessions.get(sid) if isinstance(sid, str) else None
            for conn in reversed(sess.conns if sess is not None else []):
                if conn.alive:
                    return conn
            for conn in reversed(self.conns):
                if conn.alive:
                    return conn
        raise RuntimeError("no SDK connection is open")

    def execute(self, op: Any, cmd: dict[str, Any]) -> Any:
        """Run one controller command (``cmd`` holds its fields); returns the ack's result."""
        if op == "emit":
            spec = dict(cmd["event"])
            if "parentId" not in spec:
                spec["parentId"] = AUTO
            ids = self.emit_many(cmd["sessionId"], [spec], require_conn=True)
            return {"id": ids[0]}
        if op == "emit_many":
            return {
                "ids": self.emit_many(cmd["sessionId"], cmd.get("events") or [], require_conn=True)
            }
        if op == "emit_deltas":
            ids = self.emit_deltas(
                cmd["sessionId"],
                int(cmd["n"]),
                cmd["messageId"],
                cmd.get("text", "{i}"),
                bool(cmd.get("ephemeral", True)),
            )
            return {"lastId": ids[-1] if ids else None}
        if op == "notify":
            count = self.broadcast(cmd["method"], cmd.get("params"))
            if not count:
                raise RuntimeError("no SDK connection is open")
            return {"connections": count}
        if op == "request":
            params = cmd.get("params")
            conn = self._latest_conn(params.get("sessionId") if is_object(params) else None)
            return {
                "response": conn.request(
                    cmd["method"], cmd.get("params"), float(cmd.get("seconds", 5))
                )
            }
        if op == "send_raw":
            if not self._latest_conn().write(base64.b64decode(cmd.get("b64", ""))):
                raise RuntimeError("the SDK connection is closed")
            return {}
        if op == "close_stdout":
            self._latest_conn().close_output()
            return {}
        if op == "exit":
            return {}
        if op == "set":
            self.apply_setting(cmd)
            return {}
        if op == "sessions":
            return {
                s.id: {
                    "known": s.known,
                    "active": s.active,
                    "events": len(s.history),
                    "running": s.running,
                }
                for s in list(self.sessions.values())
            }
        raise ValueError(f"unknown command {op!r}")

    def apply_setting(self, cmd: dict[str, Any]) -> None:
        """``set``: ``reply`` or ``turn_error`` for one session (``sessionId``) or all (None)."""
        key, sid, value = cmd.get("key"), cmd.get("sessionId"), cmd.get("value")
        with self.lock:
            if key == "reply":
                if sid is None:
                    self.reply_text = value
                elif value is None:
                    self.replies.pop(sid, None)
                else:
                    self.replies[sid] = value
            elif key == "turn_error":
                if sid is None:
                    self.turn_error = value
                elif value is None:
                    self.turn_errors.pop(sid, None)
                else:
                    self.turn_errors[sid] = value
            else:
                raise ValueError(f"unknown setting {key!r}")
