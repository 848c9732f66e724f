"""The session filesystem through the fake CLI: ``sessionFs.setProvider`` in ``start()``,
``sessionFs.*`` requests routed to the right session's handler on the worker pool, errors
as results (never a hang), and misuse caught at the call."""

from __future__ import annotations

import errno
import threading
import time

import pytest

from copilot_sync import (
    CopilotClient,
    CopilotError,
    JsonRpcError,
    LocalSessionFs,
    SessionFsConfig,
    SessionFsHandler,
)
from copilot_sync.testing import FakeCLI, Rule, Scenario
from copilot_sync.testing.actions import default, error, reply, request

CONFIG = SessionFsConfig(initial_cwd="/work", session_state_path="/session-state")
STATE = "/session-state"


def fs_client(fake: FakeCLI, config: SessionFsConfig = CONFIG, **options) -> CopilotClient:
    return CopilotClient(cli_path=fake.cli_path, session_fs=config, **options)


def fs_request(fake, session, op, **params):
    """Send ``sessionFs.<op>`` for ``session`` and return the SDK's response message."""
    return fake.request(f"sessionFs.{op}", {"sessionId": session.session_id, **params})


def test_set_provider_is_sent_after_connect_and_before_any_session(tmp_path):
    with FakeCLI(Scenario()) as fake, fs_client(fake) as client:
        client.create_session(create_session_fs_handler=LocalSessionFs.per_session(tmp_path))
        methods = [m["method"] for m in fake.requests()]
        provider = fake.wait_for_request("sessionFs.setProvider")["params"]
    assert methods[:3] == ["connect", "sessionFs.setProvider", "session.create"]
    assert provider == {
        "initialCwd": "/work",
        "sessionStatePath": "/session-state",
        "conventions": "posix",
    }


def test_set_provider_declares_sqlite_and_windows_conventions(tmp_path):
    config = SessionFsConfig("C:\\work", "C:\\state", conventions="windows", sqlite=True)
    with FakeCLI(Scenario()) as fake, fs_client(fake, config):
        provider = fake.wait_for_request("sessionFs.setProvider")["params"]
    assert provider == {"initialCwd": "C:\\work", "sessionStatePath": "C:\\state", "conventions": "windows",
                        "capabilities": {"sqlite": True}}  # fmt: skip


def test_no_set_provider_without_the_option():
    with FakeCLI(Scenario()) as fake, CopilotClient(cli_path=fake.cli_path) as client:
        client.create_session()
        assert fake.requests("sessionFs.setProvider") == []


def test_a_refused_set_provider_fails_start():
    rules = [
        Rule(
            method="sessionFs.setProvider",
            actions=[error(-32603, "Another client is already the session filesystem provider.")],
        )
    ]
    with FakeCLI(Scenario(rules=rules)) as fake:
        client = fs_client(fake)
        with pytest.raises(JsonRpcError, match="Another client is already"):
            client.start()
        assert client.state.value == "error"
        client.force_stop()


def test_set_provider_without_success_fails_start():
    with FakeCLI(
        Scenario(rules=[Rule(method="sessionFs.setProvider", actions=[reply({"success": False})])])
    ) as fake:
        client = fs_client(fake)
        with pytest.raises(CopilotError, match="session filesystem provider"):
            client.start()
        client.force_stop()


def test_requests_reach_the_handler_of_their_session(tmp_path):
    with FakeCLI(Scenario()) as fake, fs_client(fake) as client:
        factory = LocalSessionFs.per_session(tmp_path)
        one = client.create_session(create_session_fs_handler=factory)
        two = client.create_session(create_session_fs_handler=factory)
        for session, text in ((one, "first ✓"), (two, "second")):
            assert (
                fs_request(fake, session, "mkdir", path=STATE, recursive=True, mode=0o700)["result"]
                is None
            )
            assert (
                fs_request(
                    fake,
                    session,
                    "writeFile",
                    path=f"{STATE}/workspace.yaml",
                    content=text,
                    mode=384,
                )["result"]
                is None
            )
        assert fs_request(fake, one, "readFile", path=f"{STATE}/workspace.yaml")["result"] == {
            "content": "first ✓"
        }
        assert fs_request(fake, two, "readFile", path=f"{STATE}/workspace.yaml")["result"] == {
            "content": "second"
        }
        assert (
            fs_request(
                fake, one, "appendFile", path=f"{STATE}/events.jsonl", content="{}\n", mode=384
            )["result"]
            is None
        )
        assert fs_request(fake, two, "exists", path=f"{STATE}/events.jsonl")["result"] == {
            "exists": False
        }
        listing = fs_request(fake, one, "readdirWithTypes", path=STATE)["result"]
    assert listing == {
        "entries": [
            {"name": "events.jsonl", "type": "file"},
            {"name": "workspace.yaml", "type": "file"},
        ]
    }
    assert (tmp_path / one.session_id / "session-state" / "workspace.yaml").read_text() == "first ✓"
    assert (tmp_path / two.session_id / "session-state" / "workspace.yaml").read_text() == "second"


