"""Batch on threads: 200 prompts, a CLI killed halfway, a rerun that finishes.

    python examples/batch_threads.py [--items 200] [--out results.jsonl]

Runs offline: the real Copilot CLI talks to a scripted local model (an OpenAI-compatible
server on 127.0.0.1). Eight sessions run at once over two CLI processes (four sessions
each). Halfway, one CLI process is killed with SIGKILL: its sessions fail with
``ConnectionLostError``, are retried with backoff on a fresh CLI, and nothing is lost. At
three quarters the loop stops, as Ctrl-C would; the rerun runs only the items without a
record, and the file ends with exactly one record per prompt. See docs/BATCH.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from typing import Any, TypedDict

from copilot_sync import find_cli
from copilot_sync.batch import BatchRunner, read_records, run_batch
from copilot_sync.testing import ScriptedModelServer


class RunOptions(TypedDict):
    """The keywords both runs share (``BatchRunner`` and ``run_batch`` take the same ones)."""

    client_options: Mapping[str, Any]
    model: str
    provider: Mapping[str, Any]
    workers: int
    sessions_per_cli: int
    timeout: float


def kill_one_cli() -> int | None:
    """SIGKILL one child process of this one (a CLI the batch started); Linux/macOS."""
    found = subprocess.run(["pgrep", "-P", str(os.getpid())], capture_output=True, text=True)
    pids = [int(pid) for pid in found.stdout.split()]
    if not pids:
        return None
    os.kill(pids[0], signal.SIGKILL)
    return pids[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--out", default=None, help="results file (default: a fresh temporary one)")
    args = parser.parse_args()
    out = args.out or os.path.join(tempfile.mkdtemp(prefix="batch-threads-"), "results.jsonl")
    prompts = [f"Summarise document {i} in one line." for i in range(args.items)]
    cli = find_cli()
    print("running offline: the real CLI with a scripted local model, on threads")
    with ScriptedModelServer() as model:
        options: RunOptions = {
            "client_options": {"cli_path": cli.path, "env": {**os.environ, **cli.env}},
            "model": model.model,
            "provider": model.provider(),
            "workers": 8,
            "sessions_per_cli": 4,
            "timeout": 120,
        }
        runner = BatchRunner(prompts, output=out, progress=True, backoff=0.2, **options)
        for written, _record in enumerate(runner, 1):
            if written == len(prompts) // 2:
                print(f"\nkilled CLI process {kill_one_cli()} after {written} items", flush=True)
            if written == len(prompts) * 3 // 4:
                print(f"stopping after {written} items", flush=True)
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
