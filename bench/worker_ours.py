"""Bench worker for copilot-sync (ours): runs one workload, prints its figures as one JSON line.

    python bench/worker_ours.py <workload> --cli PATH [--params JSON] [--env JSON]

Run by ``bench/run.py`` under the project venv; ``bench/worker_official.py`` is its twin for
the official SDK, workload for workload. Every client here is used the way the README shows:
blocking calls, handlers registered with ``session.on``, one thread per concurrent caller.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

from _common import (
    cpu_seconds,
    emit,
    latency_summary,
    parse_args,
    proc_status_kb,
    report_of,
)

import copilot_sync
from copilot_sync import CopilotClient

perf = time.perf_counter


def tools_api() -> tuple[Any, Any]:
    """``(Tool, approve_all)``, or raise AttributeError while tools are not in the SDK yet."""
    tool_cls = copilot_sync.Tool  # type: ignore[attr-defined]
    handler = getattr(copilot_sync, "PermissionHandler", None)
    approve = (
        handler.approve_all
        if handler is not None
        else (lambda request, context: {"kind": "approved"})
    )
    return tool_cls, approve


def noop_tool() -> Any:
    tool_cls, _ = tools_api()
    return tool_cls("noop", "Does nothing; for benchmarks.", lambda invocation: "ok")


def new_client(args: Any) -> Any:
    env = dict(os.environ, **args.env) if args.env else None
    return CopilotClient(cli_path=args.cli, env=env)


def w_start(args: Any, p: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if p.get("provider"):
        options.update(model=p.get("model", "gpt-4.1"), provider=p["provider"])
    start = perf()
    client = new_client(args)
    client.start()
    started = perf()
    client.create_session(**options)
    ready = perf()
    client.stop()
    return {"start_s": started - start, "ready_s": ready - start}


def w_events(args: Any, p: dict[str, Any]) -> dict[str, Any]:
    n = int(p["n"])
    client = new_client(args)
    client.start()
    session = client.create_session(streaming=True)
    report_of(session.send_and_wait(f"bench:prepare {n}", timeout=300).data.content)
    done = threading.Event()
    seen = [0, 0]  # deltas, characters

    def on_delta(event: Any) -> None:
        seen[1] += len(event.data.delta_content)
        seen[0] += 1
        if seen[0] == n:
            done.set()

    session.on("assistant.message_delta", on_delta)
    idle = threading.Event()
    session.on("session.idle", lambda event: idle.set())
    start = perf()
    session.send("bench:deltas")
    if not done.wait(300):
        raise RuntimeError(f"only {seen[0]} of {n} deltas reached the handler")
    elapsed = perf() - start
    idle.wait(60)
    client.stop()
    return {"events_per_s": n / elapsed, "elapsed_s": elapsed, "chars": seen[1]}


def w_turns(args: Any, p: dict[str, Any]) -> dict[str, Any]:
    n, warmup = int(p["n"]), int(p.get("warmup", 20))
    client = new_client(args)
    client.start()
    session = client.create_session()
    for _ in range(warmup):
        session.send_and_wait("warm up", timeout=60)
    latencies = []
    for i in range(n):
        start = perf()
        try:
            session.send_and_wait(f"turn {i}", timeout=60)
        except copilot_sync.NoReplyError as exc:
            raise RuntimeError(f"turn {i} returned no reply") from exc
        latencies.append(perf() - start)
    client.stop()
    return latency_summary(latencies, "turn")


def w_tools(args: Any, p: dict[str, Any]) -> dict[str, Any]:
    n, concurrent, rounds = int(p["n"]), int(p["concurrent"]), int(p.get("rounds", 5))
    _, approve = tools_api()
    client = new_client(args)
    client.start()
    session = client.create_session(tools=[noop_tool()], on_permission_request=approve)
    report_of(session.send_and_wait("bench:tools 50", timeout=120).data.content)  # warm up
    sequential = report_of(session.send_and_wait(f"bench:tools {n}", timeout=600).data.content)
    burst = report_of(
        session.send_and_wait(f"bench:toolsc {concurrent} {rounds}", timeout=600).data.content
    )
    client.stop()
    totals = sorted(burst["totals"])
    return {
        **latency_summary(sequential["rtt"], "tool"),
        "concurrent_total_ms": totals[len(totals) // 2] * 1e3,
        "failures": sequential["failures"] + burst["failures"],
    }


def w_sessions(args: Any, p: dict[str, Any]) -> dict[str, Any]:
    sessions, turns = int(p["sessions"]), int(p["turns"])
    client = new_client(args)
    client.start()
    hwm_before = proc_status_kb("VmHWM")
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            session = client.create_session()
            for t in range(turns):
                try:
                    session.send_and_wait(f"session {i} turn {t}", timeout=120)
                except copilot_sync.NoReplyError as exc:
                    raise RuntimeError("no reply") from exc
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,), name=f"bench-{i}") for i in range(sessions)]
    start = perf()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = perf() - start
    hwm = proc_status_kb("VmHWM")
    client.stop()
    if errors:
        raise RuntimeError(f"{len(errors)} sessions failed; first: {errors[0]!r}")
    return {"total_s": elapsed, "vmhwm_kb": hwm, "vmhwm_before_kb": hwm_before}


def w_sessions_async(args: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Workload 6 driven from one thread: every turn of every session submitted up front
    with send_async (each session runs its turns in order), then all futures awaited."""
    sessions, turns = int(p["sessions"]), int(p["turns"])
    client = new_client(args)
    client.start()
    hwm_before = proc_status_kb("VmHWM")
    opened = [client.create_session() for _ in range(sessions)]
    threads_before = threading.active_count()
    start = perf()
    futures = [
        session.send_async(f"session {i} turn {t}", timeout=120)
        for i, session in enumerate(opened)
        for t in range(turns)
    ]
    extra_threads = threading.active_count() - threads_before
    missing = 0
    for future in futures:
        try:
            future.result(timeout=300)
        except copilot_sync.NoReplyError:
            missing += 1
    elapsed = perf() - start
    hwm = proc_status_kb("VmHWM")
    client.stop()
    if missing:
        raise RuntimeError("a turn had no reply")
    return {
        "total_s": elapsed,
        "vmhwm_kb": hwm,
        "vmhwm_before_kb": hwm_before,
        "extra_threads": extra_threads,
    }


