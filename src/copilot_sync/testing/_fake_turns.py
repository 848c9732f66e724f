"""The fake CLI's turns: ``session.send``, the queue of turns, streaming replies, tool and
permission round trips, abort; a mixin of :class:`~._fake_engine.Engine`."""

from __future__ import annotations

import logging
import threading
import uuid
from typing import TYPE_CHECKING, Any

from ._fake_engine_state import EngineState
from ._fake_records import Reply, Session

if TYPE_CHECKING:
    from ._fake_conn import Conn

__all__ = ["EngineTurns"]

logger = logging.getLogger("copilot_sync.testing")


class EngineTurns(EngineState):
    """Part of :class:`~._fake_engine.Engine` (its state is set up there)."""

    # ------------------------------------------------------------------ turns

    def h_send(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        sess = self._live(params, method)
        prompt = params.get("prompt")
        prompt = prompt if isinstance(prompt, str) else ""
        item: dict[str, Any] = {
            "prompt": prompt,
            "attachments": params.get("attachments"),
            "mode": params.get("mode"),
            "agentMode": params.get("agentMode"),
            "messageId": str(uuid.uuid4()),
            "wait": None,
            "displayPrompt": params.get("displayPrompt"),
            "source": params.get("source"),
        }
        if sess.summary is None and prompt:
            sess.summary = prompt[:100]
        if params.get("wait"):  # answered after the session.idle that ends this message's batch

            def defer(msg_id: Any) -> None:
                item["wait"] = (conn, msg_id)
                self._enqueue(sess, item)

            return Reply(defer=defer)
        return Reply({"messageId": item["messageId"]}, after=lambda: self._enqueue(sess, item))

    def _enqueue(self, sess: Session, item: dict[str, Any]) -> None:
        with self.lock:
            if sess.running:
                item["delivery"] = "steering" if item["mode"] == "immediate" else "queued"
            else:
                item["delivery"] = "idle"
            sess.queue.append(item)
            if sess.running:
                return
            sess.running = True
            sess.abort.clear()
        threading.Thread(
            target=self._run_turns,
            args=(sess,),
            daemon=True,
            name=f"copilot-fake-turns-{sess.id[:8]}",
        ).start()

    def _run_turns(self, sess: Session) -> None:
        done: list[dict[str, Any]] = []
        try:
            while True:
                aborted = False
                while True:
                    with self.lock:
                        if sess.abort.is_set():
                            aborted = True
                            done.extend(sess.queue)
                            sess.queue.clear()
                            break
                        if not sess.queue:
                            break
                        item = sess.queue.popleft()
                    done.append(item)
                    if self._turn(sess, item):
                        aborted = True
                        with self.lock:
                            done.extend(sess.queue)
                            sess.queue.clear()
                        break
                if not sess.active:
                    pass  # destroyed or deleted mid-turn: the turn just stops
                elif aborted:
                    self.emit(sess, "assistant.idle", {"aborted": True}, ephemeral=True)
                    self.emit(sess, "session.idle", {"aborted": True}, ephemeral=True)
                else:
                    self.emit(sess, "assistant.idle", {}, ephemeral=True)
                    self.emit(sess, "session.idle", {}, ephemeral=True)
                for item in done:
                    if item["wait"] is not None:
                        wconn, wid = item["wait"]
                        wconn.respond(wid, {"messageId": item["messageId"]})
                done.clear()
                with self.lock:
                    sess.abort.clear()
                    if not sess.queue:
                        sess.running = False
                        return
        except Exception:
            logger.exception("turn runner for session %s failed", sess.id)
            with self.lock:
                sess.running = False

    def _reply_for(self, sess: Session, prompt: str) -> str:
        text = self.replies.get(sess.id, self.reply_text)
        return f"echo: {prompt}" if text is None else text.replace("{prompt}", prompt)

    def _turn(self, sess: Session, item: dict[str, Any]) -> bool:
        """Emit one user message's turn; True if it was aborted."""
        abort = sess.abort
        if abort.is_set():
            return True
        shown = item.get(
            "displayPrompt"
        )  # as the real CLI: the timeline shows it, the model gets the prompt
        user: dict[str, Any] = {"content": shown if isinstance(shown, str) else item["prompt"]}
        if item.get("source"):
            user["source"] = item["source"]
        if item["attachments"]:
            user["attachments"] = item["attachments"]
        user["delivery"] = item["delivery"]
        if item["agentMode"]:
            user["agentMode"] = item["agentMode"]
        interaction = str(uuid.uuid4())
        user["interactionId"] = interaction
        self.emit(sess, "user.message", user)
        self.emit(sess, "assistant.turn_start", {"turnId": "0", "interactionId": interaction})
        think = float(self.sc.get("think_time") or 0)
        if (think > 0 and abort.wait(think)) or abort.is_set():
            return True
        failure = self.turn_errors.get(sess.id, self.turn_error)
        if failure is not None:
            self.emit(sess, "session.error", {"errorType": "query", "message": failure})
            return False
        text = self._reply_for(sess, item["prompt"])
        message_id = str(uuid.uuid4())
        if sess.streaming:
            self.emit(sess, "assistant.message_start", {"messageId": message_id}, ephemeral=True)
            chunks = max(1, int(self.sc.get("streaming_chunks") or 1))
            size = -(-len(text) // chunks) if text else 0
            self.emit_many(
                sess.id,
                [
                    {
                        "type": "assistant.message_delta",
                        "ephemeral": True,
                        "data": {"messageId": message_id, "deltaContent": text[i : i + size]},
                    }
                    for i in range(0, len(text), size or 1)
                ]
                if text
                else [],
            )
        if abort.is_set():
            return True
        message: dict[str, Any] = {
            "messageId": message_id,
            "content": text,
            "toolRequests": [],
            "interactionId": interaction,
            "turnId": "0",
        }
        if sess.model:
            message["model"] = sess.model
        self.emit(sess, "assistant.message", message)
        self.emit(sess, "assistant.turn_end", {"turnId": "0"})
        return False

    def h_abort(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        sess = self._live(params, method)
        self.emit(sess, "abort", {"reason": params.get("reason") or "user_initiated"})
        with self.lock:
            if sess.running:
                sess.abort.set()
        return Reply({"success": True})
