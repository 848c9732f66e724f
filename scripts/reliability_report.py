#!/usr/bin/env python3
"""Render docs/RELIABILITY.md from the reliability suite's own results.

The suite (tests/reliability/) records every case it checks (row, case, figure, outcome) and
its pass/fail result in ``build/reliability/results.json``; at the end of a run that included
the whole suite its conftest renders ``build/reliability/RELIABILITY.md`` with
:func:`write_report`. Running the tests never touches a tracked file. To update the committed
table from the last full run::

    bash scripts/test.sh                       # or: .venv/bin/python -m pytest tests/reliability
    .venv/bin/python scripts/reliability_report.py [path/to/results.json]   # writes docs/RELIABILITY.md

Nothing in the table is typed by hand: this script only lays out what the tests measured.
"""

from __future__ import annotations

import json
import pathlib
import sys
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_RESULTS = ROOT / "build" / "reliability" / "results.json"
DEFAULT_DOC = ROOT / "docs" / "RELIABILITY.md"

ROWS: dict[int, tuple[str, str]] = {
    1: (
        "Process faults",
        "The CLI killed (SIGKILL) at start-up, mid-handshake, mid-turn, mid-tool call and while idle: "
        "every waiter fails within 1 s with `ProcessExitedError`, `state` says so, a new client works. "
        "`stop()` while handlers run, twice, from inside a handler; interpreter exit without `stop()`; "
        "no `copilot-*` thread survives `stop()`.",
    ),
    2: (
        "Bad input from the peer",
        "Malformed frames and messages from the CLI. Each has one documented outcome: the frame is "
        "skipped and logged (the connection goes on), or the connection fails at once with a typed "
        "error (`ProtocolError`, `ProcessExitedError`) that every waiter receives. Never a hang, never "
        "a silent loss. Property-based tests (hypothesis) cover the frame reader and the event parser.",
    ),
    3: (
        "Bad input from the user",
        "Wrong argument types, unknown options, tools and handlers that cannot work: a clear error "
        "(`TypeError`/`ValueError` naming the culprit) raised by the call that caused it, before "
        "anything reaches the CLI.",
    ),
    4: (
        "Handler faults",
        "User handlers raising, hanging or returning junk: logged, answered with the documented "
        "default, the session carries on; `stop()` is bounded even with a hung handler.",
    ),
    5: (
        "Load",
        "Concurrency and volume against the fake CLI (same wire protocol, real pipes): nothing lost, "
        "nothing crossed, memory bounded.",
    ),
    6: (
        "Ctrl-C",
        "SIGINT delivered to a child interpreter's process group, as a terminal does: "
        "`KeyboardInterrupt` is raised, the turn is aborted, client and session stay usable.",
    ),
    7: (
        "Security",
        "The GitHub token stays out of command lines, logs and error messages; no shell; token-guarded "
        "TCP; owner-only log files.",
    ),
    8: (
        "Many threads, one session",
        "Many threads calling the blocking calls of one session at once each get the reply to their own "
        "prompt, in one per-session order shared by `send_and_wait`, `stream`, `send_and_collect`, "
        "`send_async` and `wait_for_idle`. A handler calling back into the SDK gets an answer or, when "
        "the call could never complete from there, an immediate error that says why.",
    ),
    9: (
        "The wire under stress",
        "A peer that stops reading, frames too large or nested too deep, values JSON cannot carry: every "
        "write is bounded by its caller's deadline, `stop()`/`force_stop()` stay bounded, every CLI "
        "request gets an answer, and an unreadable stream fails every waiter at once with a typed error.",
    ),
    10: (
        "Handlers that escape",
        "Handlers that raise a `BaseException` that is not an `Exception` (`SystemExit`, "
        "`KeyboardInterrupt` raised by hand, test-framework outcomes): the request is answered, the "
        "worker survives, the exception is logged, and the turn goes on.",
    ),
    11: (
        "Lifetime, timeouts and errors",
        "One timeout rule checked before anything is sent, one deadline per call honoured to tens of "
        "milliseconds; resuming a session already open; a forked child; a client dropped without "
        "`stop()`; errors that say what to do; secrets kept out of every exception.",
    ),
}

_STATUS = {"pass": "pass", "FAIL": "**FAIL**", "xfail": "known bug (xfail)", "skipped": "skipped"}


def _cell(text: Any) -> str:
    value = str(text if text is not None else "").replace("|", "\\|").replace("\n", " ").strip()
    return value or "—"


