"""What a client owns outside Python's reach, and what happens to it when the client is
dropped without ``stop()`` or the process forks.

**Dropped clients.** The SDK's own threads (the reader, the lifecycle thread, the
sessions' event threads) reach the client only through weak references
(:func:`weak_method`), so a client nobody holds any more is garbage: collecting it runs
:func:`reap`, which closes the connection, kills the CLI it started and lets its threads
end. A warning is logged, because a program should call ``stop()`` (or use ``with``).

**Fork.** A forked child inherits the client's objects but not its threads, and the CLI
process and pipes are the parent's. A client records the pid that started it
(:attr:`ClientResources.pid`); in any other process every call raises
:class:`ClientStateError` at once, ``stop()``/``force_stop()`` only forget the
resources, and neither the collector nor the exit-time reaper touch the parent's CLI or
connection. Create a new ``CopilotClient`` in the child.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._errors import ClientStateError, ConnectionLostError

if TYPE_CHECKING:
    from ._wire.connection import JsonRpcConnection
    from ._wire.dispatch import EventDispatcher
    from ._wire.process import CLIProcess
    from ._wire.transport import SocketTransport, StdioTransport
    from ._wire.workers import WorkerPool

__all__ = ["ClientResources", "forked_error", "reap", "weak_method"]

logger = logging.getLogger("copilot_sync.client")


def weak_method(method: Callable[..., Any]) -> Callable[..., None]:
    """A callable that calls the bound ``method`` while its object lives, else does nothing.

    Threads that outlive a call (the reader, dispatchers) hold these instead of bound
    methods, so that they never keep a dropped client or session alive.
    """
    ref = weakref.WeakMethod(method)

    def call(*args: Any) -> None:
        target = ref()
        if target is not None:
            target(*args)

    return call


class ClientResources:
    """The process, transport, connection, pool and lifecycle thread of one client.

    Holds no reference to the client, so a ``weakref.finalize`` on the client can take it
    as its argument (a finalizer that referenced the client would keep it alive).
    """

    __slots__ = ("__weakref__", "connection", "lifecycle", "pid", "pool", "process", "transport")

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.connection: JsonRpcConnection | None = None
        self.transport: StdioTransport | SocketTransport | None = None
        self.process: CLIProcess | None = None
        self.pool: WorkerPool | None = None
        self.lifecycle: EventDispatcher | None = None

    @property
    def in_owner_process(self) -> bool:
        return os.getpid() == self.pid

    @property
    def holds_anything(self) -> bool:
        return self.connection is not None or self.process is not None

    def forget(self) -> None:
        self.connection = self.transport = self.process = self.pool = self.lifecycle = None


def forked_error(pid: int) -> ClientStateError:
    return ClientStateError(
        f"this CopilotClient was started in process {pid}, and this is process {os.getpid()} "
        "(a fork): its CLI, pipes and threads belong to the parent. Create a new CopilotClient "
        "in the child process."
    )


def reap(resources: ClientResources) -> None:
    """Finalizer of a client collected without ``stop()``: release what it held, quickly."""
    if not resources.in_owner_process:  # a forked child's copy: the parent's, not ours
        resources.forget()
        return
    if not resources.holds_anything:
        return
    connection, transport, process = resources.connection, resources.transport, resources.process
    pool, lifecycle = resources.pool, resources.lifecycle
    resources.forget()
    logger.warning(
        "a CopilotClient was garbage-collected without stop(); stopping its CLI%s",
        f" (pid {process.pid})" if process is not None else "",
    )
    try:
        if connection is not None:
            connection.close(ConnectionLostError("the client was garbage-collected without stop()"))
        if process is not None:
            process.kill(timeout=1.0)
        if transport is not None:
            transport.close()
        if pool is not None:
            pool.shutdown(wait=None)
        if lifecycle is not None:
            lifecycle.stop(wait=None)
    except Exception:
        logger.exception("could not release a collected client's resources")
