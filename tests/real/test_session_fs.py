"""The session filesystem against the real (default) CLI (scripted model): the CLI keeps a
session's state in this process's handler, reads it back on resume, and its plan,
workspace, tool and SQL traffic goes through it. What the CLI sends is pinned here
(docs/SESSION_FS.md); where 1.0.81 and 1.0.102 differ, the test says so."""

from __future__ import annotations

import errno
import json
import os
import re
import sqlite3
import threading
import time

import pytest

from copilot_sync import (
    CopilotClient,
    JsonRpcError,
    LocalSessionFs,
    PermissionHandler,
    SessionFsConfig,
    SessionFsHandler,
)
from copilot_sync._versions import cli_at_least

from ..conftest import assert_no_sdk_threads

OPS = ("read_file", "write_file", "append_file", "exists", "stat", "mkdir", "readdir", "readdir_with_types", "rm",
       "rename", "sqlite_query", "sqlite_transaction", "sqlite_exists")  # fmt: skip


class Recording(LocalSessionFs):
    """A LocalSessionFs that records every call as ``(operation, *arguments)``."""

    def __init__(self, root, **options):
        super().__init__(root, **options)
        self.calls: list[tuple] = []
        self.lock = threading.Lock()

    def ops(self, *names):
        with self.lock:
            return [call for call in self.calls if not names or call[0] in names]


def _recorder(name):
    def method(self, *args, **kwargs):
        with self.lock:
            self.calls.append((name, *args))
        return getattr(LocalSessionFs, name)(self, *args, **kwargs)

    return method


for _name in OPS:
    setattr(Recording, _name, _recorder(_name))


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    base = tmp_path_factory.mktemp("session-fs")
    (base / "cwd").mkdir()
    # 1.0.81 also creates an (empty) directory at session_state_path on its own disk: keep it in tmp
    return {"cwd": str(base / "cwd"), "state": str(base / "state"), "handlers": base / "handlers"}


@pytest.fixture(scope="module")
def client(cli_env, real_cli, paths):
    """One client per module that is the CLI's session filesystem provider."""
    before = {t.ident for t in threading.enumerate()}
    config = SessionFsConfig(initial_cwd=paths["cwd"], session_state_path=paths["state"])
    client = CopilotClient(cli_path=real_cli.path, env=cli_env, session_fs=config)
    client.start()
    yield client
    assert client.stop() == []
    assert_no_sdk_threads(before)


@pytest.fixture
def handlers(paths):
    """The Recording handlers built for the sessions of one test, by session id."""
    built: dict[str, Recording] = {}

    def factory(session):
        handler = built[session.session_id] = Recording(paths["handlers"] / session.session_id)
        return handler

    factory.built = built  # type: ignore[attr-defined]
    return factory


def open_session(client, model, factory, **options):
    return client.create_session(
        model=model.model, provider=model.provider(), create_session_fs_handler=factory, **options
    )


def local(handler, cli_path):
    """Where a CLI path lives on this machine."""
    return handler.local_path(cli_path)


def tool_results(model):
    return [
        str(m.get("content")) for m in model.requests[-1].body["messages"] if m["role"] == "tool"
    ]


def tool_names(request):
    return [tool["function"]["name"] for tool in request.body.get("tools", [])]


# ============================================================================ create, a turn, resume


