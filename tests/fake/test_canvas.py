"""Canvases on the fake CLI: the declarations and extension options on the wire, the
``canvas.open``/``canvas.close``/``canvas.action.invoke`` answers from a ``CanvasHandler`` on
the worker pool, errors, and ``session.open_canvases`` kept from events and resume results."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from copilot_sync import (
    CanvasAction,
    CanvasActionRequest,
    CanvasCloseRequest,
    CanvasDeclaration,
    CanvasError,
    CanvasHandler,
    CanvasOpenRequest,
    CanvasOpenResult,
    CanvasProviderIdentity,
    ToolResult,
)
from copilot_sync.testing import Rule
from copilot_sync.testing.actions import reply

from .conftest import running

pytestmark = pytest.mark.timeout(60)

BOARD = CanvasDeclaration(
    id="board",
    display_name="Board",
    description="A kanban board",
    input_schema={"type": "object", "properties": {"title": {"type": "string"}}},
    actions=[CanvasAction("add_card", "Add a card", {"type": "object"})],
)


class Board(CanvasHandler):
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.threads: set[str] = set()
        self.cards: list[str] = []
        self.lock = threading.Lock()

    def on_open(self, request: CanvasOpenRequest) -> CanvasOpenResult:
        with self.lock:
            self.calls.append(("open", request))
            self.threads.add(threading.current_thread().name)
        return CanvasOpenResult(url="http://127.0.0.1:1/board", title=request.input["title"])

    def on_close(self, request: CanvasCloseRequest) -> None:
        with self.lock:
            self.calls.append(("close", request))

    def on_action(self, request: CanvasActionRequest) -> Any:
        with self.lock:
            self.cards.append(request.input["text"])
            return {"cards": list(self.cards)}


def _params(session_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "sessionId": session_id, "extensionId": "ext-1", "canvasId": "board",
        "instanceId": "b1", **extra,
    }  # fmt: skip


def test_declarations_and_extension_options_reach_session_create():
    with running() as (fake, client):
        client.create_session(
            canvases=[BOARD, {"id": "notes", "display_name": "Notes", "description": "Notes"}],
            canvas_handler=Board(),
            request_canvas_renderer=True,
            canvas_provider=CanvasProviderIdentity("app:builtin:window-1", "My app"),
            extension_info={"source": "github-app", "name": "boards"},
            request_extensions=True,
            extension_sdk_path="/opt/copilot-sdk",
        )
        (create,) = fake.requests("session.create")
        params = create["params"]
        assert params["canvases"] == [
            {
                "id": "board", "displayName": "Board", "description": "A kanban board",
                "inputSchema": {"type": "object", "properties": {"title": {"type": "string"}}},
                "actions": [{"name": "add_card", "description": "Add a card", "inputSchema": {"type": "object"}}],
            },
            {"id": "notes", "displayName": "Notes", "description": "Notes"},
        ]  # fmt: skip
        assert params["requestCanvasRenderer"] is True
        assert params["canvasProvider"] == {"id": "app:builtin:window-1", "name": "My app"}
        assert params["extensionInfo"] == {"source": "github-app", "name": "boards"}
        assert params["requestExtensions"] is True
        assert params["extensionSdkPath"] == "/opt/copilot-sdk"
        assert "canvasHandler" not in params and "canvas_handler" not in params
        client.create_session()
        plain = fake.requests("session.create")[1]["params"]
        assert not {"canvases", "requestCanvasRenderer", "extensionInfo"} & set(plain)


def test_open_action_and_close_are_answered_by_the_handler_on_workers():
    board = Board()
    with running() as (fake, client):
        session = client.create_session(canvases=[BOARD], canvas_handler=board)
        sid = session.session_id
        host = {"host": {"capabilities": {"canvases": True}}, "session": {"workingDirectory": "/w"}}
        opened = fake.request("canvas.open", _params(sid, input={"title": "Sprint"}, **host))
        assert opened["result"] == {"url": "http://127.0.0.1:1/board", "title": "Sprint"}
        acted = fake.request("canvas.action.invoke", _params(sid, actionName="add_card", input={"text": "a"}))  # fmt: skip
        assert acted["result"] == {"cards": ["a"]}
        closed = fake.request("canvas.close", _params(sid))
        assert "error" not in closed and closed["result"] is None
    (kind, request), (kind2, closing) = board.calls
    assert (kind, kind2) == ("open", "close")
    assert isinstance(request, CanvasOpenRequest) and isinstance(closing, CanvasCloseRequest)
    assert (request.session_id, request.extension_id, request.canvas_id, request.instance_id) == (sid, "ext-1", "board", "b1")  # fmt: skip
    assert request.working_directory == "/w" and request.host_renders_canvases is True
    assert closing.working_directory is None and closing.host_renders_canvases is None
    assert all(name.startswith("copilot-worker") for name in board.threads)


def test_many_canvas_requests_at_once_each_get_their_own_answer():
    board = Board()
    with running() as (fake, client):
        session = client.create_session(canvases=[BOARD], canvas_handler=board)
        answers: list[Any] = [None] * 16

        def act(i: int) -> None:
            params = _params(session.session_id, actionName="add_card", input={"text": str(i)})
            answers[i] = fake.request("canvas.action.invoke", params)

        threads = [threading.Thread(target=act, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert all("result" in a and str(i) in a["result"]["cards"] for i, a in enumerate(answers))
    assert sorted(board.cards, key=int) == [str(i) for i in range(16)]


class Picky(CanvasHandler):
    def on_open(self, request: CanvasOpenRequest) -> Any:
        if request.input == "structured":
            raise CanvasError("board_full", "the board has no room")
        if request.input == "junk":
            return 42
        if request.input == "dict":
            return {"status": "ready"}
        if request.input == "none":
            return None
        raise RuntimeError("token ghp_secret leaked in /private/path")

    def on_action(self, request: CanvasActionRequest) -> Any:
        if request.action_name == "tool_result":
            return ToolResult(text_result_for_llm="done", result_type="success")
        return super().on_action(request)


def test_handler_errors_and_return_values(caplog):
    with running() as (fake, client):
        session = client.create_session(canvases=[BOARD], canvas_handler=Picky())
        sid = session.session_id

        def open_with(value: Any) -> dict[str, Any]:
            return fake.request("canvas.open", _params(sid, input=value))

        structured = open_with("structured")["error"]
        assert structured["message"] == "the board has no room"
        assert structured["data"] == {"code": "board_full", "message": "the board has no room"}
        generic = open_with("boom")["error"]
        assert generic["data"]["code"] == "canvas_handler_error"
        assert "ghp_secret" not in str(generic) and "/private/path" not in str(generic)
        assert open_with("junk")["error"]["data"]["code"] == "canvas_handler_error"
        assert open_with("dict")["result"] == {"status": "ready"}
        assert open_with("none")["result"] == {}
        default = fake.request("canvas.action.invoke", _params(sid, actionName="other"))
        assert default["error"]["data"]["code"] == "canvas_action_no_handler"
        wire = fake.request("canvas.action.invoke", _params(sid, actionName="tool_result"))
        assert wire["result"] == {"textResultForLlm": "done", "resultType": "success"}
        assert fake.request("canvas.close", _params(sid))["result"] is None  # default on_close
        bad = fake.request("canvas.open", {"sessionId": sid, "canvasId": "board"})
        assert bad["error"]["code"] == -32602
        plain = client.create_session()
        unset = fake.request("canvas.open", _params(plain.session_id))
        assert unset["error"]["data"]["code"] == "canvas_handler_unset"
    assert "on_open" in caplog.text and "RuntimeError" in caplog.text


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"canvas_handler": object()}, TypeError, "on_open"),
        ({"canvases": BOARD}, TypeError, "must be a list"),
        ({"canvases": [BOARD, BOARD]}, ValueError, "two canvases"),
        ({"canvases": [{"id": "x", "display_name": "X"}]}, ValueError, "description"),
        (
            {"canvases": [{"id": "x", "display_name": "X", "description": "d", "colour": 1}]},
            TypeError,
            "colour",
        ),
        (
            {
                "canvases": [
                    {
                        "id": "x",
                        "displayName": "X",
                        "description": "d",
                        "actions": [{"name": "canvas.open"}],
                    }
                ]
            },
            ValueError,
            "reserved",
        ),
        ({"canvases": ["board"]}, TypeError, "CanvasDeclaration"),
        ({"extension_info": {"source": "a"}}, TypeError, "extension_info"),
        ({"canvas_provider": {"id": "a", "nmae": "b"}}, TypeError, "nmae"),
        ({"request_canvas_renderer": "yes"}, TypeError, "bool"),
        ({"extension_sdk_path": 3}, TypeError, "str"),
    ],
)
def test_bad_canvas_options_are_refused_before_anything_is_sent(options, error, match):
    with running() as (fake, client):
        with pytest.raises(error, match=match):
            client.create_session(**options)
        assert fake.requests("session.create") == []


def test_declarations_are_checked_when_built():
    with pytest.raises(ValueError, match="two actions"):
        CanvasDeclaration("b", "B", "d", actions=[CanvasAction("x"), CanvasAction("x")])
    with pytest.raises(ValueError, match="reserved"):
        CanvasAction("canvas.close")
    with pytest.raises(ValueError, match="display_name"):
        CanvasDeclaration("b", "", "d")


def _wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_open_canvases_follow_events_and_the_resume_result():
    snapshot = {"instanceId": "b1", "extensionId": "ext-1", "canvasId": "board", "title": "Sprint"}
    resumed = {"sessionId": "s-old", "openCanvases": [snapshot]}
    rules = [Rule(method="session.resume", actions=[reply(resumed)])]
    with running(rules=rules) as (fake, client):
        session = client.create_session(canvases=[BOARD], canvas_handler=Board())
        assert session.open_canvases == []
        fake.emit(session.session_id, "session.canvas.opened", {**snapshot, "url": "http://x"})
        fake.emit(session.session_id, "session.canvas.opened", {**snapshot, "instanceId": "b2"})
        _wait_for(lambda: len(session.open_canvases) == 2)
        first, second = session.open_canvases
        assert (first.instance_id, first.url, second.instance_id) == ("b1", "http://x", "b2")
        fake.emit(session.session_id, "session.canvas.closed", {"instanceId": "b1", "extensionId": "ext-1", "canvasId": "board"})  # fmt: skip
        _wait_for(lambda: [c.instance_id for c in session.open_canvases] == ["b2"])
        again = client.resume_session("s-old", canvas_handler=Board(), open_canvases=session.open_canvases)  # fmt: skip
        (resume,) = fake.requests("session.resume")
        assert resume["params"]["openCanvases"] == [
            {"instanceId": "b2", "extensionId": "ext-1", "canvasId": "board", "title": "Sprint"}
        ]
        assert [(c.instance_id, c.title) for c in again.open_canvases] == [("b1", "Sprint")]