def w_idle(args: Any, p: dict[str, Any]) -> dict[str, Any]:
    seconds = float(p["seconds"])
    client = new_client(args)
    client.start()
    session = client.create_session()
    session.send_and_wait("hello", timeout=60)
    time.sleep(0.5)
    cpu0, t0 = cpu_seconds(), perf()
    time.sleep(seconds)
    cpu, wall = cpu_seconds() - cpu0, perf() - t0
    threads = threading.active_count()
    client.stop()
    return {"idle_cpu_pct": cpu / wall * 100.0, "idle_cpu_ms": cpu * 1e3, "threads": threads}


def w_real(args: Any, p: dict[str, Any]) -> dict[str, Any]:
    turns = int(p["turns"])
    _, approve = tools_api()
    calls = [0]

    def noop(invocation: Any) -> str:
        calls[0] += 1
        return "ok"

    tool_cls, _ = tools_api()
    start = perf()
    client = new_client(args)
    client.start()
    started = perf()
    session = client.create_session(
        model=p["model"],
        provider=p["provider"],
        tools=[tool_cls("noop", "Does nothing.", noop)],
        on_permission_request=approve,
    )
    ready = perf()
    replies: list[str | None] = []
    t0 = perf()
    for i in range(turns):
        try:
            reply = session.send_and_wait(f"Turn {i}: call the noop tool.", timeout=120)
            replies.append(reply.data.content)
        except copilot_sync.NoReplyError:
            replies.append(None)
    elapsed = perf() - t0
    client.stop()
    if calls[0] != turns or any(r != f"done {i}" for i, r in enumerate(replies)):
        raise RuntimeError(f"the conversation went wrong: {calls[0]} tool calls, replies {replies}")
    return {"start_s": started - start, "ready_s": ready - start, "conversation_s": elapsed}


WORKLOADS = {name[2:]: fn for name, fn in globals().items() if name.startswith("w_")}


def main() -> int:
    args = parse_args()
    emit(WORKLOADS[args.workload](args, args.params))
    return 0


if __name__ == "__main__":
    sys.exit(main())
