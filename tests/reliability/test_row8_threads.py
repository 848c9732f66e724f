"""Row 8: many threads, one session. Every blocking call of a session (send_and_wait, stream,
send_and_collect) and send_async share one FIFO queue of turns, so each caller gets the reply
to its own prompt; one deadline per call, time in the queue included; a blocking call from a
handler that could never complete raises ReentrancyError at once, and calls that can complete,
do."""

from __future__ import annotations

import threading
import time

import pytest

from copilot_sync import (
    CopilotClient,
    CopilotTimeoutError,
    ReentrancyError,
    define_tool,
)
from copilot_sync.testing import Reply, ScriptedModelServer, ToolCall

from .conftest import fake_client, run_in_thread, stop_client

pytestmark = [pytest.mark.reliability_row(8), pytest.mark.timeout(180)]

THREADS = 8


@pytest.fixture
def real_client(real_cli, cli_env):
    client = CopilotClient(cli_path=real_cli.path, env=cli_env)
    client.start()
    yield client
    stop_client(client)


def _echo(request) -> Reply:
    """Answer each prompt with text derived from it (slowly enough for turns to overlap)."""
    return Reply(text=f"Reply to: {request.user_prompt}", delay=0.05)


def _run_threads(
    count, target
) -> tuple[list[threading.Thread], dict[int, object], list[BaseException]]:
    results: dict[int, object] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(index):
        try:
            start.wait(30)
            results[index] = target(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(i,), name=f"test-caller-{i}") for i in range(count)
    ]
    for thread in threads:
        thread.start()
    return threads, results, errors


def _join(threads, timeout=120):
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "a caller thread is still blocked"


# ============================================================================ 1. one order per session


def test_eight_threads_send_and_wait_on_one_session_each_get_their_own_reply(real_client, record):
    """Eight threads x send_and_wait on one session (real CLI): each gets its own prompt's reply."""
    with ScriptedModelServer(responder=_echo) as model:
        session = real_client.create_session(model=model.model, provider=model.provider())
        try:
            wrong = 0
            began = time.monotonic()
            for round_number in range(2):
                prompts = [f"thread {i} round {round_number}" for i in range(THREADS)]
                threads, results, errors = _run_threads(
                    THREADS,
                    lambda i, prompts=prompts: (
                        session.send_and_wait(prompts[i], timeout=120).data.content
                    ),
                )
                _join(threads)
                assert not errors, errors
                wrong += sum(results[i] != f"Reply to: {prompts[i]}" for i in range(THREADS))
                assert results == {i: f"Reply to: {prompts[i]}" for i in range(THREADS)}
            took = time.monotonic() - began
            # each prompt reached the model once: the SDK sent one message at a time
            seen = [r.user_prompt for r in model.requests]
            assert sorted(seen) == sorted(
                f"thread {i} round {r}" for i in range(THREADS) for r in range(2)
            )
        finally:
            session.disconnect()
    record(
        f"{THREADS} threads x send_and_wait on one session, 2 rounds (real CLI)",
        figure=f"{2 * THREADS} turns in {took:.1f} s; {wrong} wrong replies",
        outcome="every thread got the reply to its own prompt; each prompt reached the model once",
    )


def test_mixed_blocking_calls_and_futures_from_eight_threads(real_client, record):
    """send_and_wait, stream, send_and_collect and send_async from eight threads share one order."""
    calls = {
        0: ("send_and_wait", lambda s, p: s.send_and_wait(p, timeout=120).data.content),
        1: (
            "stream",
            lambda s, p: [
                e.data.content
                for e in s.stream(p, timeout=120)
                if e.raw_type == "assistant.message"
            ][-1],
        ),
        2: ("send_and_collect", lambda s, p: s.send_and_collect(p, timeout=120)),
        3: ("send_async", lambda s, p: s.send_async(p, timeout=120).result(120).data.content),
    }
    with ScriptedModelServer(responder=_echo) as model:
        session = real_client.create_session(
            model=model.model, provider=model.provider(), streaming=True
        )
        try:
            prompts = [f"{calls[i % 4][0]} from thread {i}" for i in range(THREADS)]
            threads, results, errors = _run_threads(
                THREADS, lambda i: calls[i % 4][1](session, prompts[i])
            )
            # wait_for_idle waits for the queue to drain: every turn reached the model by then
            model.wait_for_requests(
                2, timeout=60
            )  # the callers have long queued their turns by then
            session.wait_for_idle(timeout=120)
            requests_at_idle = len(model.requests)
            _join(threads)
            assert not errors, errors
            assert results == {i: f"Reply to: {prompts[i]}" for i in range(THREADS)}
            assert requests_at_idle == THREADS
        finally:
            session.disconnect()
    record(
        "8 threads mixing send_and_wait, stream, send_and_collect, send_async(...).result() (real CLI, streaming)",
        figure=f"{THREADS}/{THREADS} own replies; wait_for_idle returned after all {requests_at_idle} model calls",
        outcome="one FIFO order per session shared by every blocking path and wait_for_idle",
    )


