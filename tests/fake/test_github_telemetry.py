"""The client's ``on_github_telemetry`` on the wire of the fake CLI: the opt-in on ``connect``
and on every ``session.create``/``session.resume``, ``gitHubTelemetry.event`` notifications
handed to the callback as typed events on worker threads, one at a time and in order, a
callback that raises, malformed params, a backlog past the limit, and a restarted client."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from copilot_sync import CopilotClient
from copilot_sync._requests import github_telemetry
from copilot_sync._requests.github_telemetry import GitHubTelemetryEvent, event_of
from copilot_sync.testing import FakeCLI, Rule, Scenario
from copilot_sync.testing.actions import reply

from .conftest import running

pytestmark = pytest.mark.timeout(60)

METHOD = "gitHubTelemetry.event"
FLAG = "enableGitHubTelemetryForwarding"


def _params(
    kind: str, *, session_id: str | None = "s-1", restricted: bool = False, **event: Any
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "restricted": restricted,
        "event": {"kind": kind, "properties": {"k": "v"}, "metrics": {"n": 1}, **event},
    }
    if session_id is not None:
        params["sessionId"] = session_id
    return params


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_opt_in_is_sent_only_with_a_callback_on_connect_and_every_session():
    rules = [Rule(method="session.create", match={"cloud": {}}, actions=[reply({"sessionId": "cloud-1"})])]  # fmt: skip
    with running() as (fake, client):
        client.create_session(session_id="plain")
        assert FLAG not in fake.requests("connect")[0]["params"]
        assert FLAG not in fake.requests("session.create")[0]["params"]

    with (
        FakeCLI(Scenario(rules=rules)) as fake,
        CopilotClient(cli_path=fake.cli_path, on_github_telemetry=lambda event: None) as client,
    ):
        (connect,) = fake.requests("connect")
        assert connect["params"][FLAG] is True
        client.create_session(session_id="one")
        client.resume_session("one")
        client.create_session(cloud={"repository": {"owner": "o", "name": "r"}})
        creates = fake.requests("session.create")
        assert [c["params"][FLAG] for c in creates] == [True, True]
        assert "cloud" in creates[1]["params"]
        (resume,) = fake.requests("session.resume")
        assert resume["params"][FLAG] is True


def test_events_reach_the_callback_typed_in_order_one_at_a_time_on_workers():
    seen: list[tuple[GitHubTelemetryEvent, str]] = []
    active = [0, 0]  # now, most at once
    lock = threading.Lock()

    def record(event: GitHubTelemetryEvent) -> None:
        with lock:
            active[0] += 1
            active[1] = max(active)
        time.sleep(0.005)  # slower than the CLI: events queue up behind
        seen.append((event, threading.current_thread().name))
        with lock:
            active[0] -= 1

    first = _params(
        "session_start",
        created_at="2026-01-02T03:04:05Z",
        model_call_id="call-1",
        copilot_tracking_id="track",
        exp_assignment_context="ctx",
        features={"flag": "on", "bad": 1},
        client={"cli_version": "1.0.102", "os_platform": "linux"},
    )
    first["event"]["metrics"] = {"tokens": 12, "ratio": 0.5, "flag": True}
    with (
        FakeCLI(Scenario()) as fake,
        CopilotClient(cli_path=fake.cli_path, on_github_telemetry=record) as client,
    ):
        fake.notify(METHOD, first)
        for n in range(40):
            fake.notify(METHOD, _params(f"kind_{n}", session_id=None, restricted=True))
        _wait_for(lambda: len(seen) == 41)
        client.ping()
    assert [event.kind for event, _ in seen] == ["session_start"] + [f"kind_{n}" for n in range(40)]
    assert all(thread.startswith("copilot-worker") for _, thread in seen)
    assert active[1] == 1, "events must be handed over one at a time"
    event = seen[0][0]
    assert event == GitHubTelemetryEvent(
        kind="session_start",
        restricted=False,
        session_id="s-1",
        properties={"k": "v"},
        metrics={"tokens": 12.0, "ratio": 0.5},
        created_at="2026-01-02T03:04:05Z",
        model_call_id="call-1",
        copilot_tracking_id="track",
        exp_assignment_context="ctx",
        features={"flag": "on"},
        client={"cli_version": "1.0.102", "os_platform": "linux"},
    )
    assert event.raw == first
    assert "track" not in repr(event) and "session_start" in repr(event)
    assert seen[1][0].session_id is None and seen[1][0].features is None
    assert seen[1][0].restricted is True
    assert fake.responses == [], "a notification is never answered"


def test_a_callback_that_raises_and_malformed_params_are_logged_and_skipped(caplog):
    kinds: list[str] = []

    def flaky(event: GitHubTelemetryEvent) -> None:
        kinds.append(event.kind)
        if event.kind == "boom":
            raise RuntimeError("telemetry store down")

    caplog.set_level(logging.WARNING, logger="copilot_sync.client")
    with (
        FakeCLI(Scenario()) as fake,
        CopilotClient(cli_path=fake.cli_path, on_github_telemetry=flaky),
    ):
        fake.notify(METHOD, _params("boom"))
        fake.notify(METHOD, {"event": {"kind": "no restricted flag"}})
        fake.notify(METHOD, {"restricted": True, "event": {"properties": {}}})
        fake.notify(METHOD, "junk")
        fake.notify(METHOD, _params("after"))
        _wait_for(lambda: kinds == ["boom", "after"])
    assert "telemetry store down" in caplog.text and "'boom'" in caplog.text
    assert caplog.text.count(f"skipped a malformed {METHOD}") == 3


def test_without_a_callback_the_events_are_ignored_and_a_request_is_method_not_found():
    with running() as (fake, client):
        fake.notify(METHOD, _params("session_start"))
        client.ping()
        assert fake.responses == []
        answer = fake.request(METHOD, _params("as a request"))
        assert answer["error"]["code"] == -32601  # the schema's notification: never a request


def test_a_backlog_past_the_limit_drops_newer_events_with_one_warning(monkeypatch, caplog):
    monkeypatch.setattr(github_telemetry, "MAX_PENDING", 5)
    entered, release = threading.Event(), threading.Event()
    kinds: list[str] = []

    def slow(event: GitHubTelemetryEvent) -> None:
        entered.set()
        release.wait(10)
        kinds.append(event.kind)

    caplog.set_level(logging.WARNING, logger="copilot_sync.client")
    with (
        FakeCLI(Scenario()) as fake,
        CopilotClient(cli_path=fake.cli_path, on_github_telemetry=slow) as client,
    ):
        fake.notify(METHOD, _params("first"))
        assert entered.wait(10)
        for n in range(9):
            fake.notify(METHOD, _params(f"k{n}"))
        client.ping()  # the notifications before its answer were all read
        release.set()
        _wait_for(lambda: len(kinds) == 6)
        fake.notify(METHOD, _params("later"))  # the backlog is gone: accepted again
        _wait_for(lambda: len(kinds) == 7)
    assert kinds == ["first", "k0", "k1", "k2", "k3", "k4", "later"]
    assert caplog.text.count("dropping new telemetry events") == 1


def test_a_restarted_client_delivers_the_new_connections_events():
    kinds: list[str] = []
    with FakeCLI(Scenario()) as fake:
        client = CopilotClient(cli_path=fake.cli_path, on_github_telemetry=lambda e: kinds.append(e.kind))  # fmt: skip
        client.start()
        fake.notify(METHOD, _params("one"))
        _wait_for(lambda: kinds == ["one"])
        client.stop()
        client.start()
        fake.notify(METHOD, _params("two"))
        _wait_for(lambda: kinds == ["one", "two"])
        assert [c["params"][FLAG] for c in fake.requests("connect")] == [True, True]
        client.stop()


@pytest.mark.parametrize("callback", [lambda: None, lambda a, b: None, "not callable"])
def test_a_callback_that_cannot_take_one_event_is_refused_when_the_client_is_built(callback):
    with pytest.raises(TypeError, match="on_github_telemetry"):
        CopilotClient(on_github_telemetry=callback)


def test_event_of_reads_only_well_formed_params():
    assert event_of(None) is None
    assert event_of({"restricted": "no", "event": {"kind": "x"}}) is None
    assert event_of({"restricted": False, "event": {"kind": 3}}) is None
    bare = event_of({"restricted": True, "event": {"kind": "x"}})
    assert bare == GitHubTelemetryEvent(kind="x", restricted=True)
    assert bare is not None and bare.properties == {} and bare.metrics == {}
