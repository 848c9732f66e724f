"""Performance benchmarks: copilot-sync (ours) beside the official async SDK, side by side.

    .venv/bin/python bench/run.py            # the full run (about 4 minutes), writes bench/RESULTS.md
    .venv/bin/python bench/run.py --quick    # a smoke run (under a minute), writes nothing
    .venv/bin/python bench/run.py --profile events   # py-spy profiles of one workload, both SDKs

Run it with the project venv's python (``bash scripts/setup.sh`` makes it). The official SDK
(``github-copilot-sdk`` from PyPI) is installed into ``bench/.venv-official`` on first use.

Each workload runs in fresh processes, one per SDK (``bench/worker_ours.py`` under this python,
``bench/worker_official.py`` under the official venv's), alternating which goes first, several
times; each worker prints its figures as JSON. The table shows the median of the runs and the
ratio ours / official. Workloads (the fake is ``bench/fake_cli.py``, the same script and the same
event stream for both SDKs; the real CLI is the pinned 1.0.81 with
``copilot_sync.testing.ScriptedModelServer`` as its model):

1. ``import``: import time and VmRSS after the import (``bench/import_time.py``);
2. ``start``: client start to first session ready (fake; the real CLI in ``real``);
3. ``events``: 100,000 ``assistant.message_delta`` events written as fast as the pipe takes
   them, rate at which they reach a user handler; the ceiling is ``bench/bare_decode.py``;
4. ``turns``: ``send_and_wait`` round trips with an immediate reply, p50/p99 over 2,000 turns;
5. ``tools``: ``external_tool.requested`` → no-op handler → ``session.tools.handlePendingToolCall``,
   timed by the fake, p50/p99 over 2,000 calls; 100 concurrent calls (total time);
6. ``sessions``: 100 sessions on one client, 20 turns each from its own thread (ours) or task
   (theirs): total time and VmHWM of the SDK process; 6b. the same turns from one thread
   with ``send_async`` (ours; theirs is 6., already one thread with ``asyncio.gather``);
7. ``idle``: CPU time (``getrusage(RUSAGE_SELF)``) of a client with one open session over 10 s;
8. ``real``: the real CLI, a 10-turn conversation with one tool call per turn (and its start);
9. ``batch``: ours only (the official SDK has no batch runner): ``bench/batch_throughput.py``,
   items per second of ``run_batch`` on the fake CLI at 1, 4 and 16 concurrent sessions and on
   a two-worker Dask cluster, beside a plain ``send_and_wait`` loop.

Benchmarks print figures; they never assert timings. A target that is missed is marked
``MISSED`` in the table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "RESULTS.md"
FINDINGS_MARK = "<!-- Everything below this line is kept when bench/run.py rewrites this file. -->"

sys.path.insert(0, str(HERE))
import import_time  # noqa: E402  (a sibling module: importable once HERE is on sys.path)

FULL = {
    "reps": 5,
    "import_runs": 15,
    "events": 100_000,
    "turns": 2000,
    "tools": 2000,
    "concurrent": 100,
    "rounds": 5,
    "sessions": 100,
    "session_turns": 20,
    "idle_s": 10.0,
    "idle_reps": 3,
    "real_turns": 10,
    "real_reps": 3,
}
QUICK = {
    "reps": 1,
    "import_runs": 3,
    "events": 20_000,
    "turns": 200,
    "tools": 200,
    "concurrent": 100,
    "rounds": 2,
    "sessions": 20,
    "session_turns": 5,
    "idle_s": 2.0,
    "idle_reps": 1,
    "real_turns": 2,
    "real_reps": 1,
}
WORKLOAD_NAMES = (
    "import",
    "start",
    "events",
    "turns",
    "tools",
    "sessions",
    "idle",
    "real",
    "batch",
)


# ---------------------------------------------------------------------------- set-up


def check_interpreter() -> None:
    try:
        import copilot_sync  # noqa: F401
    except ImportError:
        sys.exit(
            "bench/run.py must run under the project venv: bash scripts/setup.sh && .venv/bin/python bench/run.py"
        )


def write_launcher(directory: str) -> str:
    """An executable that starts the bench fake with this (the project venv's) python."""
    path = os.path.join(directory, "copilot")
    text = (
        f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(HERE)!r})\n"
        "from fake_cli import main\nsys.exit(main(sys.argv[1:]))\n"
    )
    if len(sys.executable) > 120 or " " in sys.executable:  # shebang limits
        text = f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "fake_cli.py"}" "$@"\n'
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o755)
    return path