def test_overlapping_calls_never_make_the_cli_queue_a_message(record):
    """Fake CLI: eight overlapping send_and_wait calls; the CLI receives each message while idle."""
    from copilot_sync.testing import Scenario

    with fake_client(Scenario(think_time=0.05)) as (_fake, client):
        session = client.create_session()
        deliveries: list[str] = []
        session.on("user.message", lambda e: deliveries.append(e.raw["data"].get("delivery")))
        threads, results, errors = _run_threads(
            THREADS, lambda i: session.send_and_wait(f"p{i}", timeout=60).data.content
        )
        _join(threads, 60)
        assert not errors, errors
        assert results == {i: f"echo: p{i}" for i in range(THREADS)}
        assert deliveries == ["idle"] * THREADS  # never "queued" behind another turn
    record(
        "8 overlapping send_and_wait calls (fake CLI that shares one idle among queued messages)",
        figure=f"{THREADS} messages, 0 queued by the CLI",
        outcome="the SDK sends the next message only after the previous turn's own idle",
    )


# ============================================================================ 1. timeouts: one rule, one deadline


@pytest.mark.parametrize("call", ["send_and_wait", "stream", "send_and_collect"])
def test_a_deadline_that_passes_in_the_queue_sends_nothing(call, record):
    """A call still queued when its deadline passes leaves the queue; its message is never sent."""
    from copilot_sync.testing import Scenario

    with fake_client(Scenario(think_time=2.0)) as (fake, client):
        session = client.create_session()
        first = session.send_async("first", timeout=30)
        began = time.monotonic()
        with pytest.raises(CopilotTimeoutError) as info:
            if call == "send_and_wait":
                session.send_and_wait("queued", timeout=0.5)
            elif call == "stream":
                list(session.stream("queued", timeout=0.5))
            else:
                session.send_and_collect("queued", timeout=0.5)
        took = time.monotonic() - began
        assert "still waiting for earlier turns" in str(info.value) and "never sent" in str(
            info.value
        )
        assert took < 1.5
        assert first.result(30).data.content == "echo: first"
        assert session.send_and_wait("after", timeout=30).data.content == "echo: after"
        sent = [m["params"]["prompt"] for m in fake.requests("session.send")]
        assert sent == ["first", "after"], sent
    record(
        f"{call}(timeout=0.5) queued behind a 2 s turn (fake CLI)",
        figure=f"CopilotTimeoutError after {took:.2f} s",
        outcome="'still waiting for earlier turns'; removed from the queue, never sent; later turns unaffected",
    )


def test_one_deadline_covers_the_queue_and_the_turn(record):
    """timeout=1.5 behind a 1 s turn, for a 1 s turn of its own: 1.5 s in all, then 'still running'."""
    from copilot_sync.testing import Scenario

    with fake_client(Scenario(think_time=1.0)) as (fake, client):
        session = client.create_session()
        first = session.send_async("first")
        began = time.monotonic()
        with pytest.raises(CopilotTimeoutError) as info:
            session.send_and_wait("second", timeout=1.5)
        took = time.monotonic() - began
        text = str(info.value)
        assert 1.4 < took < 2.0, took
        assert "still running on the CLI" in text and "session.abort()" in text
        assert first.result(10).data.content == "echo: first"
        session.wait_for_idle(10)  # the timed-out turn went on; nothing was aborted
        assert fake.requests("session.abort") == []
    record(
        "send_and_wait(timeout=1.5): 1 s in the queue, then its own 1 s turn",
        figure=f"CopilotTimeoutError after {took:.2f} s",
        outcome="one deadline for the whole call; the error says the turn still runs and session.abort() stops it",
    )


BAD = [-1, -0.5, 0, float("inf"), float("nan"), "5", True]


