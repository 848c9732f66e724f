"""Stopping a client: ``stop()`` within its budget, ``force_stop()``, the teardown of
sessions, connection, pool and process; a mixin of :class:`~copilot_sync.CopilotClient`."""

from __future__ import annotations

import logging
import time

from typing_extensions import Self

from ._client_state import ClientState
from ._errors import ConnectionLostError, ProcessExitedError, SessionClosedError
from ._lifetime import forked_error
from ._types import ConnectionState
from ._wire.timeouts import check_timeout

__all__ = ["ClientShutdown"]

logger = logging.getLogger("copilot_sync.client")


class ClientShutdown(ClientState):
    """Part of :class:`~copilot_sync.CopilotClient` (its state is set up there)."""

    # ================================================================ stop

    def stop(self, *, timeout: float | None = 15.0) -> list[Exception]:
        """Stop gracefully, within ``timeout`` seconds: disconnect every session, ask a
        CLI this client started to shut down (``runtime.shutdown``), close the connection,
        then make sure the process is gone (SIGTERM, then SIGKILL).

        Never raises for cleanup problems: returns them (an empty list when all went well).
        Safe to call twice, and from inside a handler. In a forked child it only forgets
        the parent's CLI and connection, never touching them.
        """
        timeout = check_timeout(timeout)
        errors: list[Exception] = []
        if self._forget_if_forked():
            return errors
        deadline = time.monotonic() + (timeout if timeout is not None else 1e9)

        def remaining(cap: float) -> float:
            return max(0.001, min(cap, deadline - time.monotonic()))

        with self._state_lock:
            if self._connection is None and self._process is None:
                self._state = ConnectionState.DISCONNECTED
                return errors
            alive = not self._connection_lost()
            for control in list(self._sessions.values()):
                try:
                    if alive and time.monotonic() < deadline:
                        control.session.disconnect(timeout=remaining(5.0))
                    else:
                        control.close(
                            SessionClosedError(
                                f"session {control.session.session_id} was closed: the client stopped"
                            )
                        )
                except Exception as exc:
                    errors.append(exc)
                    control.close(
                        SessionClosedError(
                            f"session {control.session.session_id} was closed: the client stopped"
                        )
                    )
            if self._process is not None and not self._connection_lost():
                try:
                    self._request("runtime.shutdown", {}, timeout=remaining(10.0))
                except Exception as exc:
                    errors.append(exc)
            self._stopping = True
            errors.extend(self._teardown(kill=False, deadline=deadline))
            self._state = ConnectionState.DISCONNECTED
        for error in errors:
            logger.warning("problem while stopping the client: %s", error)
        return errors

    def force_stop(self) -> None:
        """Stop at once: no RPCs, the CLI process is killed first, every waiter fails.
        Never blocks on the CLI (a stopped or stuck CLI included)."""
        if self._forget_if_forked():
            return
        with self._state_lock:
            self._stopping = True
            connection, process = self._connection, self._process
            if connection is not None:  # waiters learn "force-stopped", not the kill's exit code
                connection.close(ConnectionLostError("the client was force-stopped"))
            if process is not None:
                process.kill(timeout=2.0)
            for control in list(self._sessions.values()):
                control.close(
                    SessionClosedError(
                        f"session {control.session.session_id} was closed: the client was force-stopped"
                    ),
                    wait=None,
                )
            self._teardown(kill=True)
            self._state = ConnectionState.DISCONNECTED

    def _forget_if_forked(self) -> bool:
        """In a forked child: drop the parent's resources without touching them (no RPC, no
        kill, no socket shutdown: they are the parent's). True if this process is such a child."""
        resources = self._resources
        if not resources.holds_anything or resources.in_owner_process:
            return False
        resources.forget()
        self._connection = self._transport = self._process = self._pool = None
        self._lifecycle_dispatcher = None
        for control in list(self._sessions.values()):
            control.close(forked_error(resources.pid), wait=None)
        self._sessions.clear()
        self._state = ConnectionState.DISCONNECTED
        return True

    def _teardown(self, *, kill: bool, deadline: float | None = None) -> list[Exception]:
        errors: list[Exception] = []
        self._stopping = True
        connection, transport, process, pool = (
            self._connection,
            self._transport,
            self._process,
            self._pool,
        )
        if connection is not None:
            connection.close(ConnectionLostError("the client was stopped"))
        self._model_http.cancel_all("the client stopped")  # request_handler's requests in flight
        if transport is not None:
            transport.close()

        def left(cap: float) -> float:
            return cap if deadline is None else max(0.0, min(cap, deadline - time.monotonic()))

        if process is not None:
            if kill:
                process.kill(timeout=2.0)
            elif (
                process.wait(left(2.0)) is None
            ):  # the CLI normally exits by itself after runtime.shutdown
                # Escalate within what is left: terminate() takes at most t + min(t, 1) seconds.
                budget = left(6.0)
                if budget < 0.2:
                    code = process.kill(timeout=0.5)
                else:
                    code = process.terminate(timeout=budget - 1.0 if budget >= 2.0 else budget / 2)
                if code is None:
                    errors.append(ProcessExitedError(f"the CLI (pid {process.pid}) did not exit"))
            else:
                process.terminate()
        if connection is not None:
            connection.join(left(1.0))
        if pool is not None:
            pool.shutdown(wait=0.0 if kill else left(2.0))
        for control in list(self._sessions.values()):
            control.close(
                SessionClosedError(
                    f"session {control.session.session_id} was closed: the client stopped"
                ),
                wait=None,
            )
        if self._lifecycle_dispatcher is not None:
            self._lifecycle_dispatcher.stop(wait=1.0)
            self._lifecycle_dispatcher = None
        self._connection = self._transport = self._process = self._pool = None
        self._resources.forget()
        with self._models_lock:
            self._models = None
        return errors

    def __enter__(self) -> Self:
        if self._state is not ConnectionState.CONNECTED:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
