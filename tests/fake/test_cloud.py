"""Cloud sessions on the fake CLI: ``cloud`` on the wire, the id chosen by the CLI, and the
events sent before the answer delivered first and in order (``_cloud.EarlyEvents``)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from copilot_sync import CloudRepository, CloudSessionOptions, CopilotError
from copilot_sync._cloud import EarlyEvents
from copilot_sync.testing import Rule
from copilot_sync.testing.actions import events, reply, sleep

from .conftest import running

pytestmark = pytest.mark.timeout(60)

EARLY = [("session.start", {"sessionId": "cloud-1"}), ("session.info", {"infoType": "cloud", "message": "provisioning"})]  # fmt: skip


def _wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_cli_chooses_the_id_and_early_events_come_first_in_order():
    rules = [
        Rule(method="session.create", match={"cloud": {}}, actions=[
            events(EARLY, session_id="cloud-1"),
            events([("session.info", {"infoType": "x", "message": "for someone else"})], session_id="other"),
            sleep(0.2),
            reply({"sessionId": "cloud-1", "workspacePath": "/remote"}),
            events([("session.info", {"infoType": "cloud", "message": "ready"})], session_id="cloud-1"),
        ]),
    ]  # fmt: skip
    seen: list[tuple[str, Any]] = []
    with running(rules=rules) as (fake, client):
        repository = CloudRepository("octo", "app", branch="main")
        session = client.create_session(cloud=CloudSessionOptions(repository), on_event=lambda e: seen.append((e.type, e.raw["data"])))  # fmt: skip
        assert session.session_id == "cloud-1" and client.sessions == [session]
        (create,) = fake.requests("session.create")
        assert "sessionId" not in create["params"]
        assert create["params"]["cloud"] == {"repository": {"owner": "octo", "name": "app", "branch": "main"}}  # fmt: skip
        _wait_for(lambda: len(seen) == 3)
        assert [t for t, _ in seen] == ["session.start", "session.info", "session.info"]
        assert [d.get("message") for _, d in seen[1:]] == ["provisioning", "ready"]
        assert str(session.workspace_path) == "/remote"


def test_a_cloud_session_with_its_own_id_opens_like_a_local_one():
    with running() as (fake, client):
        session = client.create_session(session_id="mine", cloud={"repository": {"owner": "o", "name": "r"}})  # fmt: skip
        (create,) = fake.requests("session.create")
        assert create["params"]["sessionId"] == "mine" == session.session_id
        assert create["params"]["cloud"] == {"repository": {"owner": "o", "name": "r"}}


def test_an_answer_without_an_id_fails_and_registers_nothing():
    rules = [Rule(method="session.create", actions=[reply({})])]
    with running(rules=rules) as (_fake, client):
        with pytest.raises(CopilotError, match="without a sessionId"):
            client.create_session(cloud=CloudSessionOptions())
        assert client.sessions == []
        with pytest.raises(TypeError, match="cloud"):
            client.resume_session("s1", cloud=CloudSessionOptions())  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"github_token_provider": lambda args: None}, ValueError, "github_token_provider"),
        ({"cloud": {"repo": {}}}, TypeError, "repository"),
        ({"cloud": {"repository": {"owner": "o"}}}, ValueError, "name"),
        ({"cloud": "yes"}, TypeError, "CloudSessionOptions"),
    ],
)
def test_bad_cloud_options_are_refused_before_anything_is_sent(options, error, match):
    options = {"cloud": CloudSessionOptions(), **options}
    with running() as (fake, client):
        with pytest.raises(error, match=match):
            client.create_session(**options)
        assert fake.requests("session.create") == []


class Control:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def enqueue(self, event: Any) -> None:
        self.events.append(event)


def test_early_events_are_kept_only_while_a_cloud_create_is_in_flight():
    early = EarlyEvents(max_sessions=2, max_events=3)
    sessions: dict[str, Control] = {}
    assert not early.offer("a", 1, lambda: sessions.get("a"))  # nothing pending: dropped
    early.begin()
    assert all(early.offer("a", n, lambda: sessions.get("a")) for n in (1, 2, 3))
    assert not early.offer("a", 4, lambda: sessions.get("a"))  # per-session bound
    assert early.offer("b", 1, lambda: None) and not early.offer("c", 1, lambda: None)
    control = Control()
    assert early.register("a", lambda: sessions.__setitem__("a", control), control.enqueue) == 3
    assert early.offer("a", 5, lambda: sessions.get("a")) and control.events == [1, 2, 3, 5]
    early.end()
    assert not early.offer("b", 2, lambda: None)  # the last create is over: "b" is dropped


def _race_once() -> list[Any]:
    early = EarlyEvents()
    sessions: dict[str, Control] = {}
    control = Control()
    early.begin()

    def reader() -> None:
        for n in range(200):
            early.offer("s", n, lambda: sessions.get("s"))

    thread = threading.Thread(target=reader)
    thread.start()
    early.register("s", lambda: sessions.__setitem__("s", control), control.enqueue)
    thread.join(10)
    early.end()
    return control.events


def test_a_reader_racing_the_registration_loses_nothing_and_keeps_the_order():
    for _ in range(50):
        assert _race_once() == list(range(200))