def real_cli() -> Any:
    from copilot_sync import find_cli

    return find_cli()


def version_of(python: str, code: str) -> str:
    try:
        out = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, timeout=60, check=True
        )
        return out.stdout.strip()
    except (subprocess.SubprocessError, OSError) as exc:
        return f"unknown ({exc})"


def machine(ours_py: str, theirs_py: str, cli: Any) -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            names = [line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    git = (
        subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        or "?"
    )
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": f"{os.cpu_count()} logical (affinity: {len(os.sched_getaffinity(0))})",
        "os": f"{platform.system()} {platform.release()}",
        "python_ours": version_of(ours_py, "import sys;print(sys.version.split()[0])")
        + f" ({ours_py})",
        "python_official": version_of(theirs_py, "import sys;print(sys.version.split()[0])")
        + f" ({theirs_py})",
        "sdk_ours": "copilot-sync "
        + version_of(ours_py, "import copilot_sync;print(copilot_sync.__version__)")
        + f" (git {git}{', src/ has uncommitted changes' if dirty else ''})",
        "sdk_official": "github-copilot-sdk "
        + version_of(
            theirs_py, "import importlib.metadata as m;print(m.version('github-copilot-sdk'))"
        ),
        "cli_real": f"{cli.path}" if cli is not None else "not installed",
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# ---------------------------------------------------------------------------- running workers


class Runner:
    def __init__(self, ours_py: str, theirs_py: str, fake: str, verbose: bool = True) -> None:
        self.pythons = {"ours": ours_py, "official": theirs_py, "ceiling": ours_py}
        self.scripts = {
            "ours": HERE / "worker_ours.py",
            "official": HERE / "worker_official.py",
            "ceiling": HERE / "bare_decode.py",
        }
        self.fake = fake
        self.verbose = verbose
        # figures[workload][sdk] = list of per-run dicts; errors[workload][sdk] = last error text
        self.figures: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.errors: dict[str, dict[str, str]] = {}

    def command(
        self,
        sdk: str,
        workload: str,
        params: dict[str, Any],
        cli: str | None,
        env: dict[str, str] | None,
    ) -> list[str]:
        cmd = [
            self.pythons[sdk],
            str(self.scripts[sdk]),
            workload,
            "--cli",
            cli or self.fake,
            "--params",
            json.dumps(params),
        ]
        if env:
            cmd += ["--env", json.dumps(env)]
        return cmd

    def run(
        self,
        sdk: str,
        workload: str,
        params: dict[str, Any],
        *,
        cli: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 900,
        key: str | None = None,
        process_env: dict[str, str] | None = None,
    ) -> dict[str, Any] | None:
        key = key or workload
        cmd = self.command(sdk, workload, params, cli, env)
        try:
            out = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=str(HERE),
                env=process_env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return self._fail(key, sdk, f"timed out after {timeout:.0f} s")
        lines = [line for line in out.stdout.splitlines() if line.strip()]
        if out.returncode != 0 or not lines:
            tail = " | ".join(out.stderr.strip().splitlines()[-3:])
            return self._fail(key, sdk, f"exit {out.returncode}: {tail}")
        figures: dict[str, Any] = json.loads(lines[-1])
        self.figures.setdefault(key, {}).setdefault(sdk, []).append(figures)
        if self.verbose:
            shown = ", ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()
            )
            print(f"    {sdk:<9} {shown}", flush=True)
        return figures

    def _fail(self, key: str, sdk: str, text: str) -> None:
        self.errors.setdefault(key, {})[sdk] = text
        print(f"    {sdk:<9} FAILED: {text}", flush=True)

    def alternate(
        self,
        workload: str,
        params: dict[str, Any],
        reps: int,
        sdks: tuple[str, ...] = ("ours", "official"),
        before: Callable[[str], dict[str, Any]] | None = None,
        key: str | None = None,
        **kwargs: Any,
    ) -> None:
        for rep in range(reps):
            order = sdks if rep % 2 == 0 else tuple(reversed(sdks))
            print(f"  {key or workload} run {rep + 1}/{reps}", flush=True)
            for sdk in order:
                extra = before(sdk) if before is not None else {}
                self.run(sdk, workload, params, key=key, **{**kwargs, **extra})


