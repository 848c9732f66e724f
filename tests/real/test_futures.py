"""send_async futures and send_and_collect against the real CLI, with the scripted model."""

from __future__ import annotations

import concurrent.futures as cf
import re
import threading
import time

from copilot_sync.testing import Reply

from .conftest import open_session

_TOKEN = re.compile(r"tok-\d+-\d+")


def _echo_token(request):
    """Answer each prompt with the token it carries, slowly enough that turns overlap."""
    match = _TOKEN.search(request.user_prompt)
    return Reply(text=f"reply {match.group(0) if match else 'none'}", delay=0.05)


def test_twenty_turns_on_five_sessions_from_one_thread(client, model):
    model.responder = _echo_token
    sessions = [open_session(client, model) for _ in range(5)]
    try:
        deliveries: dict[str, list[str]] = {s.session_id: [] for s in sessions}
        for session in sessions:
            session.on(
                "user.message",
                lambda e, sid=session.session_id: deliveries[sid].append(e.data.delivery),
            )
        began = time.monotonic()
        futures = {
            (s, t): session.send_async(f"Please answer with tok-{s}-{t}.", timeout=60)
            for t in range(4)
            for s, session in enumerate(sessions)
        }
        assert time.monotonic() - began < 2.0  # all 20 submitted without waiting for a turn
        _done, pending = cf.wait(futures.values(), timeout=50)
        assert not pending, f"{len(pending)} futures still pending"
        elapsed = time.monotonic() - began
        for (s, t), future in futures.items():
            assert future.result(0).data.content == f"reply tok-{s}-{t}", (s, t)
            assert future.message_id
        for session in sessions:
            session.wait_for_idle(timeout=10)
            # the CLI never had to queue one of them behind another turn
            assert deliveries[session.session_id] == ["idle"] * 4
        # per session, the model saw the prompts in submission order
        for s in range(5):
            seen = [
                m.group(0)
                for r in model.requests
                if (m := _TOKEN.search(r.user_prompt)) and m.group(0).startswith(f"tok-{s}-")
            ]
            assert seen == [f"tok-{s}-{t}" for t in range(4)]
        print(f"20 turns on 5 sessions in {elapsed:.2f}s")
    finally:
        for session in sessions:
            session.disconnect()


def test_cancel_aborts_the_running_turn_and_the_next_one_runs(client, model):
    model.add_reply("too late", delay=30)
    model.add_reply("fast answer")
    with open_session(client, model) as session:
        aborts: list[str] = []
        session.on("abort", lambda e: aborts.append(e.data.reason))
        slow = session.send_async("slow question", timeout=60)
        after = session.send_async("next question", timeout=60)
        model.wait_for_requests(1, timeout=30)
        assert slow.running() and not after.running()
        began = time.monotonic()
        assert slow.cancel() is True
        assert time.monotonic() - began < 1.0
        assert slow.cancelled()
        assert after.result(30).data.content == "fast answer"
        assert time.monotonic() - began < 15
        assert aborts == ["user_initiated"]
        session.wait_for_idle(timeout=10)


def test_send_and_collect_without_streaming(client, model):
    model.add_reply("The quick brown fox jumps over the lazy dog.", chunks=5)
    with open_session(client, model) as session:
        chunks: list[str] = []
        text = session.send_and_collect("Tell me about foxes", timeout=60, on_text=chunks.append)
    assert text == "The quick brown fox jumps over the lazy dog."
    assert chunks == [text]


def test_send_and_collect_with_streaming(client, model):
    model.add_reply("The quick brown fox jumps over the lazy dog.", chunks=5, chunk_delay=0.02)
    with open_session(client, model, streaming=True) as session:
        chunks: list[str] = []
        threads: set[str] = set()

        def on_text(chunk):
            chunks.append(chunk)
            threads.add(threading.current_thread().name)

        text = session.send_and_collect("Tell me about foxes", timeout=60, on_text=on_text)
    assert text == "The quick brown fox jumps over the lazy dog."
    assert len(chunks) >= 2 and "".join(chunks) == text  # every character exactly once
    assert threads == {threading.current_thread().name}


def test_wait_for_idle_after_send(client, model):
    model.add_reply("done", delay=0.5)
    with open_session(client, model) as session:
        replies: list[str] = []
        session.on("assistant.message", lambda e: replies.append(e.data.content))
        session.send("fire and forget")
        session.wait_for_idle(timeout=30)
        assert replies == ["done"]