def test_bad_timeouts_are_refused_at_once_by_every_blocking_call(record):
    """-1 and inf used to block forever and -0.5, '5', nan to fail only after sending."""
    with fake_client() as (fake, client):
        session = client.create_session()
        calls = {
            "send_and_wait": lambda t: session.send_and_wait("x", timeout=t),
            "stream": lambda t: session.stream("x", timeout=t),
            "send_and_collect": lambda t: session.send_and_collect("x", timeout=t),
            "send_async": lambda t: session.send_async("x", timeout=t),
            "send": lambda t: session.send("x", timeout=t),
            "wait_for_idle": lambda t: session.wait_for_idle(timeout=t),
            "abort": lambda t: session.abort(timeout=t),
        }
        began = time.monotonic()
        for _name, call in calls.items():
            for bad in BAD:
                with pytest.raises(ValueError, match="timeout"):
                    call(bad)
        took = time.monotonic() - began
        assert fake.requests("session.send") == [] and fake.requests("session.abort") == []
        assert session.send_and_wait("fine", timeout=10).data.content == "echo: fine"
    record(
        f"{len(calls)} session calls x {len(BAD)} bad timeouts (-1, -0.5, 0, inf, nan, '5', True)",
        figure=f"all refused in {took * 1000:.0f} ms",
        outcome="ValueError before anything is sent; the session works afterwards",
    )


# ============================================================================ 2. re-entrancy


def _script(routes):
    """A responder: ``routes[prompt]`` is ``(first answer, answer after a tool result)``; an
    answer is a ``ToolCall`` or a callable of the tool's output returning text."""

    def respond(request):
        first, after_tool = routes[request.user_prompt]
        if request.messages and request.messages[-1].get("role") == "tool":
            return Reply(text=after_tool(request.tool_results[-1]["content"]))
        if isinstance(first, ToolCall):
            return Reply(tool_calls=[first])
        return Reply(text=first)

    return respond


def test_send_and_wait_on_its_own_session_from_a_tool_fails_at_once(real_client, record):
    """A tool calling send_and_wait on its own session gets ReentrancyError at once; the turn completes."""
    holder = {}
    seen = {}

    @define_tool(skip_permission=True)
    def ask_myself(question: str) -> str:
        """Ask the same session a question."""
        began = time.monotonic()
        try:
            holder["session"].send_and_wait(question, timeout=10)
            return "no error"
        except ReentrancyError as exc:
            seen["took"] = time.monotonic() - began
            return f"ReentrancyError: {exc}"
        except Exception as exc:
            seen["took"] = time.monotonic() - began
            return f"{type(exc).__name__}: {exc}"

    routes = {
        "use the tool": (
            ToolCall("ask_myself", {"question": "inner question"}),
            lambda out: f"final: {out[:60]}",
        ),
        "inner question": ("the inner reply", None),
    }
    with ScriptedModelServer(responder=_script(routes)) as model:
        session = real_client.create_session(
            model=model.model, provider=model.provider(), tools=[ask_myself]
        )
        holder["session"] = session
        try:
            began = time.monotonic()
            reply = session.send_and_wait("use the tool", timeout=60)
            took = time.monotonic() - began
            tool_output = model.requests[-1].tool_results[-1]["content"]
            prompts = [r.user_prompt for r in model.requests]
        finally:
            session.disconnect()
    assert seen["took"] < 1.0, seen
    assert tool_output.startswith("ReentrancyError:") and "can never complete" in tool_output
    assert "send_async() or send()" in tool_output
    assert reply.data.content == "final: " + tool_output[:60]
    assert prompts == ["use the tool", "use the tool"]  # the inner prompt never reached the CLI
    record(
        "a tool handler calls send_and_wait on its own session (real CLI)",
        figure=f"ReentrancyError after {seen['took'] * 1000:.1f} ms; outer turn done in {took:.2f} s",
        outcome="the tool returned the error text to the model; the outer turn completed; nothing sent",
    )


def test_a_ring_of_two_sessions_fails_at_once_on_the_second_call(real_client, record):
    """A's tool waits on B while B's tool waits on A: the second call raises ReentrancyError at once."""
    sessions = {}
    timings = {}

    def make_tool(name, target):
        @define_tool(name=name, skip_permission=True)
        def ask(question: str) -> str:
            """Ask another session a question."""
            began = time.monotonic()
            try:
                return sessions[target].send_and_wait(question, timeout=10).data.content
            except ReentrancyError as exc:
                timings[name] = time.monotonic() - began
                return f"ReentrancyError: {exc}"
            except Exception as exc:
                timings[name] = time.monotonic() - began
                return f"{type(exc).__name__}: {exc}"

        return ask

    routes = {
        "start on A": (
            ToolCall("ask_b", {"question": "from A to B"}),
            lambda out: f"A done after: {out[:40]}",
        ),
        "from A to B": (
            ToolCall("ask_a", {"question": "from B to A"}),
            lambda out: f"B done after: {out[:30]}",
        ),
        "from B to A": ("A answered B", None),
    }
    with ScriptedModelServer(responder=_script(routes)) as model:
        options = {"model": model.model, "provider": model.provider()}
        sessions["a"] = real_client.create_session(tools=[make_tool("ask_b", "b")], **options)
        sessions["b"] = real_client.create_session(tools=[make_tool("ask_a", "a")], **options)
        try:
            began = time.monotonic()
            reply = sessions["a"].send_and_wait("start on A", timeout=60)
            took = time.monotonic() - began
            prompts = [r.user_prompt for r in model.requests]
        finally:
            for session in sessions.values():
                session.disconnect()
    assert list(timings) == ["ask_a"] and timings["ask_a"] < 1.0, (
        timings
    )  # only the second call failed
    assert reply.data.content.startswith("A done after: B done after: ReentrancyError")
    assert "from B to A" not in prompts  # the call that closed the ring sent nothing
    assert took < 20
    record(
        "A's tool waits on B (send_and_wait) while B's tool calls send_and_wait on A (real CLI)",
        figure=f"second call failed in {timings['ask_a'] * 1000:.1f} ms; whole exchange {took:.2f} s",
        outcome="ReentrancyError naming the ring; both tools answered, both turns completed",
    )