def run_import(runner: Runner, cfg: dict[str, Any]) -> None:
    print(f"  import x{cfg['import_runs']} (fresh interpreters, alternating)", flush=True)
    modules = {"ours": "copilot_sync", "official": "copilot"}
    for sdk, module in modules.items():  # warm the bytecode caches once
        import_time.measure_import(runner.pythons[sdk], module)
    for rep in range(cfg["import_runs"]):
        for sdk in ("ours", "official") if rep % 2 == 0 else ("official", "ours"):
            seconds, rss = import_time.measure_import(runner.pythons[sdk], modules[sdk])
            runner.figures.setdefault("import", {}).setdefault(sdk, []).append(
                {"import_s": seconds, "rss_kb": rss}
            )
    for sdk in modules:
        runs = runner.figures["import"][sdk]
        print(
            f"    {sdk:<9} import_s={statistics.median(r['import_s'] for r in runs):.4f}, "
            f"rss_kb={statistics.median(r['rss_kb'] for r in runs):.0f}",
            flush=True,
        )


def run_real(runner: Runner, cfg: dict[str, Any], cli: Any) -> None:
    from copilot_sync.testing import ScriptedModelServer

    base_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GITHUB_TOKEN", "GH_TOKEN", "COPILOT_GITHUB_TOKEN")
    }
    homes: list[str] = []
    with ScriptedModelServer() as model:

        def before(sdk: str) -> dict[str, Any]:
            model.clear()
            for i in range(cfg["real_turns"]):
                model.add_tool_call("noop", {})
                model.add_reply(f"done {i}")
            home = tempfile.mkdtemp(prefix="copilot-bench-home-")
            homes.append(home)
            return {"env": {**cli.env, "COPILOT_HOME": home}}

        params = {"turns": cfg["real_turns"], "model": model.model, "provider": model.provider()}
        try:
            runner.alternate(
                "real",
                params,
                cfg["real_reps"],
                cli=cli.path,
                before=before,
                timeout=600,
                process_env=base_env,
            )
        finally:
            for home in homes:
                shutil.rmtree(home, ignore_errors=True)


def run_all(runner: Runner, cfg: dict[str, Any], only: set[str], cli: Any) -> None:
    reps = cfg["reps"]
    if "import" in only:
        print("1. import", flush=True)
        run_import(runner, cfg)
    if "start" in only:
        print("2. start to first session ready (fake)", flush=True)
        runner.alternate("start", {}, reps)
    if "events" in only:
        print(
            f"3. event delivery, {cfg['events']:,} deltas (ours, official, bare-decode ceiling)",
            flush=True,
        )
        runner.alternate("events", {"n": cfg["events"]}, reps, sdks=("ours", "official", "ceiling"))
    if "turns" in only:
        print(f"4. send_and_wait round trips x{cfg['turns']}", flush=True)
        runner.alternate("turns", {"n": cfg["turns"]}, reps)
    if "tools" in only:
        print(
            f"5. tool call round trips x{cfg['tools']}, {cfg['concurrent']} concurrent x{cfg['rounds']}",
            flush=True,
        )
        runner.alternate(
            "tools",
            {"n": cfg["tools"], "concurrent": cfg["concurrent"], "rounds": cfg["rounds"]},
            reps,
        )
    if "sessions" in only:
        print(f"6. {cfg['sessions']} sessions x {cfg['session_turns']} turns", flush=True)
        runner.alternate(
            "sessions", {"sessions": cfg["sessions"], "turns": cfg["session_turns"]}, reps
        )
        print(
            "6b. the same from one thread: send_async (ours) vs asyncio.gather (official, from 6.)",
            flush=True,
        )
        runner.alternate(
            "sessions_async",
            {"sessions": cfg["sessions"], "turns": cfg["session_turns"]},
            reps,
            sdks=("ours",),
        )
        official = runner.figures.get("sessions", {}).get("official")
        if official:
            runner.figures.setdefault("sessions_async", {})["official"] = official
    if "idle" in only:
        print(f"7. idle CPU over {cfg['idle_s']:g} s", flush=True)
        runner.alternate("idle", {"seconds": cfg["idle_s"]}, cfg["idle_reps"])
    if "real" in only:
        print(
            f"8. real CLI: start, then {cfg['real_turns']} turns with one tool call each",
            flush=True,
        )
        if cli is None:
            print(
                "    skipped: the real CLI is not installed (bash scripts/setup.sh installs it)",
                flush=True,
            )
        else:
            run_real(runner, cfg, cli)


