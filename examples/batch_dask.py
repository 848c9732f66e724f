"""Batch on a Dask cluster: 200 prompts, a worker killed halfway, a rerun that finishes.

    pip install 'copilot-sync[dask,progress]'
    python examples/batch_dask.py [--items 200] [--out results.jsonl]

Runs offline: the real Copilot CLI talks to a scripted local model (an OpenAI-compatible
server on 127.0.0.1). A two-worker ``distributed.LocalCluster`` (one process per worker)
runs the items; each worker process keeps its own CLI alive across items. Halfway, one
worker process is killed with SIGKILL (its items are retried elsewhere); at three
quarters the coordinator stops, as Ctrl-C would. Every finished item is already in the
results file, one fsynced line each; the rerun runs only the rest, and the file ends with
exactly one record per prompt. See docs/BATCH.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import Any, TypedDict, cast

import distributed

from copilot_sync import find_cli
from copilot_sync.batch import BatchRunner, read_records, run_batch
from copilot_sync.testing import ScriptedModelServer

# distributed has no type annotations: give its two entry points a (loose) type.
LocalCluster = cast("Callable[..., Any]", distributed.LocalCluster)
DaskClient = cast("Callable[..., Any]", distributed.Client)


class RunOptions(TypedDict):
    """The keywords both runs share (``BatchRunner`` and ``run_batch`` take the same ones)."""

    client_options: Mapping[str, Any]
    model: str
    provider: Mapping[str, Any]
    workers: int
    executor: Executor
    timeout: float


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--out", default=None, help="results file (default: a fresh temporary one)")
    args = parser.parse_args()
    out = args.out or os.path.join(tempfile.mkdtemp(prefix="batch-dask-"), "results.jsonl")
    prompts = [f"Summarise document {i} in one line." for i in range(args.items)]
    cli = find_cli()  # the CLI the workers run (installed there if a worker has none)
    env = {**os.environ, **cli.env}
    print("running offline: the real CLI with a scripted local model, on a local Dask cluster")
    with (
        ScriptedModelServer() as model,
        LocalCluster(
            n_workers=2, threads_per_worker=4, processes=True, host="127.0.0.1",
            dashboard_address=None, silence_logs=40,
        ) as cluster,
        DaskClient(cluster) as client,
    ):  # fmt: skip
        options: RunOptions = {
            "client_options": {"cli_path": cli.path, "env": env},
            "model": model.model,
            "provider": model.provider(),
            "workers": 8,
            "executor": client.get_executor(),
            "timeout": 120,
        }
        runner = BatchRunner(prompts, output=out, progress=True, backoff=0.2, **options)
        for written, _record in enumerate(runner, 1):
            if written == len(prompts) // 2:
                pid: int = next(iter(client.run(os.getpid).values()))
                os.kill(pid, signal.SIGKILL)
                print(f"\nkilled Dask worker process {pid} after {written} items", flush=True)
            if written == len(prompts) * 3 // 4:
                print(f"stopping the coordinator after {written} items", flush=True)
                break  # like Ctrl-C: what is in flight is cancelled, nothing half-written
        print(f"first run: {len(list(read_records(out)))} records in {out}")
        summary = run_batch(prompts, output=out, progress=True, **options)
    records = list(read_records(out))
    ids = {record["id"] for record in records}
    print(summary)
    print(f"rerun: {summary.ran} items run, {len(records)} records for {len(ids)} ids")
    return (
        0
        if len(records) == len(ids) == len(prompts) and summary.counts == {"ok": len(prompts)}
        else 1
    )


if __name__ == "__main__":
    sys.exit(main())
