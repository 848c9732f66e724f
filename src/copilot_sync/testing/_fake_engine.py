"""Behaviour of the fake Copilot CLI: what it answers and which events it emits.

This is the CLI 1.0.81 emulation used by :mod:`copilot_sync.testing._fake_server` (the process
entry point, transport and control link). It knows nothing about sockets or the controller:
it reads JSON-RPC messages handed to :meth:`Engine.handle` and writes frames to :class:`Conn`
objects. The behaviour list lives in :mod:`copilot_sync.testing._fake_cli`.
"""

from __future__ import annotations

import base64
import fnmatch
import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from copilot_sync._wire.framing import encode_frame

from .._fields import is_object
from ._fake_control import EngineControl
from ._fake_records import (
    ANSWERS,
    ASK_TYPES,
    AUTO,
    CHUNK,
    DEFAULT_MODELS,
    DEFAULT_SCENARIO,
    Reply,
    RpcError,
    Session,
    dumps,
    hard_exit,
    iso_ms,
    iso_ns,
    subset,
)
from ._fake_turns import EngineTurns

if TYPE_CHECKING:
    from ._fake_conn import Conn

logger = logging.getLogger("copilot_sync.testing")

# --------------------------------------------------------------------------- engine


class Engine(EngineTurns, EngineControl):
    def __init__(
        self,
        scenario: dict[str, Any],
        *,
        home: str,
        create_dirs: bool,
        server_token: str | None,
        tcp: bool,
    ) -> None:
        self.sc = {**DEFAULT_SCENARIO, **scenario}
        rules: list[dict[str, Any]] = self.sc.get("rules") or []
        self.rules: list[dict[str, Any]] = [dict(r, _fired=0) for r in rules]
        self.home = home
        self.create_dirs = create_dirs
        self.server_token = server_token if tcp else None
        self.tcp = tcp
        self.index = 0
        self.lock = threading.RLock()
        self.sessions: dict[str, Session] = {}
        self.conns: list[Conn] = []
        self._mod = 0
        self.reply_text: str | None = self.sc["reply_text"]
        self.replies: dict[str, str] = dict(self.sc["replies"] or {})
        self.turn_error: str | None = self.sc["turn_error"]
        self.turn_errors: dict[str, str] = dict(self.sc["turn_errors"] or {})
        self.handlers: dict[str, Callable[[Conn, dict[str, Any], str], Reply]] = {
            "connect": self.h_connect,
            "ping": self.h_ping,
            "status.get": self.h_status,
            "auth.getStatus": self.h_auth,
            "models.list": self.h_models,
            "runtime.shutdown": self.h_shutdown,
            "session.create": self.h_create,
            "session.resume": self.h_resume,
            "session.destroy": self.h_destroy,
            "session.delete": self.h_delete,
            "session.list": self.h_list,
            "session.getMetadata": self.h_metadata,
            "session.getLastId": self.h_last_id,
            "session.getForeground": self.h_get_foreground,
            "session.setForeground": self.h_set_foreground,
            "session.getMessages": self.h_messages,
            "session.send": self.h_send,
            "session.abort": self.h_abort,
            "session.log": self.h_log,
            "session.model.switchTo": self.h_switch_model,
            "session.model.getCurrent": self.h_current_model,
            "session.mode.get": self.h_mode_get,
            "session.detach": self.h_detach,
            "session.tools.set": self.h_tools_set,
            "sessionFs.setProvider": self.h_session_fs_provider,
        }
        for method in ANSWERS:
            self.handlers[method] = self.h_answer

    # ------------------------------------------------------------------ plumbing

    def attach(self, conn: Conn) -> None:
        """A new SDK connection (its ``index`` must be ``len(engine.conns)``)."""
        with self.lock:
            self.conns.append(conn)

    def detach(self, conn: Conn) -> None:
        """The SDK connection ended."""
        conn.closed()
        with self.lock:
            for sess in self.sessions.values():
                if conn in sess.conns:
                    sess.conns.remove(conn)

    def handle(self, conn: Conn, msg: Any) -> None:
        """Act on one decoded message from the SDK (called on the connection's reader thread)."""
        if not is_object(msg):
            return
        method = msg.get("method")
        if not isinstance(method, str):
            if "id" in msg:
                conn.resolve(msg)
            return
        is_request = "id" in msg
        if self.server_token is not None and not conn.authed and method != "connect":
            if is_request:
                conn.respond(
                    msg["id"],
                    error=RpcError(
                        -32001,
                        "Authentication required: send connect with the connection token first",
                    ),
                )
            return
        rule = self._match_rule(method, msg.get("params"))
        if rule is not None:
            actions: list[dict[str, Any]] = rule.get("actions") or []
            if any(a.get("op") in ("sleep", "request") for a in actions):
                threading.Thread(
                    target=self._run_actions,
                    args=(conn, msg, actions),
                    daemon=True,
                    name=f"copilot-fake-rule-{method}",
                ).start()
            else:
                self._run_actions(conn, msg, actions)
        elif is_request:
            self.default(conn, msg)
        # notifications without a rule are ignored, like the real CLI does

    def _match_rule(self, method: str, params: Any) -> dict[str, Any] | None:
        with self.lock:
            for rule in self.rules:
                if rule.get("instance") is not None and rule["instance"] != self.index:
                    continue
                if rule.get("times") is not None and rule["_fired"] >= rule["times"]:
                    continue
                pattern = rule.get("method") or "*"
                if pattern != method and not fnmatch.fnmatchcase(method, pattern):
                    continue
                if rule.get("match") and not subset(
                    rule["match"], params if params is not None else {}
                ):
                    continue
                rule["_fired"] += 1
                return rule
        return None

    def _run_actions(self, conn: Conn, msg: dict[str, Any], actions: list[dict[str, Any]]) -> None:
        answered = "id" not in msg
        params: dict[str, Any] = msg["params"] if isinstance(msg.get("params"), dict) else {}
        for act in actions:
            op = act.get("op")
            try:
                if op == "default":
                    if not answered:
                        answered = True
                        self.default(conn, msg)
                elif op == "reply":
                    if not answered:
                        answered = True
                        if msg.get("method") == "connect":
                            conn.authed = True
                        conn.respond(msg["id"], act.get("result"))
                elif op == "error":
                    if not answered:
                        answered = True
                        conn.respond(
                            msg["id"],
                            error=RpcError(
                                act.get("code", -32603), act.get("message", ""), act.get("data")
                            ),
                        )
                elif op == "stall":
                    answered = True
                elif op == "events":
                    sid = act.get("sessionId") or params.get("sessionId")
                    if not sid:
                        raise ValueError(
                            "events(): the request has no sessionId and the action names none"
                        )
                    self.emit_many(sid, act.get("events") or [])
                elif op == "notify":
                    conn.send(
                        {"jsonrpc": "2.0", "method": act["method"], "params": act.get("params")}
                    )
                elif op == "request":
                    conn.request(act["method"], act.get("params"), float(act.get("timeout", 30)))
                elif op == "sleep":
                    time.sleep(float(act.get("seconds", 0)))
                elif op == "exit":
                    hard_exit(int(act.get("code", 0)))
                elif op == "kill":
                    os.kill(os.getpid(), signal.SIGKILL)
                elif op == "raw":
                    conn.write(base64.b64decode(act.get("b64", "")))
                elif op == "close_stdout":
                    conn.close_output()
                else:
                    logger.warning("unknown scenario action %r", op)
            except Exception as exc:
                logger.warning("scenario action %r failed: %s", op, exc)
        if not answered:
            self.default(conn, msg)

    def default(self, conn: Conn, msg: dict[str, Any]) -> None:
        """The built-in behaviour for one request."""
        method = msg["method"]
        params = msg.get("params")
        params = params if is_object(params) else {}
        handler = self.handlers.get(method)
        try:
            if handler is None:
                raise RpcError(-32601, f"Unhandled method {method}")
            reply = handler(conn, params, method)
        except RpcError as exc:
            reply = Reply(error=exc)
        except Exception as exc:  # answer like the CLI does
            logger.exception("handler for %s failed", method)
            reply = Reply(error=RpcError(-32603, f"Request {method} failed with message: {exc}"))
        if reply.defer is not None and reply.error is None:
            reply.defer(msg.get("id"))
            return
        conn.respond(msg.get("id"), reply.result, reply.error)
        if reply.after is not None:
            reply.after()

    # ------------------------------------------------------------------ events

    def session(self, sid: str) -> Session:
        with self.lock:
            sess = self.sessions.get(sid)
            if sess is None:
                sess = self.sessions[sid] = Session(sid)
            return sess

    def _live(self, params: dict[str, Any], method: str) -> Session:
        sid = params.get("sessionId")
        with self.lock:
            sess = self.sessions.get(sid) if isinstance(sid, str) else None
        if sess is None or not sess.known or not sess.active:
            raise RpcError(
                -32603, f"Request {method} failed with message: Session not found: {sid}"
            )
        return sess

    def _targets(self, sess: Session) -> list[Conn]:
        with self.lock:
            conns = [c for c in sess.conns if c.alive]
            return conns or [c for c in self.conns if c.alive]

    def _build(self, sess: Session, spec: dict[str, Any]) -> dict[str, Any]:
        """Turn a spec into a full event and chain it; call with ``sess.emit_lock`` held."""
        event: dict[str, Any] = {
            "id": spec.get("id") or str(uuid.uuid4()),
            "timestamp": spec.get("timestamp") or iso_ms(),
            "parentId": sess.last_event_id
            if spec.get("parentId", AUTO) is AUTO
            else spec["parentId"],
        }
        if spec.get("ephemeral") is not None:
            event["ephemeral"] = spec["ephemeral"]
        if spec.get("agentId") is not None:
            event["agentId"] = spec["agentId"]
        event["type"] = spec["type"]
        data = spec.get("data")
        event["data"] = {} if data is None else data
        sess.last_event_id = event["id"]
        if not event.get("ephemeral"):
            sess.history.append(event)
            with self.lock:
                self._mod += 1
                sess.mod_seq = self._mod
            sess.modified_time = event["timestamp"]
        if (
            event["type"] in ASK_TYPES
            and is_object(data)
            and isinstance(data.get("requestId"), str)
        ):
            sess.asks[data["requestId"]] = event["type"]
        return event

    @staticmethod
    def _frame(sid: str, event: dict[str, Any]) -> bytes:
        return encode_frame(
            dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "session.event",
                    "params": {"sessionId": sid, "event": event},
                }
            )
        )

    def emit(
        self, sid: str | Session, etype: str, data: Any = None, *, copies: int = 1, **spec: Any
    ) -> dict[str, Any]:
        sess = sid if isinstance(sid, Session) else self.session(sid)
        with sess.emit_lock:
            event = self._build(sess, {"type": etype, "data": data, **spec})
            frame = self._frame(sess.id, event) * copies
            for conn in self._targets(sess):
                conn.write(frame)
        return event

    def emit_many(self, sid: str, specs: Iterable[Any], *, require_conn: bool = False) -> list[str]:
        """Emit events back to back, written in large batches; ``specs`` may be a generator."""
        sess = self.session(sid)
        ids: list[str] = []
        with sess.emit_lock:
            conns = self._targets(sess)
            if require_conn and not conns:
                raise RuntimeError("no SDK connection to emit events to")
            head = (
                b'{"jsonrpc":"2.0","method":"session.event","params":{"sessionId":'
                + dumps(sess.id)
                + b',"event":'
            )
            batch: list[bytes] = []
            size = 0
            for spec in specs:
                if isinstance(spec, (list, tuple)):
                    pair = cast("list[Any] | tuple[Any, ...]", spec)
                    spec = {"type": pair[0], "data": pair[1] if len(pair) > 1 else None}
                event = self._build(sess, spec)
                ids.append(event["id"])
                frame = encode_frame(head + dumps(event) + b"}}")
                batch.append(frame)
                size += len(frame)
                if size >= CHUNK:
                    self._write_all(conns, batch)
                    batch, size = [], 0
            self._write_all(conns, batch)
        return ids

    @staticmethod
    def _write_all(conns: list[Conn], frames: list[bytes]) -> None:
        if frames:
            data = b"".join(frames)
            for conn in conns:
                conn.write(data)

    def emit_deltas(
        self, sid: str, n: int, message_id: str, text: str, ephemeral: bool = True
    ) -> list[str]:
        """``n`` ``assistant.message_delta`` events generated here (one control command, not n);
        ``{i}`` in ``text`` becomes the delta's index."""
        templated = "{i}" in text
        return self.emit_many(
            sid,
            (
                {
                    "type": "assistant.message_delta",
                    "ephemeral": ephemeral or None,
                    "data": {
                        "messageId": message_id,
                        "deltaContent": text.replace("{i}", str(i)) if templated else text,
                    },
                }
                for i in range(n)
            ),
            require_conn=True,
        )

    def broadcast(self, method: str, params: Any) -> int:
        with self.lock:
            conns = [c for c in self.conns if c.alive]
        frame = encode_frame(dumps({"jsonrpc": "2.0", "method": method, "params": params}))
        return sum(1 for c in conns if c.write(frame))

    def _lifecycle(self, kind: str, sess: Session, with_metadata: bool = True) -> None:
        params: dict[str, Any] = {"type": kind, "sessionId": sess.id}
        if with_metadata:
            meta = {"startTime": sess.start_time, "modifiedTime": sess.modified_time}
            if sess.summary is not None:
                meta["summary"] = sess.summary
            params["metadata"] = meta
        self.broadcast("session.lifecycle", params)

    # ------------------------------------------------------------------ client-level handlers

    def _version_fields(self, include: bool = True) -> dict[str, Any]:
        pv = self.sc["protocol_version"]
        return {"protocolVersion": pv} if include and pv is not None else {}

    def h_connect(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        if self.sc["connect_unhandled"]:
            raise RpcError(-32601, "Unhandled method connect")
        token = params.get("token")
        if self.server_token is not None:
            if token != self.server_token:
                raise RpcError(-32002, "Authentication failed: invalid connection token")
            conn.authed = True
        elif token:
            raise RpcError(
                -32003,
                "Authentication not configured: this server does not require a connection token",
            )
        return Reply({"ok": True, **self._version_fields(), "version": self.sc["version"]})

    def h_ping(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        message = params.get("message")
        return Reply(
            {
                "message": "pong" if message is None else f"pong: {message}",
                "timestamp": iso_ns(),
                **self._version_fields(not self.sc["ping_without_version"]),
            }
        )

    def h_status(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        return Reply({"version": "0.0.1", **self._version_fields()})

    def h_auth(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        return Reply(
            self.sc["auth_status"]
            or {"isAuthenticated": False, "statusMessage": "Not authenticated"}
        )

    def h_models(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        models = self.sc["models"]
        return Reply({"models": DEFAULT_MODELS if models is None else models})

    def h_shutdown(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        def later() -> None:
            timer = threading.Timer(0.1, hard_exit, (0,))
            timer.name = "copilot-fake-shutdown"
            timer.daemon = True
            timer.start()

        return Reply(None, after=later)

    # ------------------------------------------------------------------ session handlers

    def _configure(self, sess: Session, conn: Conn, params: dict[str, Any]) -> None:
        with self.lock:
            sess.known = sess.active = True
            if conn not in sess.conns:
                sess.conns.append(conn)
            self._mod += 1
            sess.mod_seq = self._mod
        if isinstance(params.get("workingDirectory"), str):
            sess.cwd = params["workingDirectory"]
        if isinstance(params.get("model"), str):
            sess.model = params["model"]
        if params.get("reasoningEffort") is not None:
            sess.reasoning_effort = params["reasoningEffort"]
        sess.streaming = bool(params.get("streaming"))
        sess.elicitation = bool(params.get("requestElicitation"))

    def _open_result(self, sess: Session) -> dict[str, Any]:
        path = os.path.join(self.home, "session-state", sess.id)
        if self.create_dirs:
            try:
                os.makedirs(path, exist_ok=True)
            except OSError as exc:
                logger.debug("cannot create %s: %s", path, exc)
        return {
            "sessionId": sess.id,
            "nativeSessionId": sess.id,
            "startTime": sess.start_time,
            "isRemote": False,
            "mode": "interactive",
            "workspacePath": path,
            "capabilities": {
                "ui": {"elicitation": sess.elicitation, "mcpApps": False, "canvases": False},
                "extensions": False,
            },
        }

    def h_create(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        sid = params.get("sessionId") or str(uuid.uuid4())
        sess = self.session(sid)
        self._configure(sess, conn, params)
        self._lifecycle("session.created", sess)
        data: dict[str, Any] = {
            "sessionId": sid,
            "version": 1,
            "producer": "copilot-agent",
            "copilotVersion": "0.0.0",
            "startTime": sess.start_time,
        }
        if sess.model:
            data["selectedModel"] = sess.model
        data["context"] = {"cwd": sess.cwd}
        return Reply(self._open_result(sess), after=lambda: self.emit(sess, "session.start", data))

    def h_resume(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        sid = params.get("sessionId")
        with self.lock:
            sess = self.sessions.get(sid) if isinstance(sid, str) else None
        if sess is None or not sess.known:
            raise RpcError(
                -32603,
                f"Request session.resume failed with message: Failed to load session events: Session not found: {sid}",
            )
        was_active = sess.active
        self._configure(sess, conn, params)
        data: dict[str, Any] = {"resumeTime": iso_ms(), "eventCount": len(sess.history)}
        if sess.model:
            data["selectedModel"] = sess.model
        data.update(
            {
                "context": {"cwd": sess.cwd},
                "alreadyInUse": was_active,
                "sessionWasActive": was_active,
                "remoteSteerable": False,
            }
        )
        if "continuePendingWork" in params:
            data["continuePendingWork"] = bool(params["continuePendingWork"])
        return Reply(
            self._open_result(sess), after=lambda: self.emit(sess, "session.resume", data, copies=2)
        )

    def h_destroy(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        sid = params.get("sessionId")
        with self.lock:
            sess = self.sessions.get(sid) if isinstance(sid, str) else None
        if sess is None or not sess.known:
            return Reply({"success": False})
        if sess.active:
            sess.abort.set()
            self.emit(
                sess,
                "session.shutdown",
                {
                    "shutdownType": "routine",
                    "totalApiDurationMs": 0,
                    "sessionStartTime": int(time.time() * 1000),
                    "eventsFileSizeBytes": 0,
                    "codeChanges": {"linesAdded": 0, "linesRemoved": 0, "filesModified": []},
                    "modelMetrics": {},
                    **({"currentModel": sess.model} if sess.model else {}),
                },
            )
            with self.lock:
                sess.active = False
                sess.conns.clear()
        return Reply({"success": True})

    def h_delete(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        sid = params.get("sessionId")
        with self.lock:
            sess = self.sessions.get(sid) if isinstance(sid, str) else None
            if sess is None or not sess.known or not isinstance(sid, str):
                return Reply({"success": False, "error": f"Session file not found for {sid}"})
            del self.sessions[sid]
            sess.active = False
            sess.abort.set()
        return Reply(
            {"success": True},
            after=lambda: self._lifecycle("session.deleted", sess, with_metadata=False),
        )

    def _known_sessions(self) -> list[Session]:
        with self.lock:
            return [s for s in self.sessions.values() if s.known]

    def h_list(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        flt: dict[str, Any] = params["filter"] if isinstance(params.get("filter"), dict) else {}
        out: list[dict[str, Any]] = []
        for sess in sorted(self._known_sessions(), key=lambda s: s.mod_seq, reverse=True):
            meta = sess.metadata()
            if all(meta["context"].get(k) == v for k, v in flt.items() if v is not None):
                out.append(meta)
        return Reply({"sessions": out})

    def h_metadata(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        with self.lock:
            sess = self.sessions.get(params.get("sessionId"))  # type: ignore[arg-type]
        return Reply({"session": sess.metadata()} if sess is not None and sess.known else {})

    def h_last_id(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        known = self._known_sessions()
        return Reply({"sessionId": max(known, key=lambda s: s.mod_seq).id} if known else {})

    def h_get_foreground(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        return Reply({})

    def h_set_foreground(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        return Reply(
            {
                "success": False,
                "error": "Not running in TUI+server mode - no foreground session change handler registered",
            }
        )

    def h_messages(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        sess = self._live(params, method)
        with sess.emit_lock:
            return Reply({"events": list(sess.history)})

    def h_log(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        sess = self._live(params, method)
        level = params.get("level") or "info"
        if level not in ("info", "warning", "error"):
            raise RpcError(
                -32602, f"Invalid params: level must be info, warning or error, not {level!r}"
            )
        data: dict[str, Any] = {
            f"{level}Type": params.get("type") or "notification",
            "message": params.get("message", ""),
        }
        for key in ("url", "tip") if level == "info" else ("url",):
            if params.get(key) is not None:
                data[key] = params[key]
        etype = {"info": "session.info", "warning": "session.warning", "error": "session.error"}[
            level
        ]
        event = self.emit(sess, etype, data, ephemeral=True if params.get("ephemeral") else None)
        return Reply({"eventId": event["id"]})

    def h_switch_model(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        sess = self._live(params, method)
        model = params.get("modelId")
        if not isinstance(model, str) or not model:
            raise RpcError(-32602, "Invalid params: modelId is required")
        data: dict[str, Any] = {"newModel": model}
        if sess.model:
            data["previousModel"] = sess.model
        if "reasoningEffort" in params:
            data["reasoningEffort"] = params["reasoningEffort"]
            data["previousReasoningEffort"] = sess.reasoning_effort
            sess.reasoning_effort = params["reasoningEffort"]
        data["source"] = params.get("source") or "sdk"
        sess.model = model
        self.emit(sess, "session.model_change", data)
        return Reply(
            {
                "status": "applied",
                "deferred": False,
                "modelId": model,
                "message": "",
                "deprecationWarnings": [],
            }
        )

    def h_current_model(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        sess = self._live(params, method)
        out: dict[str, Any] = {}
        if sess.model:
            out["modelId"] = sess.model
        if sess.reasoning_effort:
            out["reasoningEffort"] = sess.reasoning_effort
        return Reply(out)

    def h_mode_get(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        self._live(params, method)
        return Reply("interactive")

    def h_tools_set(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        self._live(params, method)
        if not isinstance(params.get("tools"), list):
            raise RpcError(-32602, "tools must be a list")
        return Reply({})

    def h_session_fs_provider(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        """Like 1.0.81: only before any session is active; ``{success: true}``."""
        for key in ("initialCwd", "sessionStatePath", "conventions"):
            if not isinstance(params.get(key), str) or not params[key]:
                raise RpcError(-32603, f"Invalid sessionFs.setProvider params: missing {key}")
        with self.lock:
            if any(sess.active for sess in self.sessions.values()):
                raise RpcError(
                    -32603,
                    "Cannot set session filesystem provider while sessions are active. "
                    "Call sessionFs.setProvider before creating any sessions.",
                )
        return Reply({"success": True})

    def h_detach(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        sess = self._live(params, method)
        with self.lock:
            if conn in sess.conns:
                sess.conns.remove(conn)
        return Reply({"success": True})

    def h_answer(self, conn: Conn, params: dict[str, Any], method: str) -> Reply:
        sess = self._live(params, method)
        request_id = params.get("requestId")
        _asked, done_type, ephemeral = ANSWERS[method]
        with sess.emit_lock:
            known = sess.asks.pop(request_id, None) if isinstance(request_id, str) else None
        if known is None:
            return Reply({"success": False})
        data: dict[str, Any] = {"requestId": request_id}
        result = params.get("result")
        if done_type == "permission.completed" and result is not None:
            data["result"] = result
        elif done_type == "elicitation.completed" and is_object(result):
            data.update({k: result[k] for k in ("action", "content") if k in result})
        elif done_type == "user_input.completed" and isinstance(params.get("response"), dict):
            data.update(
                {
                    k: params["response"][k]
                    for k in ("answer", "wasFreeform")
                    if k in params["response"]
                }
            )
        return Reply(
            {"success": True},
            after=lambda: self.emit(sess, done_type, data, ephemeral=True if ephemeral else None),
        )
