"""What a test tells a running fake CLI to do (emit events, send requests, exit, set replies...)
over the control link; a mixin of :class:`~._fake_cli.FakeCLI`."""

from __future__ import annotations

import base64
import os
import signal
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ._fake_scenario import (
    FakeCLIError,
    FakeCLITimeout,
)

if TYPE_CHECKING:
    import itertools
    import threading

    from ._fake_cli import Instance

__all__ = ["FakeCLICommands"]


class FakeCLICommands:
    """Part of :class:`~._fake_cli.FakeCLI` (its state is set up there)."""

    if TYPE_CHECKING:  # FakeCLI's state and methods this part uses
        _cids: itertools.count[int]
        _cond: threading.Condition
        _closed: bool
        _acks: dict[int, dict[str, Any] | None]
        _settings: list[dict[str, Any]]
        _instances: list[Instance]

        def wait_for_exit(
            self, timeout: float = 5.0, *, instance: Instance | int | None = None
        ) -> None: ...
        def _send_control(self, inst: Instance, obj: dict[str, Any]) -> None: ...
        def _target(self, instance: Instance | int | None) -> Instance: ...

    # ------------------------------------------------------------------ commands

    def _command(
        self,
        op: str,
        *,
        instance: Instance | int | None = None,
        timeout: float = 10.0,
        **fields: Any,
    ) -> Any:
        inst = self._target(instance)
        cid = next(self._cids)
        with self._cond:
            if not inst.alive or self._closed:
                raise FakeCLIError(
                    f"fake CLI instance #{inst.index} (pid {inst.pid}) is not running; cannot {op}"
                )
            self._acks[cid] = None
        try:
            self._send_control(inst, {"t": "cmd", "cid": cid, "op": op, **fields})
            deadline = time.monotonic() + timeout
            with self._cond:
                while self._acks[cid] is None:
                    if not inst.alive:
                        raise FakeCLIError(
                            f"fake CLI instance #{inst.index} (pid {inst.pid}) exited before "
                            f"acknowledging {op}"
                        )
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise FakeCLITimeout(
                            f"fake CLI instance #{inst.index} did not acknowledge {op} within {timeout}s"
                        )
                    self._cond.wait(remaining)
                ack = self._acks[cid]
        except OSError as exc:
            raise FakeCLIError(
                f"fake CLI instance #{inst.index} (pid {inst.pid}) is not reachable: {exc}"
            ) from exc
        finally:
            with self._cond:
                self._acks.pop(cid, None)
        assert ack is not None
        if not ack.get("ok"):
            kind = ack.get("kind")
            cls = FakeCLITimeout if kind == "TimeoutError" else FakeCLIError
            raise cls(f"fake CLI instance #{inst.index} could not {op}: {kind}: {ack.get('error')}")
        return ack.get("result")

    def emit(
        self,
        session_id: str,
        type: str,
        data: Any = None,
        *,
        ephemeral: bool | None = None,
        agent_id: str | None = None,
        parent_id: Any = ...,
        id: str | None = None,
        instance: Instance | int | None = None,
    ) -> str:
        """Emit one ``session.event`` to the session's connections; returns the event id.

        ``parent_id``: ``...`` chains to the previous event of the session, ``None`` sends null.
        """
        event: dict[str, Any] = {"type": type, "data": data}
        if ephemeral is not None:
            event["ephemeral"] = ephemeral
        if agent_id is not None:
            event["agentId"] = agent_id
        if parent_id is not ...:
            event["parentId"] = parent_id
        if id is not None:
            event["id"] = id
        event_id: str = self._command("emit", instance=instance, sessionId=session_id, event=event)[
            "id"
        ]
        return event_id

    def emit_many(
        self,
        session_id: str,
        items: Iterable[tuple[str, Any] | dict[str, Any]],
        *,
        instance: Instance | int | None = None,
        timeout: float = 60.0,
    ) -> list[str]:
        """Emit events back to back (one command); items are ``(type, data)`` or event dicts
        (``type``, ``data``, ``ephemeral``, ``agentId``, ``id``, ``parentId``). Returns the ids."""
        specs = [
            {"type": i[0], "data": i[1] if len(i) > 1 else None}
            if isinstance(i, tuple)
            else dict(i)
            for i in items
        ]
        ids: list[str] = self._command(
            "emit_many", instance=instance, timeout=timeout, sessionId=session_id, events=specs
        )["ids"]
        return ids

    def emit_deltas(
        self,
        session_id: str,
        n: int,
        message_id: str | None = None,
        text: str = "{i}",
        *,
        ephemeral: bool = True,
        instance: Instance | int | None = None,
        timeout: float = 120.0,
    ) -> str:
        """Emit ``n`` ``assistant.message_delta`` events generated by the fake itself.

        ``deltaContent`` is ``text`` with ``{i}`` replaced by the delta's index (0-based).
        Returns the ``messageId`` used. Returns when all were written (the SDK must be reading).
        """
        message_id = message_id or str(uuid.uuid4())
        self._command(
            "emit_deltas",
            instance=instance,
            timeout=timeout,
            sessionId=session_id,
            n=n,
            messageId=message_id,
            text=text,
            ephemeral=ephemeral,
        )
        return message_id

    def notify(
        self, method: str, params: Any = None, *, instance: Instance | int | None = None
    ) -> None:
        """Send a notification to every connection of the instance."""
        self._command("notify", instance=instance, method=method, params=params)

    def request(
        self,
        method: str,
        params: Any = None,
        timeout: float = 5.0,
        *,
        instance: Instance | int | None = None,
    ) -> dict[str, Any]:
        """Send a server-to-client request (to the connection of ``params.sessionId`` if any, else the
        latest connection) and return the SDK's response message (with ``result`` or ``error``)."""
        response: dict[str, Any] = self._command(
            "request",
            instance=instance,
            timeout=timeout + 5.0,
            method=method,
            params=params,
            seconds=timeout,
        )["response"]
        return response

    def send_raw(self, data: bytes, *, instance: Instance | int | None = None) -> None:
        """Write raw bytes to the latest connection."""
        self._command(
            "send_raw", instance=instance, b64=base64.b64encode(bytes(data)).decode("ascii")
        )

    def close_stdout(self, *, instance: Instance | int | None = None) -> None:
        """Close the output of the latest connection (stdout in stdio mode)."""
        self._command("close_stdout", instance=instance)

    def kill(self, sig: int = signal.SIGKILL, *, instance: Instance | int | None = None) -> None:
        """Send ``sig`` to the instance's process; for SIGKILL and SIGTERM, wait until it is gone."""
        inst = self._target(instance)
        if not inst.alive:
            raise FakeCLIError(
                f"fake CLI instance #{inst.index} (pid {inst.pid}) is not running; cannot kill it"
            )
        os.kill(inst.pid, sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            self.wait_for_exit(5.0, instance=inst)

    def exit(self, code: int = 0, *, instance: Instance | int | None = None) -> None:
        """Make the instance exit with ``code``; returns when it is gone."""
        inst = self._target(instance)
        self._command("exit", instance=inst, code=code)
        self.wait_for_exit(5.0, instance=inst)

    def set_reply(self, text: str | None, session_id: str | None = None) -> None:
        """Reply text for later turns (``{prompt}`` is substituted); None restores the default."""
        self._set("reply", text, session_id)

    def set_turn_error(self, message: str | None, session_id: str | None = None) -> None:
        """Make later turns fail with ``session.error{errorType:"query", message}``; None stops it."""
        self._set("turn_error", message, session_id)

    def _set(self, key: str, value: str | None, session_id: str | None) -> None:
        setting = {"key": key, "sessionId": session_id, "value": value}
        with self._cond:
            self._settings.append(setting)
            live = [i for i in self._instances if i.alive]
        for inst in live:
            try:
                self._command("set", instance=inst, key=key, sessionId=session_id, value=value)
            except FakeCLIError:
                if inst.alive:
                    raise

    def sessions(self, *, instance: Instance | int | None = None) -> dict[str, Any]:
        """Debug view of the instance's sessions."""
        view: dict[str, Any] = self._command("sessions", instance=instance)
        return view