def test_the_cli_keeps_the_session_state_in_the_handler(
    client, model, handlers, paths, copilot_home
):
    state = paths["state"]
    model.add_reply("Noted: the password is swordfish.")
    session = open_session(client, model, handlers)
    sid = session.session_id
    handler = handlers.built[sid]
    during_create = handler.ops()
    assert during_create, "the CLI asks for files while session.create runs"
    assert ("read_file", f"{state}/workspace.yaml") in during_create  # ENOENT: a new session
    assert ("mkdir", f"{state}/checkpoints", True, 0o700) in during_create
    assert ("mkdir", f"{state}/files", True, 0o700) in during_create
    assert any(
        c[0] == "write_file" and c[1] == f"{state}/checkpoints/index.md" for c in during_create
    )
    temp = [
        c
        for c in during_create
        if c[0] == "write_file" and c[1].startswith(f"{state}/workspace.yaml.tmp.")
    ]
    assert (
        temp and temp[0][3] == 0o600
    )  # workspace.yaml is written to a temp file with mode 0600...
    renamed = during_create.index(
        ("rename", temp[0][1], f"{state}/workspace.yaml")
    )  # ...then renamed over
    assert during_create.index(("read_file", f"{state}/workspace.yaml")) < renamed
    # every path is absolute: under session_state_path, or under the CLI's own session-state dir
    own = f"{copilot_home}/session-state/{sid}"
    for call in handler.ops():
        for path in call[1:3] if call[0] == "rename" else call[1:2]:
            assert path in (state, own) or path.startswith((state + "/", own + "/")), call
    assert str(session.workspace_path) == state

    reply = session.send_and_wait("Remember: the password is swordfish.", timeout=60)
    assert reply.data.content == "Noted: the password is swordfish."
    assert "sql" not in tool_names(model.requests[0])  # no sqlite capability declared: no sql tool
    session.disconnect()

    events = [
        json.loads(line) for line in open(local(handler, f"{state}/events.jsonl"), encoding="utf-8")
    ]
    types = [event["type"] for event in events]
    assert (
        types[0] == "session.start" and "user.message" in types and types[-1] == "session.shutdown"
    )
    assert any(e["type"] == "user.message" and "swordfish" in e["data"]["content"] for e in events)
    assert any(
        e["type"] == "assistant.message" and e["data"]["content"] == reply.data.content
        for e in events
    )
    appends = handler.ops("append_file")
    assert appends and all(c[1] == f"{state}/events.jsonl" and c[3] == 0o600 for c in appends)
    workspace = open(local(handler, f"{state}/workspace.yaml"), encoding="utf-8").read()
    assert f"id: {sid}\n" in workspace and f"cwd: {paths['cwd']}\n" in workspace
    assert not os.path.exists(os.path.join(own, "events.jsonl"))  # nothing on the CLI's own disk
    # nothing of the state on the CLI's own disk (1.0.81 makes the directory, empty)
    assert not os.path.exists(state) or os.listdir(state) == []


def test_resume_reads_the_history_back_through_the_handler(
    client, model, handlers, paths, tmp_path
):
    state = paths["state"]
    model.add_reply("The code word is tangerine, noted.")
    session = open_session(client, model, handlers)
    sid = session.session_id
    session.send_and_wait("The code word is tangerine.", timeout=60)
    session.disconnect()

    with pytest.raises(
        JsonRpcError, match="Session not found"
    ):  # an empty filesystem has no such session
        client.resume_session(sid, model=model.model, provider=model.provider(),
                              create_session_fs_handler=lambda s: LocalSessionFs(tmp_path / "empty"))  # fmt: skip
    assert sid not in [s.session_id for s in client.sessions]

    resumed = client.resume_session(
        sid, model=model.model, provider=model.provider(), create_session_fs_handler=handlers
    )
    try:
        handler = handlers.built[sid]
        assert ("read_file", f"{state}/events.jsonl") in handler.ops("read_file")
        history = resumed.get_messages()
        assert any(m.raw_type == "user.message" and "tangerine" in m.data.content for m in history)
        model.add_reply("It was tangerine.")
        assert (
            resumed.send_and_wait("What was the code word?", timeout=60).data.content
            == "It was tangerine."
        )
        sent = model.requests[-1].body["messages"]
        assert any("tangerine" in str(m.get("content")) for m in sent if m["role"] == "user")
    finally:
        resumed.disconnect()
    resume_events = [
        json.loads(line)["type"]
        for line in open(local(handler, f"{state}/events.jsonl"), encoding="utf-8")
    ]
    assert resume_events.count("session.resume") == 1


# ============================================================================ plan, workspace files, tools


