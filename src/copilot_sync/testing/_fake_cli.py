"""A scripted fake Copilot CLI for tests: the controller side, in the test process.

``FakeCLI`` writes an executable launcher (``fake.cli_path``) that an SDK spawns exactly like
the real CLI. Each spawned process (an *instance*) runs :mod:`copilot_sync.testing._fake_server`
(behaviour in :mod:`copilot_sync.testing._fake_engine`), speaks the real wire protocol to the SDK
over stdio (``--stdio``) or TCP (otherwise; ``--port N``, 0 or absent = a free port, announced
as ``CLI server listening on port <N>``), and connects back to this controller: it reports its
pid, argv and environment, mirrors every message the SDK sends, and executes commands.

Quick use::

    with FakeCLI(Scenario(reply_text="hi")) as fake:
        client = CopilotClient(cli_path=fake.cli_path)
        ...
        fake.wait_for_request("session.send")
        fake.emit(session_id, "session.info", {"infoType": "notification", "message": "x"})

Default behaviour (CLI 1.0.81, close enough for SDK tests):

* ``connect`` → ``{ok, protocolVersion:3, version:"1.0.81-fake"}``. With a connection token
  (TCP, env ``COPILOT_CONNECTION_TOKEN``) every request of a connection before a successful
  ``connect{token}`` gets -32001, a wrong or missing token -32002; a token sent to a server
  without one (stdio always) gets -32003. ``ping``, ``status.get``, ``auth.getStatus``,
  ``models.list`` (two models), ``runtime.shutdown`` (``null``, exit 0 after 100 ms).
  Unknown methods: -32601 ``Unhandled method <m>``. Notifications are ignored (rules still run).
* ``session.create``: lifecycle ``session.created`` (once, to every connection), the response,
  then ``session.start``. ``session.resume`` of a known id: response, then ``session.resume``
  delivered twice with the same id (no lifecycle). ``session.destroy``: ``session.shutdown``,
  then ``{success:true}``; afterwards session requests fail with "Session not found" until a
  resume. ``session.delete``: ``{success:true}`` then lifecycle ``session.deleted``.
  ``list`` (newest first, ``filter`` matches ``context``), ``getMetadata``, ``getLastId``,
  ``getForeground``, ``setForeground``, ``getMessages`` (non-ephemeral events), ``log``,
  ``model.switchTo``, ``model.getCurrent``, ``mode.get``, ``tools.set`` (``{}``), ``detach``, ``abort``.
* ``session.send``: ``{messageId}``, then per message ``user.message`` (``delivery`` idle,
  queued, or steering for ``mode:"immediate"``), ``assistant.turn_start``, [``message_start``,
  ``streaming_chunks`` ``message_delta``s if created with ``streaming:true``],
  ``assistant.message``, ``assistant.turn_end``; after the queue drains one
  ``assistant.idle`` + ``session.idle``. ``wait:true`` answers after that idle. Abort ends a
  running turn with ``aborted:true`` idles and drops the queue.
* Answer RPCs for broadcast requests (``session.tools.handlePendingToolCall``,
  ``session.permissions.handlePendingPermissionRequest``, ``session.commands.handlePendingCommand``,
  ``session.ui.handlePending*``, ``session.mcp.oauth.handlePendingRequest``): ``{success:true}``
  the first time for a ``requestId`` the fake emitted (e.g. via :meth:`FakeCLI.emit`), followed by
  the matching ``*.completed`` event; ``{success:false}`` otherwise.
* Events get ``id`` (uuid4), ``timestamp`` (ms, ``Z``), ``parentId`` (the session's previous
  event, ephemeral ones included). Events for a session go to the connections that created or
  resumed it, or to every connection if there are none (e.g. an id no one created).

Choices worth knowing:

* ``fake.received`` holds the messages of **all** instances, in arrival order; each
  :class:`Instance` has its own ``received``. A message is recorded *before* the fake
  handles it, so once the SDK holds an answer, the request is already in ``received``.
* Controller methods act on the latest instance unless given ``instance=`` (an
  :class:`Instance` or its index). A command to a dead instance raises :class:`FakeCLIError`;
  waits raise :class:`FakeCLITimeout` (also a ``TimeoutError``).
* Rules: the first rule whose ``method`` (exact or ``fnmatch`` pattern), ``match`` (recursive
  subset of ``params``), ``instance`` and remaining ``times`` fit runs its actions in order. If
  none of them answers (``default``, ``reply``, ``error``, ``stall``), the request gets the
  default answer *after* the actions. Actions after an answer run after it was sent. Rules with
  ``sleep``/``request`` run on their own thread, so the fake keeps reading meanwhile.
  Notifications from the SDK run rule actions too, but are never answered. Before a token
  ``connect``, only ``connect`` reaches the rules; a rule's ``reply`` to ``connect`` authenticates.
* ``set_reply``/``set_turn_error`` apply to every live instance and to instances started later.
* In TCP mode the port announcement is the only stdout line; the "no connection token"
  warning of the real CLI goes to stderr. Each spawn's ``workspacePath`` is under
  ``$COPILOT_HOME`` or else ``<fake.dir>/home``.
* Every fake process exits when its control connection closes, so none outlives the test
  process; :meth:`FakeCLI.close` also SIGTERMs, then SIGKILLs, and reaps them.
"""

