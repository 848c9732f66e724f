"""Progress display: a tqdm bar, periodic log lines, or a caller's callback."""

from __future__ import annotations

import dataclasses
import importlib
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["BatchProgress", "ProgressOption", "ProgressReporter"]

_log = logging.getLogger("copilot_sync.batch")


@dataclasses.dataclass(frozen=True)
class BatchProgress:
    """A snapshot of a running batch: items to run this time (``total``), finished ones
    (``done`` = ``ok`` + ``failed``), attempts waiting for a retry, seconds elapsed, the
    rate (items per second) and the estimated seconds left (``None`` before any is done)."""

    total: int
    ok: int
    failed: int
    retrying: int
    elapsed: float

    @property
    def done(self) -> int:
        """Items finished this run (ok or failed)."""
        return self.ok + self.failed

    @property
    def rate(self) -> float:
        """Items finished per second."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Estimated seconds until every item is finished."""
        return (self.total - self.done) / self.rate if self.rate > 0 else None

    def line(self) -> str:
        """One human-readable line."""
        eta = "?" if self.eta is None else f"{self.eta:.0f}s"
        return (
            f"{self.done}/{self.total} done ({self.failed} failed, {self.retrying} retrying), "
            f"{self.rate:.2f} items/s, ETA {eta}"
        )


ProgressOption = bool | None | Callable[[BatchProgress], None]


def _in_jupyter() -> bool:
    shell = sys.modules.get("IPython")
    get_ipython = getattr(shell, "get_ipython", None) if shell is not None else None
    instance: Any = get_ipython() if callable(get_ipython) else None
    return instance is not None and "zmq" in type(instance).__module__.lower()


class ProgressReporter:
    """Shows progress the way ``progress=`` asks (see :func:`copilot_sync.batch.run_batch`)."""

    def __init__(self, option: ProgressOption, total: int, *, interval: float = 5.0) -> None:
        self._callback = option if callable(option) else None
        self._total = total
        self._interval = interval
        self._started = time.monotonic()
        self._last_log = self._started
        self._bar: Any = None
        self._logging = False
        if self._callback is None and option is not False:
            tty = sys.stderr.isatty() or _in_jupyter()
            tqdm: Any = None
            try:
                tqdm = importlib.import_module("tqdm.auto").tqdm
            except ImportError:
                pass
            if tqdm is not None and (option is True or tty):
                self._bar = tqdm(total=total, unit="item", dynamic_ncols=True)
            else:
                self._logging = True

    def update(self, ok: int, failed: int, retrying: int, *, final: bool = False) -> None:
        """Report the current counts."""
        snap = BatchProgress(self._total, ok, failed, retrying, time.monotonic() - self._started)
        if self._callback is not None:
            self._callback(snap)
        if self._bar is not None:
            self._bar.n = snap.done
            self._bar.set_postfix(failed=failed, retrying=retrying, refresh=False)
            self._bar.refresh()
        if self._logging:
            now = time.monotonic()
            if final or now - self._last_log >= self._interval:
                self._last_log = now
                _log.info("batch: %s", snap.line())

    def close(self) -> None:
        """Close the bar, if any."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