# ---------------------------------------------------------------------------- the table

# (workload key, label, figure, scale, unit, format, higher is better)
ROWS = [
    ("import", "1. import time", "import_s", 1.0, "s", ".3f", False),
    ("import", "1. RSS after import", "rss_kb", 1 / 1024, "MiB", ".1f", False),
    ("start", "2. start → session ready (fake)", "ready_s", 1e3, "ms", ".1f", False),
    ("real", "2. start → session ready (real CLI)", "ready_s", 1e3, "ms", ".0f", False),
    ("events", "3. event delivery", "events_per_s", 1.0, "events/s", ",.0f", True),
    ("turns", "4. send_and_wait p50", "turn_p50_ms", 1.0, "ms", ".3f", False),
    ("turns", "4. send_and_wait p99", "turn_p99_ms", 1.0, "ms", ".3f", False),
    ("tools", "5. tool round trip p50", "tool_p50_ms", 1.0, "ms", ".3f", False),
    ("tools", "5. tool round trip p99", "tool_p99_ms", 1.0, "ms", ".3f", False),
    ("tools", "5. 100 concurrent tool calls", "concurrent_total_ms", 1.0, "ms", ".1f", False),
    ("sessions", "6. 100 sessions x 20 turns, time", "total_s", 1.0, "s", ".2f", False),
    ("sessions", "6. 100 sessions x 20 turns, peak RSS", "vmhwm_kb", 1 / 1024, "MiB", ".1f", False),
    (
        "sessions_async",
        "6b. 100 sessions x 20 turns, one thread (send_async / gather)",
        "total_s",
        1.0,
        "s",
        ".2f",
        False,
    ),
    (
        "sessions_async",
        "6b. 100 sessions x 20 turns, one thread, peak RSS",
        "vmhwm_kb",
        1 / 1024,
        "MiB",
        ".1f",
        False,
    ),
    ("idle", "7. idle CPU (one open session)", "idle_cpu_pct", 1.0, "% of a core", ".3f", False),
    ("real", "8. real CLI, 10 turns with a tool call", "conversation_s", 1.0, "s", ".2f", False),
]


def median_of(runner: Runner, key: str, sdk: str, figure: str) -> float | None:
    runs = runner.figures.get(key, {}).get(sdk, [])
    values = [r[figure] for r in runs if isinstance(r.get(figure), (int, float))]
    return statistics.median(values) if values else None