def _cases(test: dict[str, Any]) -> list[dict[str, str]]:
    cases = test.get("cases") or []
    if cases:
        return cases
    return [
        {
            "case": test.get("doc") or test["nodeid"].split("::")[-1],
            "figure": "",
            "outcome": test.get("detail", ""),
        }
    ]


def render(payload: dict[str, Any]) -> str:
    machine = payload.get("machine", {})
    tests = payload.get("tests", [])
    lines: list[str] = []
    add = lines.append
    add("# Reliability and security")
    add("")
    add(
        "<!-- Generated by scripts/reliability_report.py from the results of tests/reliability/. "
        "Do not edit by hand: run the suite, then `python scripts/reliability_report.py` to regenerate. -->"
    )
    add("")
    add(
        "Every figure and outcome below was measured by the reliability suite (`tests/reliability/`) in the "
        "run described here, and this file was written by that run. A row says **pass** only if the test "
        "that measured it passed; *known bug (xfail)* marks a failing test kept on purpose until the bug "
        "it shows is fixed. Every test runs under a timeout (pytest-timeout)."
    )
    add("")
    total_cases = sum(len(_cases(t)) for t in tests)
    passed = sum(1 for t in tests if t["status"] == "pass")
    failed = sum(1 for t in tests if t["status"] == "FAIL")
    xfailed = sum(1 for t in tests if t["status"] == "xfail")
    skipped = sum(1 for t in tests if t["status"] == "skipped")
    add("| Run | |")
    add("|---|---|")
    add(f"| Date | {_cell(machine.get('date'))} |")
    add(
        f"| Machine | {_cell(machine.get('host'))}: {_cell(machine.get('cpu'))}, {_cell(machine.get('cpus'))} CPUs, "
        f"{_cell(machine.get('memory'))} RAM |"
    )
    add(f"| Platform | {_cell(machine.get('platform'))} |")
    add(f"| Python | {_cell(machine.get('python'))} |")
    add(f"| copilot-sync | {_cell(machine.get('copilot_sync'))} |")
    add(
        f"| Suite | {len(tests)} tests, {total_cases} cases, {payload.get('suite_seconds', '?')} s of test time; "
        f"{passed} passed, {failed} failed, {xfailed} known bugs, {skipped} skipped |"
    )
    add("")
    add("## Summary")
    add("")
    add("| # | Row | Tests | Result |")
    add("|---|---|---|---|")
    for number, (title, _about) in ROWS.items():
        row_tests = [t for t in tests if t.get("row") == number]
        if not row_tests:
            add(f"| {number} | [{title}](#{number}-{_anchor(title)}) | 0 | not run |")
            continue
        bad = [t for t in row_tests if t["status"] == "FAIL"]
        known = [t for t in row_tests if t["status"] == "xfail"]
        result = "**FAIL**" if bad else ("pass" + (f" ({len(known)} known bugs)" if known else ""))
        add(f"| {number} | [{title}](#{number}-{_anchor(title)}) | {len(row_tests)} | {result} |")
    add("")
    for number, (title, about) in ROWS.items():
        add(f"## {number}. {title}")
        add("")
        add(about)
        add("")
        row_tests = [t for t in tests if t.get("row") == number]
        if not row_tests:
            add("*No test of this row ran.*")
            add("")
            continue
        add("| Case | Figure | Outcome | Result | Test |")
        add("|---|---|---|---|---|")
        for test in row_tests:
            status = _STATUS.get(test["status"], test["status"])
            if test["status"] in ("FAIL", "xfail", "skipped") and test.get("detail"):
                status += f": {test['detail']}"
            name = test["nodeid"].split("tests/reliability/", 1)[-1]
            for case in _cases(test):
                add(
                    f"| {_cell(case.get('case'))} | {_cell(case.get('figure'))} | {_cell(case.get('outcome'))} | "
                    f"{_cell(status)} | `{_cell(name)}` |"
                )
        add("")
    return "\n".join(lines)


def _anchor(title: str) -> str:
    return "-".join("".join(c for c in title.lower() if c.isalnum() or c in " -").split())


def write_report(payload: dict[str, Any], path: pathlib.Path = DEFAULT_DOC) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(render(payload), encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str]) -> int:
    source = pathlib.Path(argv[0]) if argv else DEFAULT_RESULTS
    if not source.exists():
        print(
            f"no results at {source}: run `bash scripts/test.sh tests/reliability` first",
            file=sys.stderr,
        )
        return 1
    write_report(json.loads(source.read_text(encoding="utf-8")))
    print(f"wrote {DEFAULT_DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
