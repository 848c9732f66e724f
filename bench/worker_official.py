"""Bench worker for the official async SDK (``github-copilot-sdk``, ``import copilot``).

    bench/.venv-official/bin/python bench/worker_official.py <workload> --cli PATH [--params JSON] [--env JSON]

The twin of ``bench/worker_ours.py``: the same workloads, written the way the official SDK is
meant to be used (one event loop, ``await``, one task per concurrent caller, synchronous
handlers registered with ``session.on``).

One deviation, on the real CLI only: the official SDK 1.0.27's ``send_and_wait`` never returns
with CLI 1.0.81 (it tries ``session.sendAndWait``, gets -32601, then waits for a ``user.message``
carrying the send's ``messageId``, a field 1.0.81 does not send, so it times out). There the
worker uses :func:`send_and_wait_v081`, the documented algorithm (subscribe, ``send``, last
``assistant.message``, ``session.idle``) on the official SDK's public ``on``/``send``. The bench
fake adds that ``messageId``, so against the fake the official ``send_and_wait`` itself runs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
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
from copilot import CopilotClient, PermissionHandler, Tool, ToolResult
from copilot.client import RuntimeConnection
from copilot.generated.session_events import SessionEventType

perf = time.perf_counter
DELTA = SessionEventType.ASSISTANT_MESSAGE_DELTA
IDLE = SessionEventType.SESSION_IDLE
MESSAGE = SessionEventType.ASSISTANT_MESSAGE

# The SDK logs the expected -32601 of its session.sendAndWait probe with a traceback through
# logging's last-resort handler; keep that off the bench's stderr without formatting it.
logging.getLogger("copilot").addHandler(logging.NullHandler())
logging.getLogger("copilot").propagate = False


def new_client(args: Any) -> CopilotClient:
    env = dict(os.environ, **args.env) if args.env else None
    return CopilotClient(connection=RuntimeConnection.for_stdio(path=args.cli), env=env)


def noop_tool(handler: Any = None) -> Tool:
    return Tool(
        name="noop",
        description="Does nothing; for benchmarks.",
        handler=handler or (lambda invocation: ToolResult(text_result_for_llm="ok")),
    )


async def send_and_wait_v081(session: Any, prompt: str, timeout: float) -> Any:
    """send_and_wait for CLI 1.0.81 on the official SDK's public API (see the module docstring)."""
    loop = asyncio.get_running_loop()
    idle = loop.create_future()
    last: list[Any] = [None]

    def handler(event: Any) -> None:
        if event.agent_id:
            return
        if event.type == MESSAGE:
            last[0] = event
        elif event.type == IDLE and not idle.done():
            idle.set_result(None)

    unsubscribe = session.on(handler)
    try:
        await session.send(prompt)
        await asyncio.wait_for(idle, timeout)
        return last[0]
    finally:
        unsubscribe()


async def w_start(args: Any, p: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if p.get("provider"):
        options.update(model=p.get("model", "gpt-4.1"), provider=p["provider"])
    start = perf()
    client = new_client(args)
    await client.start()
    started = perf()
    await client.create_session(on_permission_request=PermissionHandler.approve_all, **options)
    ready = perf()
    await client.stop()
    return {"start_s": started - start, "ready_s": ready - start}


async def w_events(args: Any, p: dict[str, Any]) -> dict[str, Any]:
    n = int(p["n"])
    client = new_client(args)
    await client.start()
    session = await client.create_session(
        on_permission_request=PermissionHandler.approve_all, streaming=True
    )
    report_of((await session.send_and_wait(f"bench:prepare {n}", timeout=300)).data.content)
    done = asyncio.Event()
    idle = asyncio.Event()
    seen = [0, 0]

    def handler(event: Any) -> None:
        if event.type == DELTA:
            seen[1] += len(event.data.delta_content)
            seen[0] += 1
            if seen[0] == n:
                done.set()
        elif event.type == IDLE:
            idle.set()

    session.on(handler)
    start = perf()
    await session.send("bench:deltas")
    try:
        await asyncio.wait_for(done.wait(), 300)
    except asyncio.TimeoutError:
        raise RuntimeError(f"only {seen[0]} of {n} deltas reached the handler") from None
    elapsed = perf() - start
    await asyncio.wait_for(idle.wait(), 60)
    await client.stop()
    return {"events_per_s": n / elapsed, "elapsed_s": elapsed, "chars": seen[1]}


async def w_turns(args: Any, p: dict[str, Any]) -> dict[str, Any]:
    n, warmup = int(p["n"]), int(p.get("warmup", 20))
    client = new_client(args)
    await client.start()
    session = await client.create_session(on_permission_request=PermissionHandler.approve_all)
    for _ in range(warmup):
        await session.send_and_wait("warm up", timeout=60)
    latencies = []
    for i in range(n):
        start = perf()
        reply = await session.send_and_wait(f"turn {i}", timeout=60)
        latencies.append(perf() - start)
        if reply is None:
            raise RuntimeError(f"turn {i} returned no reply")
    await client.stop()
    return latency_summary(latencies, "turn")


async def w_tools(args: Any, p: dict[str, Any]) -> dict[str, Any]:
    n, concurrent, rounds = int(p["n"]), int(p["concurrent"]), int(p.get("rounds", 5))
    client = new_client(args)
    await client.start()
    session = await client.create_session(
        on_permission_request=PermissionHandler.approve_all, tools=[noop_tool()]
    )
    report_of((await session.send_and_wait("bench:tools 50", timeout=120)).data.content)
    sequential = report_of(
        (await session.send_and_wait(f"bench:tools {n}", timeout=600)).data.content
    )
    burst = report_of(
        (
            await session.send_and_wait(f"bench:toolsc {concurrent} {rounds}", timeout=600)
        ).data.content
    )
    await client.stop()
    totals = sorted(burst["totals"])
    return {
        **latency_summary(sequential["rtt"], "tool"),
        "concurrent_total_ms": totals[len(totals) // 2] * 1e3,
        "failures": sequential["failures"] + burst["failures"],
    }


async def w_sessions(args: Any, p: dict[str, Any]) -> dict[str, Any]:
    sessions, turns = int(p["sessions"]), int(p["turns"])
    client = new_client(args)
    await client.start()
    hwm_before = proc_status_kb("VmHWM")

    async def one(i: int) -> None:
        session = await client.create_session(on_permission_request=PermissionHandler.approve_all)
        for t in range(turns):
            if await session.send_and_wait(f"session {i} turn {t}", timeout=120) is None:
                raise RuntimeError("no reply")

    start = perf()
    await asyncio.gather(*(one(i) for i in range(sessions)))
    elapsed = perf() - start
    hwm = proc_status_kb("VmHWM")
    await client.stop()
    return {"total_s": elapsed, "vmhwm_kb": hwm, "vmhwm_before_kb": hwm_before}


async def w_idle(args: Any, p: dict[str, Any]) -> dict[str, Any]:
    seconds = float(p["seconds"])
    client = new_client(args)
    await client.start()
    session = await client.create_session(on_permission_request=PermissionHandler.approve_all)
    await session.send_and_wait("hello", timeout=60)
    await asyncio.sleep(0.5)
    cpu0, t0 = cpu_seconds(), perf()
    await asyncio.sleep(seconds)
    cpu, wall = cpu_seconds() - cpu0, perf() - t0
    import threading

    threads = threading.active_count()
    await client.stop()
    return {"idle_cpu_pct": cpu / wall * 100.0, "idle_cpu_ms": cpu * 1e3, "threads": threads}


async def w_real(args: Any, p: dict[str, Any]) -> dict[str, Any]:
    turns = int(p["turns"])
    calls = [0]

    def noop(invocation: Any) -> ToolResult:
        calls[0] += 1
        return ToolResult(text_result_for_llm="ok")

    start = perf()
    client = new_client(args)
    await client.start()
    started = perf()
    session = await client.create_session(
        on_permission_request=PermissionHandler.approve_all,
        model=p["model"],
        provider=p["provider"],
        tools=[noop_tool(noop)],
    )
    ready = perf()
    replies = []
    t0 = perf()
    for i in range(turns):
        reply = await send_and_wait_v081(session, f"Turn {i}: call the noop tool.", timeout=120)
        replies.append(reply.data.content if reply is not None else None)
    elapsed = perf() - t0
    await client.stop()
    if calls[0] != turns or any(r != f"done {i}" for i, r in enumerate(replies)):
        raise RuntimeError(f"the conversation went wrong: {calls[0]} tool calls, replies {replies}")
    return {"start_s": started - start, "ready_s": ready - start, "conversation_s": elapsed}


WORKLOADS = {name[2:]: fn for name, fn in globals().items() if name.startswith("w_")}


def main() -> int:
    args = parse_args()
    emit(asyncio.run(WORKLOADS[args.workload](args, args.params)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
