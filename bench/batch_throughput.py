"""Batch throughput on the fake CLI: items per second of ``copilot_sync.batch.run_batch`` at
1, 4 and 16 concurrent sessions (threads) and on a two-worker Dask ``LocalCluster``, beside a
plain loop over ``send_and_wait``.

    .venv/bin/python bench/batch_throughput.py [--items 200] [--think 0.05] [--no-dask]

Every turn of the fake (``copilot_sync.testing.FakeCLI``) "thinks" for ``--think`` seconds
before it replies, standing in for the model. Each row prints wall time, items per second,
the speed-up over the plain loop and the overhead per item: wall time x concurrency / items
minus the think time (what the batch machinery and the CLI round trips add to one item).
Benchmarks print figures; they never assert timings.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable

from copilot_sync import CopilotClient
from copilot_sync.batch import run_batch
from copilot_sync.testing import FakeCLI, Scenario


def plain_loop(prompts: list[str], cli_path: str) -> None:
    with CopilotClient(cli_path=cli_path) as client:
        for prompt in prompts:
            session = client.create_session()
            session.send_and_wait(prompt)
            session.disconnect()


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--think", type=float, default=0.05, help="seconds per turn (default 0.05)")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster row")
    args = parser.parse_args()
    prompts = [f"item {i}" for i in range(args.items)]
    rows: list[tuple[str, int, float]] = []
    work = tempfile.mkdtemp(prefix="batch-bench-")
    with FakeCLI(Scenario(think_time=args.think, streaming_chunks=0)) as fake:
        rows.append(("plain loop, send_and_wait", 1, timed(lambda: plain_loop(prompts, fake.cli_path))))  # fmt: skip
        for workers in (1, 4, 16):
            out = os.path.join(work, f"threads-{workers}.jsonl")
            run = lambda w=workers, o=out: run_batch(  # noqa: E731
                prompts, output=o, workers=w, sessions_per_cli=4, progress=False,
                client_options={"cli_path": fake.cli_path},
            )  # fmt: skip
            rows.append((f"run_batch, threads, workers={workers}", workers, timed(run)))
        if not args.no_dask:
            try:
                import distributed
            except ImportError:
                print("(no Dask row: pip install 'copilot-sync[dask]')", file=sys.stderr)
            else:
                with (
                    distributed.LocalCluster(
                        n_workers=2, threads_per_worker=8, processes=True, host="127.0.0.1",
                        dashboard_address=None, silence_logs=40,
                    ) as cluster,
                    distributed.Client(cluster) as client,
                ):  # fmt: skip
                    out = os.path.join(work, "dask.jsonl")
                    warm = os.path.join(work, "dask-warm.jsonl")
                    options = {"workers": 16, "executor": client.get_executor(), "progress": False,
                               "client_options": {"cli_path": fake.cli_path}}  # fmt: skip
                    run_batch(prompts[:16], output=warm, **options)  # start the workers' CLIs
                    rows.append(("run_batch, Dask 2 workers x 8, workers=16", 16, timed(lambda: run_batch(prompts, output=out, **options))))  # fmt: skip
    loop = rows[0][2]
    print(
        f"{args.items} items, {args.think * 1000:.0f} ms think time per turn, {os.cpu_count()} CPUs"
    )
    print(f"{'setup':<44} {'wall s':>8} {'items/s':>9} {'speed-up':>9} {'overhead/item ms':>17}")
    for name, concurrency, seconds in rows:
        overhead = (seconds * concurrency / args.items - args.think) * 1000
        print(f"{name:<44} {seconds:>8.2f} {args.items / seconds:>9.1f} {loop / seconds:>8.1f}x {overhead:>17.1f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