def test_plan_and_workspace_files_go_through_the_handler(client, model, handlers, paths):
    state = paths["state"]
    session = open_session(client, model, handlers)
    handler = handlers.built[session.session_id]
    plan = local(handler, f"{state}/plan.md")
    try:
        session.rpc.plan.update(content="# Plan\n- step one\n", timeout=30)
        assert open(plan, encoding="utf-8").read() == "# Plan\n- step one\n"
        assert ("write_file", f"{state}/plan.md", "# Plan\n- step one\n", 0o600) in handler.ops(
            "write_file"
        )
        assert not os.path.exists(os.path.join(state, "plan.md"))  # not on the CLI's disk

        with open(
            plan, "w", encoding="utf-8"
        ) as edited:  # what the handler holds is what the CLI sees
            edited.write("# Plan\n- edited here\n")
        read = session.rpc.plan.read(timeout=30)
        assert (read.exists, read.content, read.path) == (
            True,
            "# Plan\n- edited here\n",
            f"{state}/plan.md",
        )

        session.rpc.workspaces.create_file(path="notes.txt", content="héllo ✓ 日本", timeout=30)
        assert (
            open(local(handler, f"{state}/files/notes.txt"), encoding="utf-8").read()
            == "héllo ✓ 日本"
        )
        assert ("mkdir", f"{state}/files", True, None) in handler.ops("mkdir")
        assert ("write_file", f"{state}/files/notes.txt", "héllo ✓ 日本", None) in handler.ops(
            "write_file"
        )
        assert session.rpc.workspaces.list_files(timeout=30).files == ["notes.txt"]
        assert (
            session.rpc.workspaces.read_file(path="notes.txt", timeout=30).content == "héllo ✓ 日本"
        )

        session.rpc.plan.delete(timeout=30)
        assert ("rm", f"{state}/plan.md", False, False) in handler.ops(
            "rm"
        )  # 1.0.81 sends no recursive/force
        assert not os.path.exists(plan)
    finally:
        session.disconnect()


def test_the_models_file_tools_on_session_state_go_through_the_handler(
    client, model, handlers, paths
):
    state = paths["state"]
    session = open_session(
        client, model, handlers, on_permission_request=PermissionHandler.approve_all
    )
    handler = handlers.built[session.session_id]
    try:
        model.add_tool_call(
            "create", {"path": f"{state}/research/notes.md", "file_text": "# Notes\n- first\n"}
        )
        model.add_tool_call(
            "edit", {"path": f"{state}/research/notes.md", "old_str": "first", "new_str": "second"}
        )
        model.add_reply("Done.")
        session.send_and_wait("Write research notes.", timeout=60)
        created, edited = [
            m["content"] for m in model.requests[-1].body["messages"] if m["role"] == "tool"
        ]
        assert created == f"Created file {state}/research/notes.md with 16 characters"
        assert edited == f"File {state}/research/notes.md updated with changes."
        assert (
            open(local(handler, f"{state}/research/notes.md"), encoding="utf-8").read()
            == "# Notes\n- second\n"
        )
        assert ("stat", f"{state}/research/notes.md") in handler.ops(
            "stat"
        )  # create checks that it is missing
        writes = [c[1:3] for c in handler.ops("write_file") if c[1].endswith("notes.md")]
        assert writes == [
            (f"{state}/research/notes.md", "# Notes\n- first\n"),
            (f"{state}/research/notes.md", "# Notes\n- second\n"),
        ]
        assert not os.path.exists(os.path.join(state, "research"))  # not on the CLI's disk
    finally:
        session.disconnect()