def targets(runner: Runner) -> dict[str, tuple[str, bool | None]]:
    """label -> (target text, holds?) for the rows the issue sets a target on."""

    def m(key: str, sdk: str, fig: str) -> float | None:
        return median_of(runner, key, sdk, fig)

    out: dict[str, tuple[str, bool | None]] = {}

    def check(label: str, text: str, *values: float | None, ok: Callable[..., bool]) -> None:
        out[label] = (text, None if any(v is None for v in values) else ok(*values))

    check(
        "1. import time",
        "≤ 0.25x official and < 0.15 s",
        m("import", "ours", "import_s"),
        m("import", "official", "import_s"),
        ok=lambda o, t: o <= 0.25 * t and o < 0.15,
    )
    check(
        "3. event delivery",
        "≥ 1.5x official and ≥ ceiling / 2",
        m("events", "ours", "events_per_s"),
        m("events", "official", "events_per_s"),
        m("events", "ceiling", "events_per_s"),
        ok=lambda o, t, c: o >= 1.5 * t and o >= c / 2,
    )
    check(
        "4. send_and_wait p50",
        "≤ official",
        m("turns", "ours", "turn_p50_ms"),
        m("turns", "official", "turn_p50_ms"),
        ok=lambda o, t: o <= t,
    )
    check(
        "5. tool round trip p50",
        "≤ official",
        m("tools", "ours", "tool_p50_ms"),
        m("tools", "official", "tool_p50_ms"),
        ok=lambda o, t: o <= t,
    )
    check(
        "6. 100 sessions x 20 turns, peak RSS",
        "< official",
        m("sessions", "ours", "vmhwm_kb"),
        m("sessions", "official", "vmhwm_kb"),
        ok=lambda o, t: o < t,
    )
    check(
        "7. idle CPU (one open session)",
        "< 1 % of a core",
        m("idle", "ours", "idle_cpu_pct"),
        ok=lambda o: o < 1.0,
    )
    return out


def table(runner: Runner, cfg: dict[str, Any]) -> list[str]:
    verdicts = targets(runner)
    head = ["workload", "unit", "ours", "official", "ours / official", "target", ""]
    rows: list[list[str]] = []
    for key, label, figure, scale, unit, fmt, _higher in ROWS:
        if key not in runner.figures and key not in runner.errors:
            continue
        label = label.replace(
            "100 sessions x 20 turns", f"{cfg['sessions']} sessions x {cfg['session_turns']} turns"
        )
        label = label.replace("10 turns", f"{cfg['real_turns']} turns").replace(
            "100 concurrent", f"{cfg['concurrent']} concurrent"
        )
        cells = []
        values = {}
        for sdk in ("ours", "official"):
            value = median_of(runner, key, sdk, figure)
            values[sdk] = value
            if value is None:
                error = runner.errors.get(key, {}).get(sdk, "no data")
                cells.append("n/a" if "Tool" not in error else "n/a (no tools)")
            else:
                cells.append(format(value * scale, fmt))
        ratio = (
            f"{values['ours'] / values['official']:.3f}"
            if values["ours"] is not None and values["official"]
            else ""
        )
        text, holds = verdicts.get(label, ("", None))
        verdict = (
            "" if not text else ("holds" if holds else ("MISSED" if holds is False else "no data"))
        )
        rows.append([label, unit, *cells, ratio, text, verdict])
        if key == "events":
            ceiling = median_of(runner, "events", "ceiling", "events_per_s")
            if ceiling is not None:
                ours = values["ours"]
                rows.append(
                    [
                        "3. bare-decode ceiling (same stream)",
                        unit,
                        format(ceiling, fmt),
                        "",
                        f"ours / ceiling {ours / ceiling:.3f}" if ours else "",
                        "",
                        "",
                    ]
                )
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    return lines


def raw_section(runner: Runner) -> list[str]:
    lines = []
    for key in runner.figures:
        for sdk, runs in runner.figures[key].items():
            shown = "; ".join(
                ", ".join(
                    f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()
                )
                for r in runs
            )
            lines.append(f"- `{key}` {sdk}: {shown}")
    for key, errors in runner.errors.items():
        for sdk, text in errors.items():
            lines.append(f"- `{key}` {sdk}: **failed**: {text}")
    return lines


