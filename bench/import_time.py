"""Import time of copilot-sync beside the official async SDK's, measured in the same run.

    python bench/import_time.py [--runs 15] [--official-python PATH]

Each figure is the median wall time of ``import <package>`` in a fresh interpreter
(``-X importtime`` is not used: it slows imports down), and the process's resident memory
(``VmRSS``) right after it. ``bench/run.py`` runs this as its first workload. The official SDK
(``github-copilot-sdk`` from PyPI) is installed into ``bench/.venv-official`` on first
use unless ``--official-python`` points at an interpreter that already has it.
Runs alternate between the two packages so that machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OFFICIAL_VENV = HERE / ".venv-official"
PROBE = (
    "import time, sys; t = time.perf_counter(); import {module}; t = time.perf_counter() - t; "
    "rss = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmRSS:')][0]; "
    "sys.stdout.write(repr(t) + ' ' + rss)"
)


def official_python() -> str:
    python = OFFICIAL_VENV / "bin" / "python"
    if not python.exists():
        print(f"installing github-copilot-sdk into {OFFICIAL_VENV} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(OFFICIAL_VENV)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "github-copilot-sdk",
            ],
            check=True,
        )
    return str(python)


def measure_import(python: str, module: str) -> tuple[float, int]:
    """``(seconds, VmRSS in kB after the import)`` of ``import module`` in a fresh ``python``."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="0")
    out = subprocess.run(
        [python, "-c", PROBE.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    seconds, rss = out.stdout.split()
    return float(seconds), int(rss)


def time_import(python: str, module: str) -> float:
    return measure_import(python, module)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--official-python", help="an interpreter with github-copilot-sdk installed"
    )
    args = parser.parse_args(argv)
    ours_python = sys.executable
    theirs_python = args.official_python or official_python()
    # warm the bytecode caches once
    time_import(ours_python, "copilot_sync")
    time_import(theirs_python, "copilot")
    ours, theirs, ours_rss, theirs_rss = [], [], [], []
    for i in range(args.runs):
        for python, module, times, rss in sorted(
            [
                (ours_python, "copilot_sync", ours, ours_rss),
                (theirs_python, "copilot", theirs, theirs_rss),
            ],
            key=lambda item: item[1],
            reverse=bool(i % 2),
        ):
            seconds, kb = measure_import(python, module)
            times.append(seconds)
            rss.append(kb)
    ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
    print(f"{'package':<28}{'median import (s)':>20}{'min (s)':>12}{'RSS after (MiB)':>18}")
    print(
        f"{'copilot_sync (ours)':<28}{ours_median:>20.4f}{min(ours):>12.4f}{statistics.median(ours_rss) / 1024:>18.1f}"
    )
    print(
        f"{'copilot (official 1.0.x)':<28}{theirs_median:>20.4f}{min(theirs):>12.4f}"
        f"{statistics.median(theirs_rss) / 1024:>18.1f}"
    )
    print(
        f"ratio ours/official: {ours_median / theirs_median:.3f}   target: under 0.15 s and at most 0.25"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
