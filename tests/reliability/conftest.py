"""Reliability and security suite (issue 5): shared helpers, and the machinery that turns the
suite's own results into ``docs/RELIABILITY.md``.

How the table is produced
-------------------------
* Every test module declares its row of the table with ``pytestmark = pytest.mark.reliability_row(n)``.
* A test writes what it measured through the ``record`` fixture::

      record("SIGKILL mid-turn (fake CLI)", figure="3 waiters failed in 0.04 s", outcome="ProcessExitedError")

  A test may record several cases (one per bad input, say); a test that records nothing still
  appears, under its docstring's first line.
* ``pytest_runtest_makereport`` attaches each test's result (pass, FAIL, known bug) to its cases.
* ``pytest_sessionfinish`` writes every case to ``build/reliability/results.json`` and, **only when
  the whole reliability suite ran** (no ``-k``/``-m``/``--lf``/``--deselect`` removed one of its
  tests, no file or node id narrowed it, and every selected test reported), renders
  ``build/reliability/RELIABILITY.md`` with ``scripts/reliability_report.py``. Running the tests
  never writes a tracked file; ``python scripts/reliability_report.py`` regenerates the committed
  ``docs/RELIABILITY.md`` from the last full run's results.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.util
import json
import os
import pathlib
import platform
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from copilot_sync import ConnectionState, CopilotClient
from copilot_sync.testing import FakeCLI, Scenario

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BUILD_DIR = ROOT / "build" / "reliability"
REPORT_SCRIPT = ROOT / "scripts" / "reliability_report.py"

_CASES = pytest.StashKey[list]()


# ============================================================================ recording


class _State:
    def __init__(self) -> None:
        self.selected: set[str] = set()
        self.deselected: set[str] = set()
        self.results: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.durations: dict[str, float] = {}
        self.started = time.time()


_state = _State()


def _is_ours(nodeid: str) -> bool:
    return nodeid.replace("\\", "/").startswith("tests/reliability/")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "reliability_row(n): the row of docs/RELIABILITY.md a test belongs to"
    )


def pytest_deselected(items: list[pytest.Item]) -> None:
    for item in items:
        if _is_ours(item.nodeid):
            _state.deselected.add(item.nodeid)


def pytest_collection_finish(session: pytest.Session) -> None:
    _state.selected = {item.nodeid for item in session.items if _is_ours(item.nodeid)}
    _state.order = [item.nodeid for item in session.items if _is_ours(item.nodeid)]


@pytest.fixture
def record(request: pytest.FixtureRequest):
    """``record(case, figure=..., outcome=...)``: one line of the reliability table."""
    cases = request.node.stash.setdefault(_CASES, [])

    def _record(case: str, *, figure: str = "", outcome: str = "") -> None:
        cases.append({"case": case, "figure": figure, "outcome": outcome})

    return _record


def _row_of(item: pytest.Item) -> int:
    marker = item.get_closest_marker("reliability_row")
    return int(marker.args[0]) if marker is not None and marker.args else 0


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if not _is_ours(item.nodeid):
        return report
    _state.durations[item.nodeid] = _state.durations.get(item.nodeid, 0.0) + report.duration
    entry = _state.results.setdefault(
        item.nodeid,
        {
            "nodeid": item.nodeid,
            "row": _row_of(item),
            "status": "pass",
            "detail": "",
            "doc": _doc_line(item),
        },
    )
    if report.when == "call" and hasattr(report, "wasxfail"):
        entry["status"] = "xfail" if report.skipped else "FAIL"
        entry["detail"] = report.wasxfail or entry["detail"]
    elif report.failed:
        entry["status"] = "FAIL"
        entry["detail"] = entry["detail"] or f"{report.when}: {_short(report)}"
    elif report.skipped and entry["status"] == "pass":
        entry["status"] = "skipped"
        longrepr = report.longrepr
        entry["detail"] = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    if report.when == "teardown":
        entry["cases"] = list(item.stash.get(_CASES, []))
        entry["duration"] = round(_state.durations[item.nodeid], 3)
    return report


def _doc_line(item: pytest.Item) -> str:
    doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
    return doc.strip().splitlines()[0] if doc.strip() else item.name


def _short(report: pytest.TestReport) -> str:
    text = getattr(report, "longreprtext", "") or str(report.longrepr)
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("E ")]
    return (
        lines[0][2:].strip()
        if lines
        else text.strip().splitlines()[-1]
        if text.strip()
        else "failed"
    )[:200]


def _full_run(session: pytest.Session) -> tuple[bool, str]:
    if not _state.selected:
        return False, "no reliability test was selected"
    if _state.deselected:
        return False, f"{len(_state.deselected)} reliability tests were deselected"
    for arg in session.config.args:
        if "::" in arg and "reliability" in arg:
            return False, "a node id narrowed the run"
    files = {p.name for p in HERE.glob("test_*.py")}
    seen = {nodeid.split("::")[0].rsplit("/", 1)[-1] for nodeid in _state.selected}
    if files - seen:
        return False, f"not collected: {sorted(files - seen)}"
    reported = {n for n, e in _state.results.items() if "cases" in e}
    if _state.selected - reported:
        return (
            False,
            f"{len(_state.selected - reported)} selected reliability tests did not run to the end",
        )
    return True, ""


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            kb = int(fh.readline().split()[1])
            memory = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    import copilot_sync

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "host": platform.node(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory": memory,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "copilot_sync": getattr(copilot_sync, "__version__", "?"),
    }


def _load_report_module() -> Any:
    spec = importlib.util.spec_from_file_location("copilot_sync_reliability_report", REPORT_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _state.results:
        return
    results = [_state.results[n] for n in _state.order if n in _state.results]
    payload = {
        "machine": _machine(),
        "suite_seconds": round(sum(_state.durations.values()), 1),
        "tests": results,
    }
    # Results and the rendered table go to build/, never to a tracked file: running the tests
    # leaves the checkout as it was. `python scripts/reliability_report.py` copies a run's
    # table into docs/RELIABILITY.md when you mean to update it.
    out_dir = BUILD_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    results_file = out_dir / "results.json"
    results_file.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    full, why = _full_run(session)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if not full:
        if reporter is not None:
            reporter.write_line(f"reliability: partial run ({why}); results in {results_file}")
        return
    module = _load_report_module()
    table = out_dir / "RELIABILITY.md"
    module.write_report(payload, table)
    if reporter is not None:
        reporter.write_line(
            f"reliability: wrote {table} ({len(results)} tests); "
            "`python scripts/reliability_report.py` copies it to docs/RELIABILITY.md"
        )


# ============================================================================ helpers


def sdk_threads() -> list[threading.Thread]:
    """Live threads the SDK named (``copilot-*``), not the fake's or the model server's."""
    return [
        t
        for t in threading.enumerate()
        if t.name.startswith("copilot-")
        and not t.name.startswith(("copilot-fake", "copilot-model"))
    ]


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.005) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def rss_kb() -> int:
    with open("/proc/self/status", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def stop_client(client: CopilotClient) -> None:
    if client.state is ConnectionState.ERROR:
        client.force_stop()
    else:
        client.stop(timeout=5)


@contextlib.contextmanager
def fake_client(
    scenario: Scenario | None = None, **client_options: Any
) -> Iterator[tuple[FakeCLI, CopilotClient]]:
    """A started client on a fake CLI; both stopped afterwards."""
    with FakeCLI(scenario or Scenario()) as fake:
        client = CopilotClient(cli_path=fake.cli_path, **client_options)
        client.start()
        try:
            yield fake, client
        finally:
            stop_client(client)


def run_in_thread(fn, *args, **kwargs) -> tuple[threading.Thread, dict[str, Any]]:
    """Run ``fn`` on a thread; the dict receives ``result`` or ``error`` and ``at`` (monotonic end)."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = fn(*args, **kwargs)
        except BaseException as exc:
            out["error"] = exc
        out["at"] = time.monotonic()

    thread = threading.Thread(target=run, name="test-waiter", daemon=True)
    thread.start()
    return thread, out


def child_env() -> dict[str, str]:
    """The environment for child interpreters: this checkout's ``src`` first on the path."""
    env = dict(os.environ)
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


PYTHON = sys.executable
