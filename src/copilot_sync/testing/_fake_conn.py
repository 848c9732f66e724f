"""One SDK connection of the fake CLI: a frame reader plus a locked writer (no engine, no server)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from copilot_sync._wire.framing import encode_frame

from ._fake_records import RpcError, dumps

__all__ = ["Conn"]

logger = logging.getLogger("copilot_sync.testing")

CHUNK = 256 * 1024


class Conn:
    """One SDK connection: a frame reader plus a locked writer. Index 0 is the stdio pipe."""

    def __init__(
        self, index: int, rfile: Any, write: Callable[[bytes], Any], close_out: Callable[[], Any]
    ) -> None:
        self.index = index
        self.rfile = rfile
        self._write = write
        self._close_out = close_out
        self._lock = threading.Lock()
        self.alive = True
        self.out_open = True
        self.authed = False
        self._ids = 0
        self.pending: dict[int, list[Any]] = {}  # server request id -> [Event, response]

    def write(self, data: bytes) -> bool:
        """Write bytes (whole frames or raw junk); False when the peer is gone."""
        with self._lock:
            if not self.out_open:
                return False
            try:
                if len(data) <= CHUNK:
                    self._write(data)
                else:
                    for start in range(0, len(data), CHUNK):
                        self._write(data[start : start + CHUNK])
                return True
            except (OSError, ValueError) as exc:
                logger.debug("connection %d: write failed: %s", self.index, exc)
                self.out_open = False
                return False

    def send(self, msg: dict[str, Any]) -> bool:
        return self.write(encode_frame(dumps(msg)))

    def respond(self, msg_id: Any, result: Any = None, error: RpcError | None = None) -> None:
        if error is not None:
            self.send({"jsonrpc": "2.0", "id": msg_id, "error": error.to_wire()})
        else:
            self.send({"jsonrpc": "2.0", "id": msg_id, "result": result})

    def close_output(self) -> None:
        with self._lock:
            if self.out_open:
                self.out_open = False
                try:
                    self._close_out()
                except OSError:
                    pass

    def request(self, method: str, params: Any, timeout: float) -> dict[str, Any]:
        """A server-to-client request (ids 1, 2, 3... per connection); returns the response message."""
        slot: list[Any] = [threading.Event(), None]
        with self._lock:
            self._ids += 1
            rid = self._ids
            self.pending[rid] = slot
        if not self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}):
            self.pending.pop(rid, None)
            raise ConnectionError(f"connection {self.index} is closed")
        if not slot[0].wait(timeout):
            self.pending.pop(rid, None)
            raise TimeoutError(f"no response to {method} (id {rid}) within {timeout}s")
        if slot[1] is None:
            raise ConnectionError(
                f"connection {self.index} closed before answering {method} (id {rid})"
            )
        response: dict[str, Any] = slot[1]
        return response

    def resolve(self, msg: dict[str, Any]) -> None:
        msg_id = msg.get("id")
        slot = self.pending.pop(msg_id, None) if isinstance(msg_id, int) else None
        if slot is None:
            logger.warning(
                "connection %d: response to unknown request id %r", self.index, msg.get("id")
            )
            return
        slot[1] = msg
        slot[0].set()

    def closed(self) -> None:
        self.alive = False
        for slot in list(self.pending.values()):
            slot[0].set()
        self.pending.clear()
