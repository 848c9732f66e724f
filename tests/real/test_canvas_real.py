"""Canvases on the real CLI with the scripted model: the model opens a declared canvas and
invokes one of its actions through the CLI's canvas tools; the CLI asks this client's
``CanvasHandler`` (``canvas.open``/``canvas.action.invoke``/``canvas.close``), the answers
reach the model as tool results, and ``session.open_canvases`` follows the events."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from copilot_sync import (
    CanvasAction,
    CanvasActionRequest,
    CanvasCloseRequest,
    CanvasDeclaration,
    CanvasHandler,
    CanvasOpenRequest,
    CanvasOpenResult,
    PermissionHandler,
    PermissionRequest,
    PermissionRequestResult,
)

from .conftest import open_session

pytestmark = pytest.mark.timeout(120)

BOARD = CanvasDeclaration(
    id="board",
    display_name="Board",
    description="A kanban board of cards",
    input_schema={"type": "object", "properties": {"title": {"type": "string"}}},
    actions=[
        CanvasAction(
            "add_card",
            "Add a card to the board",
            {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
        )
    ],
)


class Board(CanvasHandler):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.opened: list[CanvasOpenRequest] = []
        self.closed: list[CanvasCloseRequest] = []
        self.cards: list[str] = []
        self.threads: set[str] = set()

    def on_open(self, request: CanvasOpenRequest) -> CanvasOpenResult:
        with self.lock:
            self.opened.append(request)
            self.threads.add(threading.current_thread().name)
        title = request.input.get("title") if isinstance(request.input, dict) else None
        return CanvasOpenResult(title=title or "Board", status="3 columns")

    def on_close(self, request: CanvasCloseRequest) -> None:
        with self.lock:
            self.closed.append(request)

    def on_action(self, request: CanvasActionRequest) -> Any:
        with self.lock:
            self.cards.append(request.input["text"])
            return {"added": request.input["text"], "cards": len(self.cards)}


def test_the_model_opens_a_canvas_and_invokes_its_action(client, model):
    board = Board()
    kinds: list[str] = []

    def approve(request: PermissionRequest, invocation: Any) -> PermissionRequestResult:
        kinds.append(request.kind)
        return PermissionHandler.approve_all(request, invocation)

    session = open_session(
        client, model, canvases=[BOARD], canvas_handler=board, request_canvas_renderer=True,
        on_permission_request=approve,
    )  # fmt: skip
    opened_events: list[Any] = []
    session.on("session.canvas.opened", opened_events.append)
    open_args = {"canvasId": "board", "instanceId": "sprint-1", "input": {"title": "Sprint 1"}}
    model.add_tool_call("open_canvas", open_args)
    model.add_tool_call("invoke_canvas_action", {"instanceId": "sprint-1", "actionName": "add_card", "input": {"text": "write tests"}})  # fmt: skip
    model.add_reply("The board is open with one card.")
    reply = session.send_and_wait("Open a sprint board and add a card", timeout=90)
    assert reply.data.content == "The board is open with one card."

    [request] = board.opened
    assert (request.canvas_id, request.instance_id, request.input) == ("board", "sprint-1", {"title": "Sprint 1"})  # fmt: skip
    assert request.session_id == session.session_id and request.extension_id
    assert board.cards == ["write tests"]
    assert kinds == ["custom-tool", "custom-tool"]  # the CLI asks before each canvas tool call
    assert all(name.startswith("copilot-worker") for name in board.threads)

    first_tool_result, second_tool_result = model.requests[1], model.requests[2]
    assert "Sprint 1" in json.dumps(first_tool_result.tool_results)
    assert "write tests" in json.dumps(second_tool_result.tool_results)

    assert [e.data.instance_id for e in opened_events] == ["sprint-1"]
    [instance] = session.open_canvases
    assert (instance.instance_id, instance.canvas_id, instance.title) == ("sprint-1", "board", "Sprint 1")  # fmt: skip

    session.rpc.canvas.close(instance_id="sprint-1")
    deadline = time.monotonic() + 30
    while session.open_canvases or not board.closed:
        assert time.monotonic() < deadline, "the canvas did not close"
        time.sleep(0.05)
    assert board.closed[0].instance_id == "sprint-1"
    session.disconnect()
