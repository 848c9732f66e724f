"""One rule for every ``timeout=`` the SDK takes, and one deadline per blocking call.

The rule (checked before anything is sent):

* ``None`` means no limit: the call waits as long as it takes (Ctrl-C still works);
* otherwise the timeout is a real number of seconds, finite and greater than zero
  (``int`` or ``float``; ``bool`` is refused although it is an ``int``);
* anything else (``0``, ``-1``, ``nan``, ``inf``, ``"5"``...) raises ``ValueError``
  naming the argument, before the call has any effect.

A blocking call that does several things (write a request, wait for the answer, wait for
the turn's ``session.idle``) takes one :class:`Deadline` when it starts and gives each step
only what is left of it, so ``timeout=2`` means two seconds for the whole call.

Waits are sliced (:data:`WAIT_SLICE`) so that Ctrl-C reaches the main thread promptly,
and every slice is cut to the time left, so a wait ends within a few milliseconds of its
deadline.
"""

from __future__ import annotations

import math
import time
from typing import Any

__all__ = ["WAIT_SLICE", "Deadline", "check_timeout", "wait_interruptibly"]

#: Waits happen in slices at most this long so that Ctrl-C is delivered promptly.
WAIT_SLICE = 0.25

_monotonic = time.monotonic


def check_timeout(timeout: Any, name: str = "timeout") -> float | None:
    """``timeout`` as a float, or ``None`` for no limit; ``ValueError`` for anything else."""
    if timeout is None:
        return None
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or math.isnan(timeout)
        or math.isinf(timeout)
        or timeout <= 0
    ):
        raise ValueError(
            f"{name} must be a positive, finite number of seconds, or None for no limit; got {timeout!r}"
        )
    return float(timeout)


class Deadline:
    """The end of one blocking call: ``Deadline(timeout)`` (``None``: no end).

    ``remaining()`` is what is left (``None`` without a limit, never negative);
    ``expired`` says whether it has passed.
    """

    __slots__ = ("end", "timeout")

    def __init__(self, timeout: float | None) -> None:
        self.timeout: float | None = timeout
        self.end: float | None = None if timeout is None else _monotonic() + timeout

    @classmethod
    def checked(cls, timeout: Any, name: str = "timeout") -> Deadline:
        """Validate ``timeout`` with :func:`check_timeout`, then start the deadline."""
        return cls(check_timeout(timeout, name))

    def remaining(self) -> float | None:
        end = self.end
        if end is None:
            return None
        return max(0.0, end - _monotonic())

    @property
    def expired(self) -> bool:
        end = self.end
        return end is not None and _monotonic() >= end

    def __repr__(self) -> str:
        left = self.remaining()
        return (
            "<Deadline none>"
            if left is None
            else f"<Deadline {left:.3f}s left of {self.timeout:g}s>"
        )


def wait_interruptibly(lock: Any, timeout: float | None) -> bool:
    """Acquire ``lock`` (a held ``_thread.lock`` used as a one-shot signal) within ``timeout``.

    Waits in slices of at most :data:`WAIT_SLICE` so that a KeyboardInterrupt reaches the
    main thread promptly; the deadline is fixed before the first slice, so the wait never
    runs past it by more than the scheduler's latency.
    """
    if timeout is None:
        while not lock.acquire(timeout=WAIT_SLICE):
            pass
        return True
    end = _monotonic() + timeout
    while True:
        remaining = end - _monotonic()
        if remaining <= 0:
            return bool(lock.acquire(blocking=False))
        if lock.acquire(timeout=min(remaining, WAIT_SLICE)):
            return True
