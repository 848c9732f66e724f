"""Run one agent over many inputs: threads, processes or a Dask cluster; resumable.

::

    from copilot_sync.batch import run_batch

    summary = run_batch(
        ["Summarise: ...", {"id": "doc-7", "prompt": "Summarise: ...", "model": "gpt-5"}],
        output="results.jsonl",
        workers=8,
        model="gpt-5-mini",
    )
    print(summary)

Every item ends as one line of ``output`` (JSONL, appended, fsynced). Running again with
the same output runs only the items that have no record yet. See docs/BATCH.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from ._clients import close_worker_clients
from ._items import ITEM_OPTIONS
from ._progress import BatchProgress, ProgressOption
from ._refs import Ref
from ._results import read_records
from ._runner import BatchRunner, ExecutorOption
from ._summary import BatchSummary

__all__ = [
    "ITEM_OPTIONS",
    "BatchProgress",
    "BatchRunner",
    "BatchSummary",
    "Ref",
    "close_worker_clients",
    "read_records",
    "run_batch",
]


def run_batch(
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
) -> BatchSummary:
    """Run every item that has no record in ``output`` yet; block until all are recorded.

    Args:
        items: prompts (``str``) or records ``{"id", "prompt", ...}`` whose other keys are
            per-item options (:data:`ITEM_OPTIONS`: ``model``, ``timeout``,
            ``idle_timeout``, ``response_format``, ``attachments``, ``mode``,
            ``agent_mode``). An item without ``id`` gets its 0-based index as id. A
            duplicate id raises ``ValueError`` before anything runs.
        output: the JSONL results file, appended to (one record per item, see docs/BATCH.md).
        workers: how many sessions run at once.
        sessions_per_cli: how many sessions share one CLI process.
        executor: ``None``/``"threads"`` (a thread pool here, ``ceil(workers /
            sessions_per_cli)`` CLIs), ``"processes"`` (a process pool of ``workers``
            processes owned by the batch, replaced if a worker dies) or any
            ``concurrent.futures.Executor`` (e.g. ``distributed.Client(...).get_executor()``);
            then options must be picklable.
        retries: further attempts for a retryable failure (a CLI or worker that died, a
            timeout, a transient session error), after ``backoff * 2**n`` seconds with
            jitter, at most ``max_backoff``.
        rerun_errors: also run items whose last record is an error (by default an error
            record counts as done).
        progress: ``None`` = a tqdm bar on a terminal or in Jupyter, else log lines on
            the ``copilot_sync.batch`` logger every 5 s; ``True`` forces the bar (when tqdm
            is installed), ``False`` shows nothing; a callable gets a :class:`BatchProgress`
            after every finished item (and about twice a second), in the calling thread.
        client_options: keyword arguments of :class:`copilot_sync.CopilotClient`.
        **session_options: ``create_session`` options (model, provider, tools, handlers...)
            and the ``send_and_wait`` options ``timeout`` (default 300 s), ``idle_timeout``,
            ``response_format``, ``attachments``, ``mode``, ``agent_mode``.

    Returns:
        The :class:`BatchSummary` of the given items' records.

    Ctrl-C cancels what is queued, stops the CLIs and re-raises; every record already
    written stays, and a rerun finishes the rest.
    """
    runner = BatchRunner(
        items,
        output=output,
        workers=workers,
        sessions_per_cli=sessions_per_cli,
        executor=executor,
        retries=retries,
        backoff=backoff,
        max_backoff=max_backoff,
        rerun_errors=rerun_errors,
        progress=progress,
        client_options=client_options,
        **session_options,
    )
    for _ in runner:
        pass
    assert runner.summary is not None
    return runner.summary
