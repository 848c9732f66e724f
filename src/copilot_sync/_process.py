"""The CLI child process: spawning, draining its output, stopping it, and reaping it at exit.

The child runs in its own session and process group, so a Ctrl-C typed in the terminal
reaches only Python (which then aborts the turn) and not the CLI. Every live child is
remembered in a weak set; an ``atexit`` hook kills those still running when the
interpreter exits, so no CLI process outlives it.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import re
import signal
import subprocess
import threading
import time
import weakref
from typing import IO, Sequence

from ._errors import ProcessExitedError
from ._logging import redact

__all__ = ["CLIProcess"]

_PIPE_BUFFER = 1 << 16

logger = logging.getLogger("copilot_sync.client")
cli_logger = logging.getLogger("copilot_sync.cli")

_PORT_PATTERN = re.compile(rb"listening on port (\d+)", re.IGNORECASE)
_STDERR_TAIL_LINES = 40

_live: "weakref.WeakSet[CLIProcess]" = weakref.WeakSet()
_live_lock = threading.Lock()


class CLIProcess:
    """One spawned CLI. ``stdio=True`` keeps stdin/stdout as the JSON-RPC pipes."""

    def __init__(self, argv: Sequence[str], *, env: dict[str, str], cwd: str | None, stdio: bool) -> None:
        self.argv = list(argv)
        self.stdio = stdio
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL_LINES)
        self._port: int | None = None
        self._port_event = threading.Event()
        self._stdout_lines: collections.deque[str] = collections.deque(maxlen=10)
        logger.debug("starting CLI: %s (cwd=%s)", redact(" ".join(self.argv)), cwd)
        self.popen = subprocess.Popen(  # noqa: S603 - argv list, never a shell
            self.argv,
            stdin=subprocess.PIPE if stdio else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=_PIPE_BUFFER,  # the default 8 KiB costs a system call (and the GIL) per few events
            env=env,
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )
        self.pid = self.popen.pid
        with _live_lock:
            _live.add(self)
        short = str(self.pid)
        self._stderr_thread = threading.Thread(
            target=self._drain_stderr, name=f"copilot-stderr-{short}", daemon=True
        )
        self._stderr_thread.start()
        self._stdout_thread: threading.Thread | None = None
        if not stdio:
            self._stdout_thread = threading.Thread(
                target=self._drain_stdout, name=f"copilot-stdout-{short}", daemon=True
            )
            self._stdout_thread.start()

    def __repr__(self) -> str:
        code = self.popen.poll()
        state = "running" if code is None else f"exited {code}"
        return f"<CLIProcess pid={self.pid} {state}>"

    # ------------------------------------------------------------ output

    @property
    def stdin(self) -> IO[bytes]:
        assert self.popen.stdin is not None
        return self.popen.stdin

    @property
    def stdout(self) -> IO[bytes]:
        assert self.popen.stdout is not None
        return self.popen.stdout

    def _drain_stderr(self) -> None:
        stream = self.popen.stderr
        assert stream is not None
        try:
            for raw in iter(stream.readline, b""):
                line = redact(raw.decode("utf-8", "replace").rstrip())
                self._stderr_tail.append(line)
                cli_logger.debug("%s", line)
        except (OSError, ValueError):
            pass
        finally:
            try:
                stream.close()
            except OSError:
                pass

    def _drain_stdout(self) -> None:
        """TCP mode: find the port announcement, then keep draining so the pipe never fills."""
        stream = self.popen.stdout
        assert stream is not None
        try:
            for raw in iter(stream.readline, b""):
                if self._port is None:
                    match = _PORT_PATTERN.search(raw)
                    if match:
                        self._port = int(match.group(1))
                        self._port_event.set()
                text = redact(raw.decode("utf-8", "replace").rstrip())
                self._stdout_lines.append(text)
                cli_logger.debug("stdout: %s", text)
        except (OSError, ValueError):
            pass
        finally:
            self._port_event.set()

    def stderr_tail(self, *, settle: float = 0.2) -> str:
        """The last lines of the CLI's stderr (waits briefly for the drain to finish after exit)."""
        if self.popen.poll() is not None and self._stderr_thread.is_alive():
            self._stderr_thread.join(settle)
        return "\n".join(self._stderr_tail)

    def wait_for_port(self, timeout: float) -> int:
        """Block until the CLI announces its TCP port; raise ProcessExitedError if it cannot."""
        deadline = time.monotonic() + timeout
        while not self._port_event.wait(min(0.25, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                self.kill()
                raise ProcessExitedError(
                    f"the CLI did not announce its TCP port within {timeout:g}s"
                    + self._context(),
                    exit_code=self.popen.poll(),
                    stderr=self.stderr_tail(),
                )
        if self._port is None:
            code = self.wait(1.0)
            raise ProcessExitedError(
                f"the CLI exited with code {code} before announcing its TCP port" + self._context(),
                exit_code=code,
                stderr=self.stderr_tail(),
            )
        return self._port

    def _context(self) -> str:
        parts = []
        tail = self.stderr_tail()
        if tail:
            parts.append(f"\nstderr: {tail}")
        if self._stdout_lines:
            parts.append("\nstdout: " + "\n".join(self._stdout_lines))
        return "".join(parts)

    # ------------------------------------------------------------ lifecycle

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float) -> int | None:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def exited_error(self, what: str = "CLI process exited", *, wait: float = 1.0) -> ProcessExitedError:
        """A ProcessExitedError describing how the process ended (waits up to ``wait`` for it)."""
        code = self.wait(wait)
        tail = self.stderr_tail()
        if code is None:
            message = f"{what}: the CLI closed the connection (pid {self.pid} still running)"
        else:
            message = f"{what} with code {code}"
        if tail:
            message += f"\nstderr: {tail}"
        return ProcessExitedError(message, exit_code=code, stderr=tail)

    def close_stdin(self) -> None:
        if self.stdio and self.popen.stdin is not None:
            try:
                self.popen.stdin.close()
            except (OSError, ValueError):
                pass

    def terminate(self, timeout: float = 5.0) -> int | None:
        """SIGTERM, wait; then SIGKILL, wait. Returns the exit code (None if it never died)."""
        if self.popen.poll() is None:
            self._signal(signal.SIGTERM)
            if self.wait(timeout) is None:
                logger.warning("CLI pid %d ignored SIGTERM for %.1fs; killing it", self.pid, timeout)
                self._signal(signal.SIGKILL)
                self.wait(timeout)
        self._release()
        return self.popen.poll()

    def kill(self) -> None:
        """SIGKILL at once and reap."""
        if self.popen.poll() is None:
            self._signal(signal.SIGKILL)
            self.wait(5.0)
        self._release()

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)  # the CLI leads its own group: take its children with it
        except (ProcessLookupError, PermissionError):
            try:
                self.popen.send_signal(sig)
            except ProcessLookupError:
                pass

    def _release(self) -> None:
        for stream in (self.popen.stdin, self.popen.stdout):
            if stream is not None:
                try:
                    stream.close()
                except (OSError, ValueError):
                    pass
        with _live_lock:
            _live.discard(self)


@atexit.register
def _reap_all() -> None:
    """Kill every CLI this interpreter started and that is still running."""
    with _live_lock:
        processes = list(_live)
    for process in processes:
        try:
            if process.popen.poll() is None:
                logger.debug("atexit: killing CLI pid %d that was never stopped", process.pid)
                process._signal(signal.SIGKILL)
                process.wait(2.0)
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass
