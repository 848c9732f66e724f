"""Row 5: load against the fake CLI (same wire protocol, real pipes). The figures are real counts."""

from __future__ import annotations

import gc
import random
import string
import threading
import time

import pytest

from copilot_sync import CopilotClient
from copilot_sync.testing import FakeCLI, Scenario

from .conftest import fake_client, rss_kb

pytestmark = [pytest.mark.reliability_row(5), pytest.mark.timeout(120)]


def test_100_sessions_from_16_threads_no_deadlock_no_cross_talk(record):
    sessions_total, threads_total, turns = 100, 16, 3
    with fake_client() as (_fake, client):
        events: dict[str, list] = {}
        errors: list[BaseException] = []
        replies: dict[str, list[str]] = {}
        lock = threading.Lock()

        def drive(worker: int) -> None:
            try:
                mine = []
                for index in range(worker, sessions_total, threads_total):
                    session = client.create_session(session_id=f"load-{index:03d}")
                    seen: list = []
                    session.on(seen.append)
                    with lock:
                        events[session.session_id] = seen
                        replies[session.session_id] = []
                    mine.append(session)
                for turn in range(turns):  # interleave this thread's sessions
                    for session in mine:
                        reply = session.send_and_wait(
                            f"{session.session_id}/turn-{turn}", timeout=30
                        )
                        replies[session.session_id].append(reply.data.content)
                for session in mine:
                    session.disconnect()
            except BaseException as exc:
                with lock:
                    errors.append(exc)

        began = time.monotonic()
        workers = [
            threading.Thread(target=drive, args=(n,), name=f"test-driver-{n}")
            for n in range(threads_total)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(90)
        elapsed = time.monotonic() - began
        assert not [w.name for w in workers if w.is_alive()], "deadlock: drivers still running"
        assert not errors, errors[:3]
        assert len(events) == sessions_total
        crossed = 0
        delivered = 0
        for session_id, seen in events.items():
            assert replies[session_id] == [f"echo: {session_id}/turn-{t}" for t in range(turns)]
            for event in seen:
                delivered += 1
                data = event.raw.get("data") or {}
                text = data.get("content") if isinstance(data, dict) else None
                if isinstance(text, str) and "load-" in text and session_id not in text:
                    crossed += 1
            users = [e.data.content for e in seen if e.raw_type == "user.message"]
            assert users == [f"{session_id}/turn-{t}" for t in range(turns)]
        assert crossed == 0
    record(
        "100 sessions on one client, driven from 16 threads (3 turns each)",
        figure=f"{sessions_total * turns} turns, {delivered:,} events in {elapsed:.1f} s; 0 events in the wrong session",
        outcome="no deadlock; every reply and every user.message belongs to its own session, in order",
    )


def test_100000_streamed_deltas_none_lost_order_kept(record):
    n = 100_000
    with fake_client() as (fake, client):
        session = client.create_session()
        state = {"next": 0, "bad": 0}
        done = threading.Event()

        def check(event) -> None:
            if event.data.delta_content != str(state["next"]):
                state["bad"] += 1
            state["next"] += 1
            if state["next"] == n:
                done.set()

        session.on("assistant.message_delta", check)
        gc.collect()
        rss_before = rss_kb()
        began = time.monotonic()
        fake.emit_deltas(session.session_id, n, text="{i}")
        assert done.wait(60), f"only {state['next']:,} of {n:,} deltas arrived"
        elapsed = time.monotonic() - began
        rss_after = rss_kb()
        assert state == {"next": n, "bad": 0}
    record(
        "100,000 streamed deltas to an on() handler",
        figure=f"{n:,} of {n:,} in order in {elapsed:.2f} s ({n / elapsed:,.0f}/s); RSS +{(rss_after - rss_before) / 1024:.1f} MB",
        outcome="none lost, order kept",
    )


def test_100000_deltas_through_stream(record):
    """One turn whose reply arrives as 100,000 one-character deltas, read with stream()."""
    n = 100_000
    text = "".join(random.Random(5).choices(string.ascii_letters + string.digits, k=n))
    with FakeCLI(Scenario(reply_text=text, streaming_chunks=n)) as fake:
        client = CopilotClient(cli_path=fake.cli_path)
        client.start()
        try:
            session = client.create_session(streaming=True)
            began = time.monotonic()
            pieces: list[str] = []
            final = None
            for event in session.stream("go", timeout=60):
                if event.raw_type == "assistant.message_delta":
                    pieces.append(event.data.delta_content)
                elif event.raw_type == "assistant.message":
                    final = event.data.content
            elapsed = time.monotonic() - began
        finally:
            client.stop(timeout=5)
    assert len(pieces) == n
    assert "".join(pieces) == text == final
    record(
        "100,000 deltas of one turn through stream() (bounded buffer of 10,000)",
        figure=f"{len(pieces):,} deltas in {elapsed:.2f} s ({n / elapsed:,.0f}/s)",
        outcome="concatenation equals the final message: none lost, order kept",
    )


def test_10000_turn_soak_memory(record):
    turns, warm_up = 10_000, 500
    with fake_client() as (fake, client):
        session = client.create_session()
        for i in range(warm_up):
            session.send_and_wait(f"warm {i}", timeout=30)
        fake.clear_received()
        gc.collect()
        start_rss = rss_kb()
        samples = []
        began = time.monotonic()
        for i in range(turns):
            reply = session.send_and_wait(f"turn {i}", timeout=30)
            if reply.data.content != f"echo: turn {i}":
                pytest.fail(f"turn {i} answered {reply.data.content!r}")
            if i % 500 == 499:
                fake.clear_received()  # the fake's own recording lives in this process too
            if i % 2000 == 1999:
                samples.append(rss_kb())
        elapsed = time.monotonic() - began
        gc.collect()
        end_rss = rss_kb()
    growth_mb = (end_rss - start_rss) / 1024
    assert growth_mb < 5.0, f"RSS grew {growth_mb:.1f} MB over {turns} turns: {samples}"
    record(
        "10,000-turn soak (send_and_wait, one session)",
        figure=f"{turns:,} turns in {elapsed:.1f} s ({turns / elapsed:,.0f} turns/s); RSS {start_rss / 1024:.1f} → "
        f"{end_rss / 1024:.1f} MB (growth {growth_mb:+.2f} MB; target < 5 MB)",
        outcome="every turn answered with its own reply; memory flat (RSS every 2,000 turns: "
        + ", ".join(f"{(s - start_rss) / 1024:+.2f}" for s in samples)
        + " MB)",
    )


def test_1000_concurrent_tool_calls_through_8_workers(record):
    from copilot_sync import define_tool

    calls, workers = 1000, 8
    state = {"active": 0, "peak": 0}
    lock = threading.Lock()
    names: set[str] = set()

    @define_tool(description="doubles n, slowly")
    def double(n: int) -> str:
        with lock:
            state["active"] += 1
            state["peak"] = max(state["peak"], state["active"])
            names.add(threading.current_thread().name)
        time.sleep(0.002)
        with lock:
            state["active"] -= 1
        return str(n * 2)

    with FakeCLI(Scenario()) as fake:
        client = CopilotClient(cli_path=fake.cli_path, max_workers=workers)
        client.start()
        try:
            session = client.create_session(tools=[double])
            fake.clear_received()
            gc.collect()
            rss_before = rss_kb()
            began = time.monotonic()
            fake.emit_many(
                session.session_id,
                [
                    (
                        "external_tool.requested",
                        {
                            "requestId": f"r{i}",
                            "toolCallId": f"c{i}",
                            "toolName": "double",
                            "arguments": {"n": i},
                        },
                    )
                    for i in range(calls)
                ],
            )
            deadline = time.monotonic() + 60
            while (
                len(fake.requests("session.tools.handlePendingToolCall")) < calls
                and time.monotonic() < deadline
            ):
                time.sleep(0.02)
            elapsed = time.monotonic() - began
            answers = fake.requests("session.tools.handlePendingToolCall")
            rss_after = rss_kb()
            assert (
                session.send_and_wait("after the storm", timeout=10).data.content
                == "echo: after the storm"
            )
        finally:
            client.stop(timeout=10)
    got = {a["params"]["requestId"]: a["params"]["result"]["textResultForLlm"] for a in answers}
    assert len(answers) == calls and got == {f"r{i}": str(i * 2) for i in range(calls)}
    assert state["peak"] <= workers and len(names) <= workers
    growth = (rss_after - rss_before) / 1024
    assert growth < 20, f"RSS grew {growth:.1f} MB"
    record(
        "1,000 concurrent tool calls through a pool of 8 (`max_workers=8`)",
        figure=f"{len(answers):,}/{calls:,} answered correctly in {elapsed:.2f} s; at most {state['peak']} at once on "
        f"{len(names)} worker threads; RSS {growth:+.1f} MB",
        outcome="all answered exactly once, none lost; memory bounded (the queue holds at most 1,024 jobs)",
    )


def test_a_thousand_async_turns_on_twenty_sessions_from_one_thread(record):
    """send_async: 1,000 futures submitted up front from one thread, 50 per session; each
    gets its own reply, in order per session, and no thread is started per future."""
    with fake_client() as (fake, client):
        sessions = [client.create_session() for _ in range(20)]
        threads_before = threading.active_count()
        started = time.monotonic()
        futures = {
            (s, i): session.send_async(f"s{s}-t{i}", timeout=60)
            for s, session in enumerate(sessions)
            for i in range(50)
        }
        extra_threads = threading.active_count() - threads_before
        replies = {key: future.result(timeout=60) for key, future in futures.items()}
        elapsed = time.monotonic() - started
        wrong = [
            key
            for key, reply in replies.items()
            if reply.data.content != f"echo: s{key[0]}-t{key[1]}"
        ]
        assert not wrong, wrong[:5]
        for s in range(20):  # the fake saw each session's prompts in submission order
            prompts = [
                m["params"]["prompt"]
                for m in fake.requests("session.send")
                if m["params"]["sessionId"] == sessions[s].session_id
            ]
            assert prompts == [f"s{s}-t{i}" for i in range(50)]
        # at most the shared deadline timer and the connection's background writer (one per
        # connection, for frames handed over while another frame was being written)
        assert extra_threads <= 3, extra_threads
    record(
        "1,000 send_async turns on 20 sessions, submitted from one thread",
        figure=f"all replies correct and in order in {elapsed:.1f} s ({len(futures) / elapsed:.0f} turns/s); {extra_threads} extra threads",
        outcome="each future got its own turn's reply; per-session FIFO; no thread per future",
    )