def write_results(
    path: Path,
    info: dict[str, str],
    cfg: dict[str, Any],
    command: str,
    runner: Runner,
    table_lines: list[str],
    elapsed: float,
) -> None:
    kept = ""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if FINDINGS_MARK in old:
            kept = old.split(FINDINGS_MARK, 1)[1].lstrip("\n")
    text = [
        "# Benchmark results: copilot-sync beside the official async SDK",
        "",
        (
            f"Written by `{command}` on {info['date']} (the run took {elapsed / 60:.1f} min). "
            f"Medians of {cfg['reps']} alternating runs per SDK ({cfg['idle_reps']} for idle, {cfg['real_reps']} for "
            f"the real CLI, {cfg['import_runs']} for import); every run is a fresh process."
        ),
        "",
        "## Machine",
        "",
        f"- CPU: {info['cpu']}, {info['cores']}; {info['os']}",
        (
            f"- load average before the run: {info['load_before']}; after: {info['load_after']} "
            "(the machine is shared: other jobs ran at the same time)"
        ),
        f"- Python (ours): {info['python_ours']}",
        f"- Python (official): {info['python_official']}",
        f"- SDKs: {info['sdk_ours']}; {info['sdk_official']}",
        (
            "- CLIs: the bench fake (`bench/fake_cli.py`, the project's fake engine run stand-alone) and the real "
            f"CLI 1.0.81 ({info['cli_real']}) with `ScriptedModelServer` as the model"
        ),
        "",
        "## Results",
        "",
        *table_lines,
        "",
        "Ratios are ours / official: below 1 is better for times and memory, above 1 for rates.",
        "",
        "## Every run",
        "",
        *raw_section(runner),
        "",
        FINDINGS_MARK,
        "",
    ]
    path.write_text("\n".join(text) + kept, encoding="utf-8")


# ---------------------------------------------------------------------------- profiling


def profile(
    runner: Runner, workload: str, cfg: dict[str, Any], out_dir: str, theirs_py: str
) -> None:
    """Record py-spy profiles of one workload for both SDKs, and print where the time goes."""
    py_spy = Path(theirs_py).parent / "py-spy"
    if not py_spy.exists():
        subprocess.run(
            [theirs_py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "py-spy"],
            check=True,
        )
    params = {
        "start": {},
        "events": {"n": cfg["events"]},
        "turns": {"n": cfg["turns"]},
        "tools": {"n": cfg["tools"], "concurrent": cfg["concurrent"], "rounds": cfg["rounds"]},
        "sessions": {"sessions": cfg["sessions"], "turns": cfg["session_turns"]},
        "idle": {"seconds": cfg["idle_s"]},
    }[workload]
    for sdk in ("ours", "official"):
        for mode, flags in (("gil", ["--gil"]), ("active", [])):
            raw = os.path.join(out_dir, f"{workload}-{sdk}-{mode}.txt")
            cmd = [
                str(py_spy),
                "record",
                "--threads",
                "--format",
                "raw",
                "--rate",
                "1000",
                "-o",
                raw,
                *flags,
                "--",
                *runner.command(sdk, workload, params, None, None),
            ]
            out = subprocess.run(cmd, capture_output=True, text=True, cwd=str(HERE), check=False)
            if out.returncode != 0:
                print(f"\n== {sdk}, {mode}: py-spy failed: {out.stderr.strip()[-300:]}")
                continue
            print(
                f"\n== {sdk}, {mode} samples{' (only while holding the GIL)' if mode == 'gil' else ''}: "
                f"{raw}"
            )
            summarize(raw)
    print(f"\nraw collapsed stacks (flamegraph.pl / speedscope input) in {out_dir}")


def summarize(raw: str, top: int = 15) -> None:
    if not os.path.exists(raw):
        return
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    threads: dict[str, int] = {}
    total = 0
    with open(raw, encoding="utf-8") as fh:
        for line in fh:
            stack, _, count_text = line.rstrip().rpartition(" ")
            count = int(count_text)
            total += count
            frames = stack.split(";")
            thread = re.sub(r"^thread \(\d+\): ", "", frames[0])
            threads[thread] = threads.get(thread, 0) + count
            own[frames[-1]] = own.get(frames[-1], 0) + count
            for frame in set(frames[1:]):
                inclusive[frame] = inclusive.get(frame, 0) + count
    if not total:
        return
    print(
        "  samples by thread: "
        + ", ".join(
            f"{t} {n * 100 / total:.0f}%"
            for t, n in sorted(threads.items(), key=lambda x: -x[1])[:6]
        )
    )
    print("  top self:")
    for frame, count in sorted(own.items(), key=lambda x: -x[1])[:top]:
        print(f"    {count * 100 / total:5.1f}%  {frame}")
    print("  top inclusive:")
    for frame, count in sorted(inclusive.items(), key=lambda x: -x[1])[:top]:
        print(f"    {count * 100 / total:5.1f}%  {frame}")