def test_every_operation_round_trips_through_the_wire(tmp_path):
    with FakeCLI(Scenario()) as fake, fs_client(fake) as client:
        session = client.create_session(
            create_session_fs_handler=lambda s: LocalSessionFs(tmp_path)
        )
        ask = lambda op, **params: fs_request(fake, session, op, **params)  # noqa: E731
        assert ask("mkdir", path="/s/files", recursive=True)["result"] is None
        assert ask("writeFile", path="/s/a.tmp", content="x", mode=None)["result"] is None
        assert ask("rename", src="/s/a.tmp", dest="/s/a")["result"] is None
        assert ask("readdir", path="/s")["result"] == {"entries": ["a", "files"]}
        stat = ask("stat", path="/s/a")["result"]
        assert (stat["isFile"], stat["isDirectory"], stat["size"]) == (True, False, 1)
        assert stat["mtime"].endswith("Z") and set(stat) == {
            "isFile",
            "isDirectory",
            "size",
            "mtime",
            "birthtime",
        }
        assert ask("rm", path="/s", recursive=True)["result"] is None
        assert ask("exists", path="/s")["result"] == {"exists": False}
        missing = ask("stat", path="/s/a")["result"]
        assert missing["error"] == {
            "code": "ENOENT",
            "message": "ENOENT: No such file or directory",
        }
        assert missing["isFile"] is False and missing["mtime"] == "1970-01-01T00:00:00.000Z"
        assert ask("readFile", path="/nope")["result"] == {
            "content": "",
            "error": {"code": "ENOENT", "message": "ENOENT: No such file or directory"},
        }
        escape = ask("writeFile", path="/../../etc/passwd", content="x")["result"]
        assert escape == {
            "code": "UNKNOWN",
            "message": "EACCES: path climbs above the session filesystem root",
        }
        assert ask("sqliteExists")["result"] == {"exists": False}
        unknown = ask("chmod", path="/x")
    assert unknown["error"]["code"] == -32601


class Broken(SessionFsHandler):
    """Every operation fails: with an OSError, or with a bug."""

    def __init__(self, bug: bool = False):
        self.bug = bug
        self.threads: list[str] = []

    def _fail(self, *args, **kwargs):
        self.threads.append(threading.current_thread().name)
        if self.bug:
            raise KeyError("handler bug")
        raise PermissionError(errno.EACCES, "Permission denied", args[0] if args else None)

    read_file = write_file = append_file = exists = stat = mkdir = readdir = readdir_with_types = (
        rm
    ) = rename = _fail


@pytest.mark.parametrize("bug", [False, True], ids=["oserror", "bug"])
def test_a_raising_handler_gives_error_results_not_a_hang(bug):
    handler = Broken(bug)
    expected = {
        "code": "UNKNOWN",
        "message": "KeyError: 'handler bug'" if bug else "EACCES: Permission denied",
    }
    with FakeCLI(Scenario()) as fake, fs_client(fake) as client:
        session = client.create_session(create_session_fs_handler=lambda s: handler)
        started = time.monotonic()
        results = {
            op: fs_request(fake, session, op, **params)
            for op, params in [
                ("readFile", {"path": "/a"}), ("writeFile", {"path": "/a", "content": "x"}),
                ("appendFile", {"path": "/a", "content": "x"}), ("exists", {"path": "/a"}), ("stat", {"path": "/a"}),
                ("mkdir", {"path": "/a"}), ("readdir", {"path": "/a"}), ("readdirWithTypes", {"path": "/a"}),
                ("rm", {"path": "/a"}), ("rename", {"src": "/a", "dest": "/b"}),
            ]
        }  # fmt: skip
        elapsed = time.monotonic() - started
    assert elapsed < 5
    assert all("result" in response for response in results.values()), results
    assert results["readFile"]["result"] == {"content": "", "error": expected}
    for op in ("writeFile", "appendFile", "mkdir", "rm", "rename"):
        assert results[op]["result"] == expected
    assert results["exists"]["result"] == {"exists": False}
    assert results["stat"]["result"]["error"] == expected
    assert results["readdir"]["result"] == {"entries": [], "error": expected}
    assert all(
        name.startswith("copilot-worker") for name in handler.threads
    )  # the worker pool, not the reader


def test_requests_during_session_create_are_answered_by_the_new_handler(tmp_path):
    sid = "during-create"
    rules = [
        Rule(
            method="session.create",
            actions=[
                request(
                    "sessionFs.mkdir",
                    {"sessionId": sid, "path": STATE, "recursive": True, "mode": 448},
                    timeout=5,
                ),
                request(
                    "sessionFs.writeFile",
                    {"sessionId": sid, "path": f"{STATE}/workspace.yaml", "content": "id: x"},
                    timeout=5,
                ),
                request(
                    "sessionFs.readFile",
                    {"sessionId": sid, "path": f"{STATE}/workspace.yaml"},
                    timeout=5,
                ),
                default(),
            ],
        )
    ]
    with FakeCLI(Scenario(rules=rules)) as fake, fs_client(fake) as client:
        session = client.create_session(
            session_id=sid, create_session_fs_handler=LocalSessionFs.per_session(tmp_path)
        )
        answers = [m.get("result", m.get("error")) for m in fake.responses]
    assert session.session_id == sid
    assert answers == [None, None, {"content": "id: x"}]
    assert (tmp_path / sid / "session-state" / "workspace.yaml").read_text() == "id: x"