def test_the_file_tools_and_the_plan_on_a_provided_filesystem(client, model, handlers, paths):
    """CLI 1.0.81's edit and create tools refuse the session's plan.md on a provided
    filesystem ("invalid custom SessionFs stat result"), whatever the handler answers;
    session.plan.* work. CLI 1.0.102 edits it through the handler."""
    state = paths["state"]
    session = open_session(
        client, model, handlers, on_permission_request=PermissionHandler.approve_all
    )
    handler = handlers.built[session.session_id]
    try:
        session.rpc.plan.update(content="# Plan\n- step one\n", timeout=30)
        model.add_tool_call(
            "edit", {"path": f"{state}/plan.md", "old_str": "one", "new_str": "two"}
        )
        model.add_reply("Tried.")
        session.send_and_wait("Edit the plan.", timeout=60)
        plan = open(local(handler, f"{state}/plan.md"), encoding="utf-8").read()
        if cli_at_least(client.server_version, "1.0.102"):
            assert "updated" in tool_results(model)[0]
            assert plan == "# Plan\n- step two\n"
            assert any(
                c[0] == "write_file" and c[1] == f"{state}/plan.md" and "two" in c[2]
                for c in handler.ops()
            )
        else:
            assert "invalid custom SessionFs stat result" in tool_results(model)[0]
            assert ("stat", f"{state}/plan.md") in handler.ops("stat")
            assert plan == "# Plan\n- step one\n"
    finally:
        session.disconnect()


# ============================================================================ SQLite


def test_with_sqlite_the_sql_tool_runs_on_the_handlers_database(
    cli_env, real_cli, model, paths, tmp_path
):
    config = SessionFsConfig(
        initial_cwd=paths["cwd"], session_state_path=paths["state"], sqlite=True
    )
    built: list[Recording] = []

    def factory(session):
        built.append(Recording(tmp_path / session.session_id))
        return built[-1]

    with CopilotClient(cli_path=real_cli.path, env=cli_env, session_fs=config) as client:
        session = open_session(
            client, model, factory, on_permission_request=PermissionHandler.approve_all
        )
        query = (
            "INSERT INTO todos (id, title, status) VALUES ('t1', 'write the tests', 'in_progress')"
        )
        model.add_tool_call("sql", {"description": "Add a todo", "query": query})
        model.add_reply("Added.")
        session.send_and_wait("Track a todo.", timeout=60)
        assert "sql" in tool_names(model.requests[0])
        assert tool_results(model) == ["1 row(s) inserted. Last inserted row ID: 1."]
        session.disconnect()
    handler = built[0]
    queries = handler.ops("sqlite_query")
    assert queries[0][1] == "exec" and "CREATE TABLE IF NOT EXISTS todos" in queries[0][2]
    assert ("sqlite_query", "run", query, None) in queries
    assert handler.ops("sqlite_exists")
    with sqlite3.connect(handler.sqlite_path) as db:
        assert db.execute("SELECT id, title, status FROM todos").fetchall() == [
            ("t1", "write the tests", "in_progress")
        ]
    assert handler.sqlite_path == str(tmp_path / session.session_id / "session.db")


# ============================================================================ failures


class FailingDisk(SessionFsHandler):
    def __init__(self):
        self.calls = 0

    def _fail(self, *args, **kwargs):
        self.calls += 1
        raise OSError(errno.EIO, "Input/output error")

    read_file = write_file = append_file = stat = mkdir = readdir = readdir_with_types = rm = (
        rename
    ) = _fail

    def exists(self, path):
        return False


def test_a_failing_handler_fails_create_with_its_error_not_a_hang(client, model, handlers):
    disk = FailingDisk()
    started = time.monotonic()
    with pytest.raises(JsonRpcError) as info:
        open_session(client, model, lambda s: disk)
    assert time.monotonic() - started < 15
    assert disk.calls >= 1
    # the handler's error reaches the caller (1.0.81: "Failed to load workspace from
    # .../workspace.yaml: Error: UNKNOWN: EIO: ..."; 1.0.102: "Session approval storage failed
    # (UNKNOWN): EIO: ...")
    assert re.search(
        r"session construction failed: .*EIO: Input/output error", info.value.message
    ), info.value.message
    assert client.sessions == []
    session = open_session(client, model, handlers)  # the client is still fine
    session.disconnect()
