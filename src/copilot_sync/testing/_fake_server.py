"""Engine of the fake Copilot CLI: the process an SDK under test spawns (or connects to).

It speaks the real wire protocol (Content-Length framed JSON-RPC 2.0) over stdin/stdout
(``--stdio``) or over TCP on 127.0.0.1 (otherwise; ``--port N``, 0 or absent = a free port,
announced as ``CLI server listening on port <N>`` on stdout). It emulates CLI 1.0.81 closely
enough for SDK tests (see :mod:`copilot_sync.testing._fake_cli` for the behaviour list) and
takes orders from the test process:

* ``COPILOT_FAKE_SCENARIO``: path of a JSON scenario (rules and knobs), read once at start;
* ``COPILOT_FAKE_CONTROL``: ``host:port`` of the controller's control server. The engine
  says hello (pid, argv, selected env vars), mirrors every message the SDK sends (and waits
  for the controller to record it before handling it, so ``fake.received`` is never behind
  an answer the SDK already has), and executes commands (emit events, send requests, exit).
  Losing the control connection ends the process: a fake never outlives its test.
  Without ``COPILOT_FAKE_CONTROL`` the engine runs stand-alone.

Control protocol: one JSON object per line, both ways. Engine → controller: ``hello``,
``rx`` (with ``seq``; answered by ``rx_ack``), ``rx_invalid``, ``conn``, ``conn_closed``,
``ack`` (``cid``, ``ok``, ``result`` or ``error``). Controller → engine: ``welcome``,
``rx_ack``, ``cmd`` (``cid``, ``op``, fields).

The behaviour itself (answers, sessions, turns, events) lives in
:mod:`copilot_sync.testing._fake_engine`; this module is the process: entry point, transports
(:class:`Conn`), control link. Run as ``python -m copilot_sync.testing._fake_server [CLI args]``. Nothing but frames (and,
in TCP mode, the one announcement line) is ever written to stdout: fd 1 is redirected to
stderr at start, so a stray ``print`` cannot corrupt the protocol.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import socket
import sys
import threading
from collections import deque
from typing import Any, cast

from copilot_sync._wire.framing import FrameReader, FramingError

from ._fake_conn import Conn
from ._fake_engine import Engine
from ._fake_records import dumps, hard_exit

logger = logging.getLogger("copilot_sync.testing")

_REPORTED_ENV = (
    "COPILOT_SDK_AUTH_TOKEN",
    "COPILOT_CONNECTION_TOKEN",
    "XDG_CACHE_HOME",
    "COPILOT_HOME",
)

# --------------------------------------------------------------------------- connections

# --------------------------------------------------------------------------- control link


class ControlLink:
    """The line-delimited JSON link to the controller in the test process.

    Commands run on one FIFO thread (``copilot-fake-commands``), except ``request``, which
    waits for the SDK and gets a thread of its own; the reading thread never blocks.
    """

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self._sock = socket.create_connection((host or "127.0.0.1", int(port)), timeout=10)
        self._sock.settimeout(None)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._rfile = self._sock.makefile("rb")
        self._lock = threading.Lock()
        self._seq = 0
        self._waiters: dict[int, threading.Event] = {}
        self._welcomed = threading.Event()
        self.welcome: dict[str, Any] = {}
        self._commands: deque[dict[str, Any]] = deque()
        self._commands_ready = threading.Condition()
        self._engine: Engine | None = None

    def send(self, obj: dict[str, Any]) -> None:
        line = dumps(obj) + b"\n"
        try:
            with self._lock:
                self._sock.sendall(line)
        except OSError:
            logger.warning("control connection lost while sending; exiting")
            hard_exit(0)

    def handshake(self, hello: dict[str, Any], engine: Engine) -> dict[str, Any]:
        self._engine = engine
        self.send({"t": "hello", **hello})
        threading.Thread(target=self._read_loop, name="copilot-fake-control", daemon=True).start()
        if not self._welcomed.wait(15):
            raise RuntimeError("the controller did not welcome this fake CLI within 15 s")
        threading.Thread(
            target=self._command_loop, name="copilot-fake-commands", daemon=True
        ).start()
        return self.welcome

    def mirror(self, conn: int, msg: Any) -> None:
        """Report a message from the SDK and wait (bounded) until the controller recorded it."""
        event = threading.Event()
        with self._lock:
            self._seq += 1
            seq = self._seq
            self._waiters[seq] = event
        self.send({"t": "rx", "seq": seq, "conn": conn, "msg": msg})
        if not event.wait(10):
            logger.warning("controller did not acknowledge message %d within 10 s", seq)
        self._waiters.pop(seq, None)

    def _read_loop(self) -> None:
        try:
            for line in self._rfile:
                obj = json.loads(line)
                kind = obj.get("t")
                if kind == "rx_ack":
                    waiter = self._waiters.get(obj.get("seq"))
                    if waiter is not None:
                        waiter.set()
                elif kind == "welcome":
                    self.welcome = obj
                    self._welcomed.set()
                elif kind == "cmd" and obj.get("op") == "request":
                    threading.Thread(
                        target=self._command,
                        args=(obj,),
                        daemon=True,
                        name="copilot-fake-cmd-request",
                    ).start()
                elif kind == "cmd":
                    with self._commands_ready:
                        self._commands.append(obj)
                        self._commands_ready.notify()
        except (OSError, ValueError) as exc:
            logger.debug("control link read error: %s", exc)
        logger.info("control connection closed; the fake CLI exits")
        hard_exit(0)

    def _command_loop(self) -> None:
        while True:
            with self._commands_ready:
                while not self._commands:
                    self._commands_ready.wait()
                cmd = self._commands.popleft()
            self._command(cmd)

    def _command(self, cmd: dict[str, Any]) -> None:
        op, cid = cmd.get("op"), cmd.get("cid")
        assert self._engine is not None
        try:
            result = self._engine.execute(op, cmd)
        except Exception as exc:
            self.send(
                {"t": "ack", "cid": cid, "ok": False, "error": str(exc), "kind": type(exc).__name__}
            )
            return
        self.send({"t": "ack", "cid": cid, "ok": True, "result": result})
        if op == "exit":
            hard_exit(int(cmd.get("code", 0)))


def serve_conn(engine: Engine, conn: Conn, control: ControlLink | None) -> None:
    """Read and handle the SDK's frames until it closes the connection."""
    engine.attach(conn)
    if control is not None:
        control.send({"t": "conn", "conn": conn.index})
    reader = FrameReader(conn.rfile)
    try:
        while (body := reader.read_frame()) is not None:
            try:
                msg = json.loads(body)
            except ValueError:
                logger.warning("connection %d: undecodable frame %r", conn.index, body[:200])
                if control is not None:
                    control.send(
                        {
                            "t": "rx_invalid",
                            "conn": conn.index,
                            "raw": body[:4096].decode("utf-8", "replace"),
                        }
                    )
                continue
            items: list[Any] = cast("list[Any]", msg) if isinstance(msg, list) else [msg]
            for item in items:
                if control is not None:
                    control.mirror(conn.index, item)
                engine.handle(conn, item)
    except (FramingError, OSError, ValueError) as exc:
        logger.warning("connection %d: %s", conn.index, exc)
    finally:
        engine.detach(conn)
        if control is not None:
            control.send({"t": "conn_closed", "conn": conn.index})