def test_resume_builds_a_handler_for_the_resumed_session(tmp_path):
    built = []

    def factory(session):
        built.append(session)
        return LocalSessionFs(tmp_path / "shared")

    with FakeCLI(Scenario()) as fake, fs_client(fake) as client:
        first = client.create_session(create_session_fs_handler=factory)
        assert fs_request(fake, first, "writeFile", path="/kept", content="state")["result"] is None
        first.disconnect()
        resumed = client.resume_session(first.session_id, create_session_fs_handler=factory)
        read = fs_request(fake, resumed, "readFile", path="/kept")["result"]
    assert built == [first, resumed]
    assert read == {"content": "state"}


def test_a_session_without_a_handler_gets_a_jsonrpc_error():
    with FakeCLI(Scenario()) as fake, CopilotClient(cli_path=fake.cli_path) as client:
        session = client.create_session()
        response = fs_request(fake, session, "readFile", path="/session-state/workspace.yaml")
        unknown = fake.request("sessionFs.readFile", {"sessionId": "nobody", "path": "/x"})
    assert response["error"]["code"] == -32603
    assert (
        "has no session filesystem handler for sessionFs.readFile" in response["error"]["message"]
    )
    assert "create_session_fs_handler=" in response["error"]["message"]
    assert unknown["error"]["message"] == "unknown session nobody"


# ---------------------------------------------------------------------------- misuse, at the call


def test_a_handler_factory_needs_a_client_with_session_fs(tmp_path):
    with FakeCLI(Scenario()) as fake:
        client = CopilotClient(cli_path=fake.cli_path)
        with pytest.raises(ValueError, match="the client has no session_fs"):
            client.create_session(create_session_fs_handler=LocalSessionFs.per_session(tmp_path))
        with pytest.raises(ValueError, match="resume_session\\(\\) got create_session_fs_handler"):
            client.resume_session(
                "abc", create_session_fs_handler=LocalSessionFs.per_session(tmp_path)
            )
        assert client.state.value == "disconnected" and fake.instances == []  # nothing was started
        client.stop()


def test_a_client_with_session_fs_needs_a_handler_factory_on_every_session():
    with FakeCLI(Scenario()) as fake:
        client = fs_client(fake, auto_start=False)
        with pytest.raises(
            ValueError, match="create_session\\(\\) needs create_session_fs_handler="
        ):
            client.create_session()
        with pytest.raises(
            ValueError, match="resume_session\\(\\) needs create_session_fs_handler="
        ):
            client.resume_session("abc")
        assert fake.instances == []
        client.stop()


@pytest.mark.parametrize(
    "factory", ["/tmp/dir", 42, lambda: None], ids=["str", "int", "no-argument"]
)
def test_the_factory_must_be_a_one_argument_callable(factory):
    with FakeCLI(Scenario()) as fake:
        client = fs_client(fake, auto_start=False)
        with pytest.raises(TypeError, match="create_session_fs_handler"):
            client.create_session(create_session_fs_handler=factory)
        client.stop()


@pytest.mark.parametrize(
    ("factory", "config", "exc", "match"),
    [
        (lambda session: "/tmp/not-a-handler", CONFIG, TypeError, "must return a SessionFsHandler"),
        (
            lambda session: Broken(),
            SessionFsConfig("/w", "/s", sqlite=True),
            TypeError,
            "sqlite=True",
        ),
        (lambda session: 1 / 0, CONFIG, ZeroDivisionError, "division"),
    ],
    ids=["not-a-handler", "no-sqlite", "factory-raises"],
)
def test_a_bad_handler_fails_create_before_the_rpc_and_leaves_nothing_behind(
    factory, config, exc, match
):
    with FakeCLI(Scenario()) as fake, fs_client(fake, config) as client:
        with pytest.raises(exc, match=match):
            client.create_session(create_session_fs_handler=factory)
        assert client.sessions == []
        assert fake.requests("session.create") == []


def test_bad_client_options_fail_at_construction():
    with pytest.raises(TypeError, match="SessionFsConfig"):
        CopilotClient(session_fs="/session-state")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="absolute"):
        CopilotClient(session_fs={"initial_cwd": ".", "session_state_path": "/s"})
    client = CopilotClient(
        session_fs={"initial_cwd": "/w", "session_state_path": "/s"}, auto_start=False
    )
    assert client._session_fs == SessionFsConfig("/w", "/s")
