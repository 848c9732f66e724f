"""BatchRunner: schedule attempts on an executor, retry with backoff, write each record once."""

from __future__ import annotations

import concurrent.futures as cf
import heapq
import logging
import multiprocessing
import os
import pickle
import random
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal

from ._clients import ClientPool
from ._items import Item, normalise_items
from ._progress import ProgressOption, ProgressReporter
from ._results import ResultsFile
from ._summary import BatchSummary
from ._work import RECORD_KEYS, SEND_OPTIONS, Task, run_attempt, run_task

__all__ = ["BatchRunner", "ExecutorOption"]

_log = logging.getLogger("copilot_sync.batch")

ExecutorOption = cf.Executor | Literal["threads", "processes"] | None


def _check_picklable(name: str, value: Any) -> None:
    try:
        pickle.dumps(value)
    except Exception as exc:
        raise TypeError(
            f"{name} cannot be sent to worker processes ({type(exc).__name__}: {exc}); with a "
            "process or Dask executor, tools, handlers and response_format must be picklable: "
            "module-level functions and classes, and plain data; name anything else by import path with "
            "copilot_sync.batch.Ref('package.module:name') (a define_tool tool, for one)"
        ) from exc


class BatchRunner:
    """Runs one agent over many items; iterate over it to get each record as it is written.

    The arguments are those of :func:`copilot_sync.batch.run_batch`. Iterating runs the
    batch (once); :attr:`summary` is set when the iteration ends, normally or not.
    """

    def __init__(
        self,
        items: Iterable[str | Mapping[str, Any]],
        *,
        output: str | os.PathLike[str],
        workers: int = 4,
        sessions_per_cli: int = 4,
        executor: ExecutorOption = None,
        retries: int = 3,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        rerun_errors: bool = False,
        progress: ProgressOption = None,
        client_options: Mapping[str, Any] | None = None,
        **session_options: Any,
    ) -> None:
        for name, value, low in (("workers", workers, 1), ("sessions_per_cli", sessions_per_cli, 1), ("retries", retries, 0)):  # fmt: skip
            if not isinstance(value, int) or isinstance(value, bool) or value < low:  # pyright: ignore[reportUnnecessaryIsInstance]
                raise ValueError(f"{name} must be an integer >= {low}, not {value!r}")
        if backoff < 0 or max_backoff < 0:
            raise ValueError("backoff and max_backoff must not be negative")
        if isinstance(executor, str) and executor not in ("threads", "processes"):
            raise ValueError(
                f"executor must be an Executor, 'threads' or 'processes', not {executor!r}"
            )
        self.items: list[Item] = normalise_items(items)
        self.output: str = os.fspath(output)
        self.workers = workers
        self.sessions_per_cli = sessions_per_cli
        self.executor = executor
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.rerun_errors = rerun_errors
        self.progress = progress
        self.client_options: dict[str, Any] = dict(client_options or {})
        self.send_options: dict[str, Any] = {
            k: v for k, v in session_options.items() if k in SEND_OPTIONS
        }
        self.session_options: dict[str, Any] = {
            k: v for k, v in session_options.items() if k not in SEND_OPTIONS
        }
        self.summary: BatchSummary | None = None
        self._started = False
        if executor not in (None, "threads"):
            for name, value in {**self.session_options, **self.send_options}.items():
                _check_picklable(f"session option {name}={value!r}", value)
            _check_picklable("client_options", self.client_options)

    def _task(self, item: Item, attempt: int) -> Task:
        send = {**self.send_options, **{k: v for k, v in item.options.items() if k in SEND_OPTIONS}}
        session = dict(self.session_options)
        if "model" in item.options:
            session["model"] = item.options["model"]
        return Task(item.id, item.prompt, attempt, send, session, self.client_options, self.sessions_per_cli)  # fmt: skip

    def _delay(self, attempt: int) -> float:
        """Exponential backoff with jitter: ``backoff * 2**(attempt-1)``, times 0.5-1.5, capped."""
        return float(
            min(self.max_backoff, self.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.5))
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._started:
            raise RuntimeError("a BatchRunner runs once; make a new one to run again")
        self._started = True
        return self._run()

    def _run(self) -> Iterator[dict[str, Any]]:
        results = ResultsFile(self.output)
        latest = results.latest()
        todo = [
            item
            for item in self.items
            if item.id not in latest
            or (self.rerun_errors and latest[item.id].get("status") == "error")
        ]
        skipped = len(self.items) - len(todo)
        written: dict[str, dict[str, Any]] = {}
        reporter = ProgressReporter(self.progress, len(todo))
        pool: ClientPool | None = None
        executor: cf.Executor
        owned = self.executor in (None, "threads", "processes")
        if self.executor in (None, "threads"):
            pool = ClientPool(self.client_options, self.sessions_per_cli)
            executor = cf.ThreadPoolExecutor(self.workers, thread_name_prefix="copilot-batch")
        elif self.executor == "processes":
            executor = self._process_pool()
        else:
            assert isinstance(self.executor, cf.Executor)
            executor = self.executor
        queue: list[tuple[Item, int]] = [(item, 1) for item in reversed(todo)]
        delayed: list[tuple[float, int, Item, int]] = []  # (ready at, tie, item, attempt)
        # each attempt in flight: its item, attempt number, and the executor that runs it
        inflight: dict[cf.Future[dict[str, Any]], tuple[Item, int, cf.Executor]] = {}
        counts = {"ok": 0, "failed": 0}
        clean = False
        try:
            while queue or delayed or inflight:
                now = time.monotonic()
                while len(inflight) < self.workers and (
                    queue or (delayed and delayed[0][0] <= now)
                ):
                    if delayed and delayed[0][0] <= now:
                        _, _, item, attempt = heapq.heappop(delayed)
                    else:
                        item, attempt = queue.pop()
                    task = self._task(item, attempt)
                    if pool is not None:
                        future = executor.submit(run_attempt, task, pool)
                    else:
                        future = executor.submit(run_task, task)
                    inflight[future] = (item, attempt, executor)
                wait_for = 0.5 if not delayed else max(0.0, min(0.5, delayed[0][0] - now))
                done, _ = cf.wait(list(inflight), timeout=wait_for, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    item, attempt, ran_on = inflight.pop(future)
                    try:
                        outcome = future.result()
                    except cf.BrokenExecutor as exc:
                        if self.executor != "processes":
                            raise  # a caller's broken pool: the rest is left for a rerun
                        if ran_on is executor:  # replace the broken pool once
                            executor.shutdown(wait=False, cancel_futures=True)
                            executor = self._process_pool()
                        outcome = self._lost(item, exc)
                    except Exception as exc:  # the worker died or the task could not run there
                        outcome = self._lost(item, exc)
                    if outcome.pop("retryable") and attempt <= self.retries:
                        _log.info(
                            "item %s failed (%s), retry %d", item.id, outcome["error_type"], attempt
                        )
                        heapq.heappush(delayed, (time.monotonic() + self._delay(attempt), id(future), item, attempt + 1))  # fmt: skip
                        continue
                    merged = {**outcome, "attempts": attempt}
                    record = {key: merged.get(key) for key in RECORD_KEYS}
                    results.append(record)
                    written[item.id] = record
                    counts["ok" if record["status"] == "ok" else "failed"] += 1
                    reporter.update(counts["ok"], counts["failed"], len(delayed))
                    yield record
                reporter.update(counts["ok"], counts["failed"], len(delayed))
            clean = True
            reporter.update(counts["ok"], counts["failed"], 0, final=True)
        finally:
            for future in inflight:
                future.cancel()
            if pool is not None:
                pool.close(force=not clean)
            if owned:
                executor.shutdown(wait=clean or pool is not None, cancel_futures=True)
            results.close()
            reporter.close()
            final = {**latest, **written}
            given = {item.id for item in self.items}
            self.summary = BatchSummary.from_records(
                (r for i, r in final.items() if i in given),
                ran=len(written),
                skipped=skipped,
                pending=len(given - set(final)),
            )

    @staticmethod
    def _lost(item: Item, exc: BaseException) -> dict[str, Any]:
        return {
            "id": item.id, "status": "error", "text": None, "tool_calls": [], "usage": None,
            "duration": None, "cli_version": None, "error_type": type(exc).__name__,
            "error": f"the worker running this item failed: {exc}", "retryable": True,
        }  # fmt: skip

    def _process_pool(self) -> cf.ProcessPoolExecutor:
        # spawn: a forked child would inherit this process's client threads half-copied
        return cf.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
