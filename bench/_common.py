"""Helpers shared by the bench workers (standard library only: both venvs import this)."""

from __future__ import annotations

import argparse
import json
import resource
import sys
from typing import Any


def proc_status_kb(field: str) -> int:
    """A ``/proc/self/status`` figure in kB (``VmRSS``, ``VmHWM``...)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100.0 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def latency_summary(values: list[float], prefix: str) -> dict[str, float]:
    return {
        f"{prefix}_p50_ms": percentile(values, 50) * 1e3,
        f"{prefix}_p99_ms": percentile(values, 99) * 1e3,
        f"{prefix}_mean_ms": sum(values) / len(values) * 1e3 if values else float("nan"),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("workload")
    parser.add_argument("--cli", required=True, help="the CLI executable to spawn")
    parser.add_argument("--params", default="{}", help="workload parameters (JSON)")
    parser.add_argument("--env", default=None, help="JSON object: extra environment for the CLI")
    args = parser.parse_args(argv)
    args.params = json.loads(args.params)
    args.env = json.loads(args.env) if args.env else None
    return args


def emit(result: dict[str, Any]) -> None:
    """The worker's answer: one JSON line, the last line of stdout."""
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()


def report_of(content: str | None) -> dict[str, Any]:
    """The JSON report in a ``bench:`` turn's reply; raises if the fake reported an error."""
    if not content:
        raise RuntimeError("the bench turn returned no report")
    report: dict[str, Any] = json.loads(content)
    if "error" in report:
        raise RuntimeError(f"the fake CLI reported: {report['error']}")
    return report