from __future__ import annotations

import atexit
import errno
import itertools
import json
import logging
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from typing_extensions import Self

import copilot_sync

from .._fields import is_object
from ._fake_commands import FakeCLICommands
from ._fake_scenario import (
    FakeCLIError,
    FakeCLITimeout,
    Rule,
    Scenario,
    close_stdout,
    default,
    error,
    events,
    exit,
    kill,
    notify,
    raw,
    reply,
    request,
    sleep,
    stall,
)

__all__ = [
    "FakeCLI",
    "FakeCLIError",
    "FakeCLITimeout",
    "Instance",
    "Rule",
    "Scenario",
    "close_stdout",
    "default",
    "error",
    "events",
    "exit",
    "kill",
    "notify",
    "raw",
    "reply",
    "request",
    "sleep",
    "stall",
]

logger = logging.getLogger("copilot_sync.testing")


# --------------------------------------------------------------------------- instances


class Instance:
    """One spawned fake CLI process, as it reported itself."""

    def __init__(self, index: int, hello: dict[str, Any], sock: socket.socket) -> None:
        self.index = index
        self.pid: int = hello["pid"]
        self.argv: list[str] = hello.get("argv") or []
        self.env: dict[str, str] = hello.get("env") or {}
        self.cwd: str | None = hello.get("cwd")
        self.mode: str = hello.get("mode") or "stdio"
        self.port: int | None = hello.get("port")
        self.received: list[dict[str, Any]] = []
        self.invalid_frames: list[str] = []
        self.connections_opened = 0
        self._alive = True
        self._sock = sock
        self._send_lock = threading.Lock()

    @property
    def alive(self) -> bool:
        """False once the process's control connection closed (it exited or was killed)."""
        return self._alive

    @property
    def responses(self) -> list[dict[str, Any]]:
        """The JSON-RPC responses this instance received from the SDK, in order."""
        return [m for m in self.received if "method" not in m and "id" in m]

    def _send(self, obj: dict[str, Any]) -> None:
        line = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
        with self._send_lock:
            self._sock.sendall(line)

    def __repr__(self) -> str:
        state = "alive" if self._alive else "gone"
        return f"<Instance #{self.index} pid={self.pid} {self.mode} {state} received={len(self.received)}>"


_open_fakes: weakref.WeakSet[FakeCLI] = weakref.WeakSet()


@atexit.register
def _close_leftovers() -> None:
    for fake in list(_open_fakes):
        fake.close()


_LAUNCHER = """\
#!{python}
# Fake Copilot CLI launcher written by copilot_sync.testing.FakeCLI (deleted with it).
import os, sys
os.environ["COPILOT_FAKE_CONTROL"] = {control!r}
os.environ["COPILOT_FAKE_SCENARIO"] = {scenario!r}
os.environ["COPILOT_FAKE_HOME"] = {home!r}
sys.path.insert(0, {src!r})
from copilot_sync.testing._fake_server import main
sys.exit(main(sys.argv[1:]))
"""