def test_calls_that_can_complete_from_a_tool_do(real_client, record):
    """A tool of A: send_and_wait on independent B works; send_async on A and session.rpc work."""
    holder = {}
    out = {}

    @define_tool(skip_permission=True)
    def consult(question: str) -> str:
        """Consult another session."""
        a, b = holder["a"], holder["b"]
        out["b_reply"] = b.send_and_wait(question, timeout=30).data.content
        out["model"] = a.rpc.model.get_current().model_id
        out["future"] = a.send_async("a follow-up")  # queued behind this turn: never waited on here
        return out["b_reply"]

    routes = {
        "consult B": (
            ToolCall("consult", {"question": "hello B"}),
            lambda text: f"A heard: {text}",
        ),
        "hello B": ("B says hi", None),
        "a follow-up": ("follow-up answered", None),
    }
    with ScriptedModelServer(responder=_script(routes)) as model:
        options = {"model": model.model, "provider": model.provider()}
        holder["a"] = real_client.create_session(tools=[consult], **options)
        holder["b"] = real_client.create_session(**options)
        try:
            reply = holder["a"].send_and_wait("consult B", timeout=60)
            follow_up = out["future"].result(60)
        finally:
            for session in holder.values():
                session.disconnect()
    assert out["b_reply"] == "B says hi" and out["model"] == model.model
    assert reply.data.content == "A heard: B says hi"
    assert follow_up.data.content == "follow-up answered"
    record(
        "a tool of A calls send_and_wait on B, session.rpc on A, send_async on A (real CLI)",
        figure="3 calls from one tool handler",
        outcome="all complete: B's reply, A's model, and the follow-up turn after the outer one",
    )


def test_wait_for_idle_and_future_result_from_a_tool_of_the_same_session(record):
    """Fake CLI: wait_for_idle and TurnFuture.result inside a tool of the session raise at once."""
    from copilot_sync.testing import Scenario

    outcomes: dict[str, object] = {}
    holder = {}

    @define_tool(skip_permission=True)
    def probe() -> str:
        """Probe."""
        session = holder["session"]
        for name, call in (
            ("wait_for_idle", lambda: session.wait_for_idle(timeout=5)),
            ("TurnFuture.result", lambda: session.send_async("later").result(5)),
            ("stream", lambda: session.stream("never", timeout=5)),
        ):
            began = time.monotonic()
            try:
                call()
                outcomes[name] = "returned"
            except ReentrancyError:
                outcomes[name] = time.monotonic() - began
        return "probed"

    with fake_client(Scenario(think_time=1.0)) as (fake, client):
        session = client.create_session(tools=[probe])
        holder["session"] = session
        thread, result = run_in_thread(session.send_and_wait, "outer", timeout=30)
        fake.wait_for_request("session.send")
        fake.emit(
            session.session_id,
            "external_tool.requested",
            {"requestId": "r1", "toolCallId": "c1", "toolName": "probe", "arguments": {}},
        )
        answer = fake.wait_for_request("session.tools.handlePendingToolCall", timeout=10)["params"]
        thread.join(30)
        session.wait_for_idle(30)  # the queued "later" turn ran after the outer one
    assert answer["result"]["textResultForLlm"] == "probed"
    assert all(isinstance(v, float) and v < 1.0 for v in outcomes.values()), outcomes
    assert result.get("result") is not None, result
    record(
        "wait_for_idle, TurnFuture.result and stream on a session from its own tool (fake CLI)",
        figure="3 ReentrancyErrors, each in under 1 s",
        outcome="raised at once; the tool answered and the turn completed",
    )
