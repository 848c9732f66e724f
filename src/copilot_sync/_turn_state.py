"""One turn in a session's queue of turns (:mod:`._turn_queue`), as the SDK keeps it: how
its outcome is reported, where it is in its life, and the clocks that bound it."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._futures import TurnFuture
    from ._idle_timeout import IdleTimeout
    from ._turn_queue import SessionTurns
    from ._turns import StreamSink, TurnEnd, TurnWaiter
    from ._wire.timeouts import Deadline

__all__ = ["DONE", "NEW", "QUEUED", "SENT", "STARTING", "Turn"]

NEW = "new"  # built, not yet handed to the queue
QUEUED = "queued"  # waiting in the SDK's queue, not sent
STARTING = "starting"  # next in line; about to be sent
SENT = "sent"  # session.send written: the turn is on the CLI
DONE = "done"  # out of the queue for good (finished, dropped, or the session closed)


class Turn:
    """The SDK's side of one queued turn. Guarded by its ``SessionTurns`` lock.

    Exactly one way to report the outcome: a ``TurnFuture`` (``send_async``), a one-shot
    ``signal`` the blocking caller waits on (``send_and_wait``), or a stream ``sink``."""

    __slots__ = (
        "abort_sent",
        "answered",
        "call_deadline",
        "cancel_requested",
        "deadline",
        "end",
        "future",
        "idle",
        "interrupted",
        "message_id",
        "outcome",
        "owner",
        "payload",
        "settled",
        "signal",
        "sink",
        "state",
        "timeout",
        "waiter",
    )  # fmt: skip

    def __init__(
        self,
        owner: SessionTurns,
        payload: dict[str, Any],
        *,
        future: TurnFuture | None = None,
        sink: StreamSink | None = None,
        timeout: float | None = None,
        call_deadline: Deadline | None = None,
        idle: IdleTimeout | None = None,
    ) -> None:
        self.owner: SessionTurns = owner
        self.call_deadline: Deadline | None = (
            call_deadline  # a blocking call's deadline: it also bounds the write
        )
        self.idle: IdleTimeout | None = idle  # idle_timeout=: started when the message is sent
        self.future: TurnFuture | None = future
        self.sink: StreamSink | None = sink
        self.signal: Any = None
        if future is None and sink is None:
            self.signal = threading.Lock()
            self.signal.acquire()  # released once, when the outcome is known
        self.payload: dict[str, Any] = payload
        self.timeout: float | None = timeout  # send_async only: counts from the send
        self.state: str = NEW
        self.waiter: TurnWaiter | None = None  # decides the outcome (set when sent)
        self.end: TurnEnd | None = None  # tells when the CLI's turn is over (set when sent)
        self.answered: bool = False  # the session.send answer (or its failure) was handled
        self.settled: bool = False  # the outcome is decided (reported, or nobody wants it any more)
        self.cancel_requested: bool = False
        self.abort_sent: bool = False
        self.interrupted: bool = False  # Ctrl-C: never send it (a plain flag: set without the lock)
        self.deadline: list[Any] | None = (
            None  # send_async's timer (its timeout, or its idle checks)
        )
        self.outcome: Any = None  # for the blocking caller: the answer, or the exception to raise
        self.message_id: str | None = None