class FakeCLI(FakeCLICommands):
    """Controller of a fake Copilot CLI (see the module docstring).

    ``mode`` is the transport the SDK is expected to use (informational: each instance
    follows its argv, ``--stdio`` or TCP, and reports it as ``Instance.mode``).
    """

    def __init__(self, scenario: Scenario | None = None, *, mode: str = "stdio") -> None:
        if mode not in ("stdio", "tcp"):
            raise ValueError(f"mode must be 'stdio' or 'tcp', not {mode!r}")
        self.scenario: Scenario = scenario if scenario is not None else Scenario()
        self.mode = mode
        self.url: str | None = None
        self.port: int | None = None
        self.token: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.stderr_lines: list[str] = []
        self._cond = threading.Condition()
        self._instances: list[Instance] = []
        self._received: list[dict[str, Any]] = []
        self._consumed: set[int] = set()
        self._acks: dict[int, dict[str, Any] | None] = {}
        self._settings: list[dict[str, Any]] = []
        self._cids = itertools.count(1)
        self._threads: list[threading.Thread] = []
        self._control_socks: list[socket.socket] = []
        self._closed = False
        self.dir: str = tempfile.mkdtemp(prefix="copilot-fake-")
        try:
            scenario_path = os.path.join(self.dir, "scenario.json")
            with open(scenario_path, "w", encoding="utf-8") as fh:
                json.dump(self.scenario.to_dict(), fh)
            home = os.path.join(self.dir, "home")
            os.mkdir(home)
            self._server = socket.create_server(("127.0.0.1", 0))
            self._server.settimeout(0.2)
            self.control_address: str = f"127.0.0.1:{self._server.getsockname()[1]}"
            self.cli_path: str = self._write_launcher(scenario_path, home)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        self._start_thread(self._accept_loop, "copilot-fake-control-accept")
        _open_fakes.add(self)

    # ------------------------------------------------------------------ setup

    def _write_launcher(self, scenario_path: str, home: str) -> str:
        src = os.path.dirname(os.path.dirname(os.path.abspath(copilot_sync.__file__)))
        python = sys.executable
        text = _LAUNCHER.format(
            python=python, control=self.control_address, scenario=scenario_path, home=home, src=src
        )
        script = os.path.join(self.dir, "copilot")
        if len(python) > 120 or " " in python:  # shebang limits: go through /bin/sh
            body = os.path.join(self.dir, "fake_cli_main.py")
            with open(body, "w", encoding="utf-8") as fh:
                fh.write(text.split("\n", 1)[1])
            text = f'#!/bin/sh\nexec "{python}" "{body}" "$@"\n'
        with open(script, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(script, 0o755)
        return script

    def _start_thread(self, target: Callable[..., None], name: str, *args: Any) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)
        return thread

    @classmethod
    def serve_tcp(
        cls, scenario: Scenario | None = None, *, token: str | None = None, timeout: float = 10.0
    ) -> FakeCLI:
        """Start a fake CLI server process on a free TCP port (for ``cli_url`` tests).

        ``token`` becomes its ``COPILOT_CONNECTION_TOKEN``. Sets ``url``, ``port``, ``process``.
        """
        fake = cls(scenario, mode="tcp")
        try:
            fake._spawn_server(token, timeout)
        except BaseException:
            fake.close()
            raise
        return fake

    def _spawn_server(self, token: str | None, timeout: float) -> None:
        env = dict(os.environ)
        env.pop("COPILOT_CONNECTION_TOKEN", None)
        if token is not None:
            env["COPILOT_CONNECTION_TOKEN"] = token
        self.token = token
        proc = subprocess.Popen(
            [self.cli_path, "--headless", "--no-auto-update", "--log-level", "info", "--port", "0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.process = proc
        lines: queue.Queue[str | None] = queue.Queue()
        self._start_thread(self._drain_stdout, "copilot-fake-server-stdout", proc, lines)
        self._start_thread(self._drain_stderr, "copilot-fake-server-stderr", proc)
        try:
            first = lines.get(timeout=timeout)
        except queue.Empty:
            raise FakeCLITimeout(
                f"the fake CLI server did not announce its port within {timeout}s"
            ) from None
        if first is None or "listening on port" not in first:
            proc.wait(2)
            raise FakeCLIError(
                f"the fake CLI server failed to start (exit code {proc.returncode}); "
                f"stdout: {first!r}; stderr: {' | '.join(self.stderr_lines[-10:])}"
            )
        self.port = int(first.rsplit(" ", 1)[1])
        self.url = f"127.0.0.1:{self.port}"
        self.wait_for_instance(timeout)

    @staticmethod
    def _drain_stdout(proc: subprocess.Popen[bytes], lines: queue.Queue[str | None]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.decode("utf-8", "replace").strip())
        lines.put(None)

    def _drain_stderr(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            text = line.decode("utf-8", "replace").rstrip()
            self.stderr_lines.append(text)
            logger.debug("fake CLI stderr: %s", text)

    # ------------------------------------------------------------------ control server

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                sock, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._closed:
                sock.close()
                return
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._cond:
                self._control_socks.append(sock)
            self._start_thread(self._serve_instance, "copilot-fake-control-conn", sock)

    def _serve_instance(self, sock: socket.socket) -> None:
        inst: Instance | None = None
        try:
            for line in sock.makefile("rb"):
                msg = json.loads(line)
                kind = msg.get("t")
                if kind == "hello":
                    inst = self._welcome(msg, sock)
                    threading.current_thread().name = f"copilot-fake-control-{inst.index}"
                elif inst is None:
                    logger.warning("fake CLI control: %r before hello", kind)
                elif kind == "rx":
                    with self._cond:
                        inst.received.append(msg["msg"])
                        self._received.append(msg["msg"])
                        self._cond.notify_all()
                    inst._send({"t": "rx_ack", "seq": msg["seq"]})
                elif kind == "ack":
                    with self._cond:
                        if msg["cid"] in self._acks:
                            self._acks[msg["cid"]] = msg
                            self._cond.notify_all()
                elif kind == "rx_invalid":
                    with self._cond:
                        inst.invalid_frames.append(msg.get("raw", ""))
                elif kind == "conn":
                    with self._cond:
                        inst.connections_opened += 1
        except (OSError, ValueError) as exc:
            logger.debug("fake CLI control connection: %s", exc)
        finally:
            if inst is not None:
                with self._cond:
                    inst._alive = False
                    self._cond.notify_all()
            try:
                sock.close()
            except OSError:
                pass

    def _welcome(self, hello: dict[str, Any], sock: socket.socket) -> Instance:
        with self._cond:
            inst = Instance(len(self._instances), hello, sock)
            if self.mode != inst.mode and self.process is None:
                logger.warning(
                    "fake CLI instance #%d runs in %s mode, FakeCLI(mode=%r)",
                    inst.index,
                    inst.mode,
                    self.mode,
                )
            inst._send({"t": "welcome", "index": inst.index, "settings": list(self._settings)})
            self._instances.append(inst)
            self._cond.notify_all()
        return inst

    # ------------------------------------------------------------------ instances

    @property
    def instances(self) -> list[Instance]:
        """Every process started from this fake so far, oldest first (:class:`Instance`)."""
        with self._cond:
            return list(self._instances)

    @property
    def instance(self) -> Instance | None:
        """The latest instance, or None before the first one connected."""
        with self._cond:
            return self._instances[-1] if self._instances else None

    @property
    def pid(self) -> int:
        """The process id of the most recent instance, or ``None`` before the first start."""
        return self._target(None).pid

    def wait_for_instance(self, timeout: float = 10.0, *, index: int | None = None) -> Instance:
        """The latest instance (or instance ``index``), waiting until it has connected."""
        want = 0 if index is None else index
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._instances) <= want:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise FakeCLITimeout(
                        f"no fake CLI instance #{want} connected within {timeout}s "
                        f"(cli_path={self.cli_path})"
                    )
                self._cond.wait(remaining)
            return self._instances[-1] if index is None else self._instances[index]

    def wait_for_exit(
        self, timeout: float = 5.0, *, instance: Instance | int | None = None
    ) -> None:
        """Wait until the instance's process is gone (its control connection closed)."""
        inst = self._target(instance)
        deadline = time.monotonic() + timeout
        with self._cond:
            while inst._alive:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise FakeCLITimeout(
                        f"fake CLI instance #{inst.index} (pid {inst.pid}) still running after {timeout}s"
                    )
                self._cond.wait(remaining)

    def _send_control(self, inst: Instance, obj: dict[str, Any]) -> None:
        """Write one message to ``inst``'s control connection (``OSError`` if it is gone)."""
        inst._send(obj)

    def _target(self, instance: Instance | int | None) -> Instance:
        with self._cond:
            if isinstance(instance, Instance):
                return instance
            if not self._instances:
                raise FakeCLIError(
                    f"no fake CLI instance has connected yet (was {self.cli_path} started?)"
                )
            return self._instances[-1 if instance is None else instance]

    # ------------------------------------------------------------------ traffic

    @property
    def received(self) -> list[dict[str, Any]]:
        """Every JSON-RPC message the SDK sent, all instances, in arrival order."""
        with self._cond:
            return list(self._received)

    @property
    def responses(self) -> list[dict[str, Any]]:
        """The SDK's responses to server-to-client requests, all instances, in order."""
        with self._cond:
            return [m for m in self._received if is_object(m) and "method" not in m and "id" in m]

    def requests(self, method: str | None = None) -> list[dict[str, Any]]:
        """Requests and notifications the SDK sent (optionally only ``method``)."""
        with self._cond:
            return [
                m
                for m in self._received
                if is_object(m) and "method" in m and (method is None or m["method"] == method)
            ]

    def clear_received(self) -> None:
        """Forget the traffic recorded so far (all instances), so that a long soak test does not
        grow the test process's memory with its own recording."""
        with self._cond:
            self._received.clear()
            self._consumed.clear()
            for inst in self._instances:
                inst.received.clear()

    def wait_for_request(
        self,
        method: str | None,
        timeout: float = 5.0,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """The first not-yet-returned message from the SDK with this ``method`` (None: any)
        that satisfies ``predicate``; waits for it. Each message is returned once."""
        deadline = time.monotonic() + timeout
        start = 0
        with self._cond:
            while True:
                for i in range(start, len(self._received)):
                    msg = self._received[i]
                    if i in self._consumed or not is_object(msg) or "method" not in msg:
                        continue
                    if method is not None and msg["method"] != method:
                        continue
                    if predicate is not None and not predicate(msg):
                        continue
                    self._consumed.add(i)
                    return msg
                start = len(self._received)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [
                        m.get("method") for m in self._received if is_object(m) and "method" in m
                    ]
                    raise FakeCLITimeout(
                        f"no {method or 'message'} from the SDK within {timeout}s; saw {seen[-20:]}"
                    )
                self._cond.wait(remaining)

    # ------------------------------------------------------------------ teardown

    def close(self) -> None:
        """Kill every fake process (SIGTERM, then SIGKILL), reap them, remove the temp dir."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            instances = list(self._instances)
        own = self.process
        for sig, grace in ((signal.SIGTERM, 1.0), (signal.SIGKILL, 3.0)):
            alive = [i for i in instances if i._alive]
            for inst in alive:
                try:
                    os.kill(inst.pid, sig)
                except OSError:
                    pass
            if own is not None and own.poll() is None:
                own.send_signal(sig)
            deadline = time.monotonic() + grace
            with self._cond:
                while any(i._alive for i in alive) and time.monotonic() < deadline:
                    self._cond.wait(max(0.0, deadline - time.monotonic()))
            if own is not None:
                try:
                    own.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
        try:
            self._server.close()
        except OSError:
            pass
        with self._cond:
            socks = list(self._control_socks)
        for sock in socks:  # an instance still starting up (no hello yet) exits on this too
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for inst in instances:
            if own is None or inst.pid != own.pid:
                _reap(inst.pid)
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(1.0)
        if own is not None:
            for stream in (own.stdout, own.stderr):
                if stream is not None:
                    stream.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        _open_fakes.discard(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        with self._cond:
            total = len(self._instances)
            alive = sum(1 for i in self._instances if i._alive)
        where = f" url={self.url}" if self.url else ""
        return f"<FakeCLI mode={self.mode} instances={total} alive={alive}{where} cli_path={self.cli_path}>"


def _reap(pid: int, timeout: float = 1.0) -> None:
    """Collect a dead child's exit status so no zombie remains (no-op for non-children)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            done, _status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        except OSError as exc:
            if exc.errno == errno.EINTR:
                continue
            return
        if done or time.monotonic() >= deadline:
            return
        time.sleep(0.01)