# ---------------------------------------------------------------------------- main


def batch_table(*, quick: bool) -> list[str]:
    """Workload 9: ``bench/batch_throughput.py``'s table (ours only), as lines for the results."""
    print("9. batch", flush=True)
    items = "40" if quick else "200"
    script = Path(__file__).resolve().parent / "batch_throughput.py"
    done = subprocess.run(
        [sys.executable, str(script), "--items", items], capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        return [
            "",
            f"batch throughput failed (exit {done.returncode}): {done.stderr.strip()[-500:]}",
        ]
    return [
        "",
        "### Batch throughput (ours only; `bench/batch_throughput.py`)",
        "",
        *done.stdout.strip().splitlines(),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short smoke run (small counts, one repetition); "
        "prints the table but does not write RESULTS.md unless --output is given",
    )
    parser.add_argument(
        "--reps", type=int, help="repetitions per workload (default 5, 1 with --quick)"
    )
    parser.add_argument(
        "--only", help=f"comma-separated workloads to run, of: {', '.join(WORKLOAD_NAMES)}"
    )
    parser.add_argument("--no-real", action="store_true", help="skip the real-CLI workload")
    parser.add_argument(
        "--official-python", help="an interpreter with github-copilot-sdk installed"
    )
    parser.add_argument(
        "--output", help="where to write the results (default bench/RESULTS.md for a full run)"
    )
    parser.add_argument(
        "--profile",
        choices=("start", "events", "turns", "tools", "sessions", "idle"),
        help="record py-spy profiles of one workload for both SDKs instead of benchmarking",
    )
    args = parser.parse_args(argv)
    check_interpreter()
    cfg = dict(QUICK if args.quick else FULL)
    if args.reps:
        cfg["reps"] = args.reps
        cfg["idle_reps"] = min(cfg["idle_reps"], args.reps)
        cfg["real_reps"] = min(cfg["real_reps"], args.reps)
    only = set(WORKLOAD_NAMES) if not args.only else {w.strip() for w in args.only.split(",")}
    unknown = only - set(WORKLOAD_NAMES)
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    if args.no_real:
        only.discard("real")

    theirs_py = args.official_python or import_time.official_python()
    ours_py = sys.executable
    try:
        cli = real_cli() if "real" in only else None
    except Exception as exc:
        print(f"the real CLI is not available ({exc}); skipping workload 8", file=sys.stderr)
        cli = None
    work_dir = tempfile.mkdtemp(prefix="copilot-bench-")
    try:
        runner = Runner(ours_py, theirs_py, write_launcher(work_dir))
        if args.profile:
            profile(
                runner,
                args.profile,
                cfg,
                tempfile.mkdtemp(prefix="copilot-bench-profile-"),
                theirs_py,
            )
            return 0
        info = machine(ours_py, theirs_py, cli)
        started = time.monotonic()
        run_all(runner, cfg, only, cli)
        elapsed = time.monotonic() - started
        info["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    lines = table(runner, cfg)
    if "batch" in only and not args.profile:
        lines += batch_table(quick=args.quick)
    print()
    print(
        f"{info['date']} | {info['cpu']}, {info['cores']} | ours: {info['sdk_ours']} | "
        f"official: {info['sdk_official']} | load {info['load_before']} -> {info['load_after']}"
    )
    print("\n".join(lines))
    output = Path(args.output) if args.output else (None if args.quick or args.only else RESULTS)
    if output is not None:
        command = (
            "python bench/run.py"
            + (" --quick" if args.quick else "")
            + (f" --reps {args.reps}" if args.reps else "")
        )
        write_results(output, info, cfg, command, runner, lines, elapsed)
        print(f"\nwritten to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
