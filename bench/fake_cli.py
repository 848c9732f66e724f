"""The fake Copilot CLI the benchmarks run both SDKs against (one script, same stream for both).

It is the project's fake (:mod:`copilot_sync.testing._fake_engine`, the engine behind
``copilot_sync.testing.FakeCLI``), run *stand-alone*: no controller process, so no control
round trip is added to each message and no controller thread runs inside the measured SDK
process. What a benchmark needs from it is asked for in-band, with prompts that start with
``bench:`` (each one is a turn: ``user.message``, the work, an ``assistant.message`` whose
content is a JSON report, ``assistant.idle`` + ``session.idle``):

* ``bench:prepare N``: build N ``assistant.message_delta`` frames (ephemeral) in memory;
* ``bench:deltas``: write the prepared frames back to back, as fast as the pipe takes them;
* ``bench:tools N``: N ``external_tool.requested`` events (the shape CLI 1.0.81 sends:
  ``{requestId, sessionId, toolCallId, toolName:"noop", arguments, workingDirectory}``), one at a time; each round trip is
  timed here, from the write of the request to the arrival of its
  ``session.tools.handlePendingToolCall`` answer; the report holds every round trip (seconds);
* ``bench:toolsc N R``: R rounds of N requests written at once; the report holds each
  round's total time (write of the first request to arrival of the last answer).

One change to the ordinary turns: ``user.message`` carries the ``messageId`` that
``session.send`` returned (newer CLIs do; 1.0.81 does not), because the official SDK 1.0.27
correlates ``send_and_wait`` with it and otherwise waits until its timeout (see RESULTS.md).
Our SDK ignores the field.

Run by a launcher that ``bench/run.py`` writes (``#!<project venv python>``); any SDK spawns it
like the real CLI (``--stdio``).
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from copilot_sync._wire.framing import encode_frame
from copilot_sync.testing import _fake_server
from copilot_sync.testing._fake_engine import Engine
from copilot_sync.testing._fake_records import Reply, Session, dumps

_perf = time.perf_counter


class BenchEngine(Engine):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepared: dict[str, bytes] = {}
        self._prepared_count: dict[str, int] = {}
        self._waiters: dict[str, list[Any]] = {}  # requestId -> [Event, arrival time, had result]
        self._waiters_lock = threading.Lock()
        self._send_ids = threading.local()

    # ---------------------------------------------------------------- ordinary turns

    def _turn(self, sess: Session, item: dict[str, Any]) -> bool:
        self._send_ids.message_id = item.get("messageId")
        try:
            return super()._turn(sess, item)
        finally:
            self._send_ids.message_id = None

    def emit(
        self, sid: Any, etype: str, data: Any = None, *, copies: int = 1, **spec: Any
    ) -> dict[str, Any]:
        if etype == "user.message" and isinstance(data, dict) and "messageId" not in data:
            message_id = getattr(self._send_ids, "message_id", None)
            if message_id:
                data = {**data, "messageId": message_id}
        return super().emit(sid, etype, data, copies=copies, **spec)

    # ---------------------------------------------------------------- bench turns

    def h_send(self, conn: Any, params: dict[str, Any], method: str) -> Reply:
        prompt = params.get("prompt")
        if not (isinstance(prompt, str) and prompt.startswith("bench:")):
            return super().h_send(conn, params, method)
        sess = self._live(params, method)
        message_id = str(uuid.uuid4())

        def start() -> None:
            threading.Thread(
                target=self._bench_turn,
                args=(sess, prompt, message_id),
                daemon=True,
                name="bench-turn",
            ).start()

        return Reply({"messageId": message_id}, after=start)

    def _bench_turn(self, sess: Session, prompt: str, message_id: str) -> None:
        interaction = str(uuid.uuid4())
        self.emit(
            sess,
            "user.message",
            {
                "content": prompt,
                "delivery": "idle",
                "messageId": message_id,
                "interactionId": interaction,
            },
        )
        self.emit(sess, "assistant.turn_start", {"turnId": "0", "interactionId": interaction})
        command, *args = prompt[len("bench:") :].split()
        try:
            report = getattr(self, f"bench_{command}")(sess, *args)
        except Exception as exc:
            report = {"error": f"{type(exc).__name__}: {exc}"}
        self.emit(
            sess,
            "assistant.message",
            {
                "messageId": str(uuid.uuid4()),
                "content": json.dumps(report),
                "toolRequests": [],
                "interactionId": interaction,
                "turnId": "0",
            },
        )
        self.emit(sess, "assistant.turn_end", {"turnId": "0"})
        self.emit(sess, "assistant.idle", {}, ephemeral=True)
        self.emit(sess, "session.idle", {}, ephemeral=True)

    def bench_prepare(self, sess: Session, n: str) -> dict[str, Any]:
        count = int(n)
        message_id = str(uuid.uuid4())
        head = (
            b'{"jsonrpc":"2.0","method":"session.event","params":{"sessionId":'
            + dumps(sess.id)
            + b',"event":'
        )
        frames = []
        with sess.emit_lock:
            for i in range(count):
                event = self._build(
                    sess,
                    {
                        "type": "assistant.message_delta",
                        "ephemeral": True,
                        "data": {"messageId": message_id, "deltaContent": f"token{i} "},
                    },
                )
                frames.append(encode_frame(head + dumps(event) + b"}}"))
        blob = b"".join(frames)
        self._prepared[sess.id] = blob
        self._prepared_count[sess.id] = count
        return {"n": count, "bytes": len(blob)}

    def bench_deltas(self, sess: Session) -> dict[str, Any]:
        blob = self._prepared[sess.id]
        with sess.emit_lock:
            start = _perf()
            self._write_all(self._targets(sess), [blob])
            written = _perf() - start
        return {"n": self._prepared_count[sess.id], "bytes": len(blob), "write_s": written}

    def _ask(self, sess: Session, i: int) -> tuple[str, bytes, list[Any]]:
        request_id = str(uuid.uuid4())
        slot: list[Any] = [threading.Event(), None, False]
        with self._waiters_lock:
            self._waiters[request_id] = slot
        event = self._build(
            sess,
            {
                "type": "external_tool.requested",
                "data": {
                    "requestId": request_id,
                    "sessionId": sess.id,
                    "toolCallId": f"call_{i}",
                    "toolName": "noop",
                    "arguments": {"i": i},
                    "workingDirectory": sess.cwd,
                },
            },
        )
        return request_id, self._frame(sess.id, event), slot

    def bench_tools(self, sess: Session, n: str) -> dict[str, Any]:
        rtts: list[float] = []
        failures = 0
        for i in range(int(n)):
            with sess.emit_lock:
                _rid, frame, slot = self._ask(sess, i)
                conns = self._targets(sess)
                start = _perf()
                for conn in conns:
                    conn.write(frame)
            if not slot[0].wait(30):
                return {"error": f"tool call {i} was not answered within 30 s", "rtt": rtts}
            rtts.append(slot[1] - start)
            failures += not slot[2]
        return {"rtt": rtts, "failures": failures}

    def bench_toolsc(self, sess: Session, n: str, rounds: str = "1") -> dict[str, Any]:
        totals: list[float] = []
        failures = 0
        for _ in range(int(rounds)):
            with sess.emit_lock:
                asks = [self._ask(sess, i) for i in range(int(n))]
                conns = self._targets(sess)
                data = b"".join(frame for _rid, frame, _slot in asks)
                start = _perf()
                for conn in conns:
                    conn.write(data)
            for _rid, _frame, slot in asks:
                if not slot[0].wait(30):
                    return {
                        "error": "a concurrent tool call was not answered within 30 s",
                        "totals": totals,
                    }
                failures += not slot[2]
            totals.append(max(slot[1] for _rid, _frame, slot in asks) - start)
        return {"totals": totals, "failures": failures}

    def h_answer(self, conn: Any, params: dict[str, Any], method: str) -> Reply:
        arrived = _perf()
        reply = super().h_answer(conn, params, method)
        request_id = params.get("requestId")
        with self._waiters_lock:
            slot = self._waiters.pop(request_id, None) if isinstance(request_id, str) else None
        if slot is not None:
            result = params.get("result")
            ok = "error" not in params and result is not None
            if isinstance(result, dict) and result.get("resultType") not in (None, "success"):
                ok = False
            slot[1], slot[2] = arrived, ok
            slot[0].set()
        return reply


def main(argv: list[str] | None = None) -> int:
    _fake_server.Engine = BenchEngine  # type: ignore[misc]  # main() builds its engine from this name
    return _fake_server.main(argv)


if __name__ == "__main__":
    sys.exit(main())