# --------------------------------------------------------------------------- entry point


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="copilot-fake", add_help=False, allow_abbrev=False)
    parser.add_argument("--stdio", action="store_true")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--auth-token-env", default=None)
    parser.add_argument("--log-level", default=None)
    args, _unknown = parser.parse_known_args(argv)
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=os.environ.get("COPILOT_FAKE_LOG_LEVEL", "WARNING").upper(),
        format="fake-cli[%(process)d] %(levelname)s %(threadName)s: %(message)s",
    )
    args = _parse_args(argv)
    # Keep the protocol stream private: fd 1 becomes a copy of stderr.
    out_fd = os.dup(1)
    os.dup2(2, 1)
    out = open(out_fd, "wb", buffering=1 << 16)

    scenario: dict[str, Any] = {}
    path = os.environ.get("COPILOT_FAKE_SCENARIO")
    if path:
        with open(path, encoding="utf-8") as fh:
            scenario = json.load(fh)
    env_home = os.environ.get("COPILOT_HOME")
    fake_home = os.environ.get("COPILOT_FAKE_HOME")
    home = env_home or fake_home or os.path.join(os.path.expanduser("~"), ".copilot")
    tcp = not args.stdio
    control = None
    address = os.environ.get("COPILOT_FAKE_CONTROL")
    if address:
        try:
            control = ControlLink(address)
        except OSError as exc:
            logger.error("cannot reach the fake CLI controller at %s: %s", address, exc)
            return 70
    engine = Engine(
        scenario,
        home=home,
        create_dirs=bool(env_home or fake_home),
        server_token=os.environ.get("COPILOT_CONNECTION_TOKEN") or None,
        tcp=tcp,
    )

    listener = None
    if tcp:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind(("127.0.0.1", args.port or 0))
        except OSError as exc:
            logger.error("cannot listen on port %s: %s", args.port, exc)
            return 1
        listener.listen(16)
    port = listener.getsockname()[1] if listener is not None else None

    if control is not None:
        env = {
            k: v
            for k, v in os.environ.items()
            if (k in _REPORTED_ENV or k.startswith(("COPILOT_", "OTEL_")))
            and not k.startswith("COPILOT_FAKE_")
        }
        if args.auth_token_env and args.auth_token_env in os.environ:
            env[args.auth_token_env] = os.environ[args.auth_token_env]
        welcome = control.handshake(
            {
                "pid": os.getpid(),
                "argv": argv,
                "env": env,
                "cwd": os.getcwd(),
                "mode": "tcp" if tcp else "stdio",
                "port": port,
            },
            engine,
        )
        engine.index = int(welcome.get("index", 0))
        settings: list[dict[str, Any]] = welcome.get("settings") or []
        for setting in settings:
            engine.apply_setting(setting)

    def write_out(data: bytes) -> None:
        out.write(data)
        out.flush()

    if not tcp:
        serve_conn(engine, Conn(0, sys.stdin.buffer, write_out, out.close), control)
        hard_exit(0)  # end of stdin: the CLI exits when its stdin closes

    assert listener is not None
    if not os.environ.get("COPILOT_CONNECTION_TOKEN"):
        logger.warning(
            "No COPILOT_CONNECTION_TOKEN was set, so connections will be accepted from any client"
        )
    write_out(f"CLI server listening on port {port}\n".encode())
    for index in itertools.count():
        sock, _addr = listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def close_out(s: socket.socket = sock) -> None:
            s.shutdown(socket.SHUT_WR)

        conn = Conn(index, sock.makefile("rb"), sock.sendall, close_out)
        threading.Thread(
            target=serve_conn,
            args=(engine, conn, control),
            name=f"copilot-fake-conn-{index}",
            daemon=True,
        ).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
