"""CLI clients shared by sessions: a pool per batch (threads) or per worker process."""

from __future__ import annotations

import atexit
import json
import threading
from collections.abc import Mapping
from typing import Any

from .._client import CopilotClient
from .._errors import CLINotFoundError

__all__ = ["ClientPool", "close_worker_clients", "worker_pool"]


class ClientPool:
    """Up to ``sessions_per_cli`` concurrent sessions per :class:`CopilotClient`; a client
    whose CLI died is dropped (force-stopped) and a new one started on the next acquire."""

    def __init__(
        self, client_options: Mapping[str, Any], sessions_per_cli: int, *, install: bool = False
    ) -> None:
        self._options = dict(client_options)
        self._per_cli = sessions_per_cli
        self._install = install
        self._lock = threading.Lock()
        self._active: dict[CopilotClient, int] = {}
        self._closed = False

    def acquire(self) -> CopilotClient:
        """A started client with a free session slot (started here if none has one)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the batch's client pool is closed")
            for client in list(self._active):
                if client.state.value in ("error", "disconnected"):
                    self._drop(client)
            free = [c for c, n in self._active.items() if n < self._per_cli]
            if free:
                client = min(free, key=lambda c: self._active[c])
            else:
                if self._install:
                    self._options = ensure_cli(self._options)
                client = CopilotClient(**self._options)
                client.start()
                self._active[client] = 0
            self._active[client] += 1
            return client

    def release(self, client: CopilotClient, *, broken: bool = False) -> None:
        """Give a slot back; ``broken`` drops the client (its CLI died or misbehaved)."""
        with self._lock:
            if client not in self._active:
                return
            self._active[client] -= 1
            if broken:
                self._drop(client)

    def _drop(self, client: CopilotClient) -> None:
        self._active.pop(client, None)
        try:
            client.force_stop()
        except Exception:  # a client that is already gone cannot be stopped twice
            pass

    def close(self, *, force: bool = False) -> None:
        """Stop every client (``force``: kill their CLIs at once, failing their sessions)."""
        with self._lock:
            self._closed = True
            clients = list(self._active)
            self._active.clear()
        for client in clients:
            try:
                if force:
                    client.force_stop()
                else:
                    client.stop(timeout=5)
            except Exception:
                client.force_stop()


def ensure_cli(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with a ``cli_path`` when neither it nor ``cli_url`` is given and no CLI is
    found: the pinned CLI is installed then (``copilot_sync._install``)."""
    result = dict(options)
    if result.get("cli_path") is not None or result.get("cli_url") is not None:
        return result
    from .._discovery import resolve_cli

    try:
        resolve_cli(env=result.get("env"))
    except CLINotFoundError:
        from .._install import install_cli

        result["cli_path"] = str(install_cli().executable)
    return result


_PROCESS_POOLS: dict[str, ClientPool] = {}
_PROCESS_LOCK = threading.Lock()
_AT_EXIT: list[bool] = []  # non-empty once close_worker_clients is registered with atexit


def worker_pool(client_options: Mapping[str, Any], sessions_per_cli: int) -> ClientPool:
    """This process's pool for these client options, kept alive across items and closed
    at interpreter exit (or by :func:`close_worker_clients`)."""
    key = json.dumps([client_options, sessions_per_cli], sort_keys=True, default=repr)
    with _PROCESS_LOCK:
        pool = _PROCESS_POOLS.get(key)
        if pool is None:
            if not _AT_EXIT:
                atexit.register(close_worker_clients)
                _AT_EXIT.append(True)
            pool = _PROCESS_POOLS[key] = ClientPool(client_options, sessions_per_cli, install=True)
        return pool


def close_worker_clients() -> None:
    """Stop the CLI clients this process keeps for batch items run on an executor."""
    with _PROCESS_LOCK:
        pools = list(_PROCESS_POOLS.values())
        _PROCESS_POOLS.clear()
    for pool in pools:
        pool.close()
