"""The public surface: what `copilot_sync` exports, the error tree, logging, import cost."""

from __future__ import annotations

import inspect
import logging
import os
import stat
import subprocess
import sys
import threading

import pytest

import copilot_sync
from copilot_sync import (
    ClientStateError,
    CLINotFoundError,
    ConnectionLostError,
    CopilotClient,
    CopilotError,
    CopilotTimeoutError,
    JsonRpcError,
    ProcessExitedError,
    ProtocolError,
    ProtocolVersionError,
    SessionClosedError,
    SessionError,
    TurnAbortedError,
)
from copilot_sync._logging import redact, register_secret


def test_all_is_exactly_the_public_names():
    public = {name for name in dir(copilot_sync) if not name.startswith("_")} | {"__version__"}
    modules = {name for name in public if inspect.ismodule(getattr(copilot_sync, name, None))}
    assert set(copilot_sync.__all__) == public - modules - {"annotations", "TYPE_CHECKING", "Any"}
    for name in copilot_sync.__all__:
        assert getattr(copilot_sync, name) is not None


def test_public_classes_say_they_live_in_the_package():
    assert ProcessExitedError.__module__ == "copilot_sync"
    assert CopilotClient.__module__ == "copilot_sync"
    assert repr(ProcessExitedError).startswith("<class 'copilot_sync.ProcessExitedError'")


def test_error_tree():
    for error in (CLINotFoundError, ConnectionLostError, JsonRpcError, ProtocolVersionError, SessionError,
                  SessionClosedError, ClientStateError, CopilotTimeoutError):  # fmt: skip
        assert issubclass(error, CopilotError)
    assert issubclass(ProcessExitedError, ConnectionLostError) and issubclass(
        ProtocolError, ConnectionLostError
    )
    assert issubclass(TurnAbortedError, SessionError)
    assert issubclass(CopilotTimeoutError, TimeoutError)
    error = JsonRpcError(-32601, "Unhandled method x", {"d": 1}, method="x")
    assert (error.code, error.message, error.data) == (-32601, "Unhandled method x", {"d": 1})
    exited = ProcessExitedError("gone", exit_code=-9, stderr="boom")
    assert (exited.exit_code, exited.stderr) == (-9, "boom")


def test_session_event_type_is_lazy_and_a_str_enum():
    from copilot_sync import SessionEventType

    assert SessionEventType("assistant.message") == "assistant.message"
    assert SessionEventType("no.such.type") is SessionEventType.UNKNOWN


def test_import_is_fast_and_loads_no_generated_code():
    code = (
        "import sys, time; t = time.perf_counter(); import copilot_sync; dt = time.perf_counter() - t; "
        "print(dt, 'copilot_sync.generated.session_events' in sys.modules, 'asyncio' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[1] == "False", "the generated event module must load lazily"
    assert out[2] == "False", "the core must not import asyncio"
    # the figure itself is printed by bench/import_time.py, not asserted here


def test_bad_client_arguments_fail_at_the_call():
    with pytest.raises(ValueError, match="not both"):
        CopilotClient(cli_url="localhost:1", cli_path="/bin/true")
    with pytest.raises(ValueError, match="log_level"):
        CopilotClient(log_level="loud")
    with pytest.raises(ValueError, match="port"):
        CopilotClient(port=70000)
    with pytest.raises(ValueError, match="TCP"):
        CopilotClient(connection_token="t")
    with pytest.raises(ValueError, match="connection_token"):
        CopilotClient(cli_url="1234", connection_token="")
    with pytest.raises(ValueError, match="max_workers"):
        CopilotClient(max_workers=0)
    with pytest.raises(ValueError, match="host:port"):
        CopilotClient(cli_url="no-port-here")
    with pytest.raises(ValueError, match="between 1 and 65535"):
        CopilotClient(cli_url="localhost:0")
    with pytest.raises(TypeError, match="cli_args"):
        CopilotClient(cli_args="--flag")
    with pytest.raises(TypeError):
        CopilotClient(no_such_option=True)


def test_a_missing_cli_is_a_typed_error_with_the_fix(tmp_path):
    client = CopilotClient(cli_path=str(tmp_path / "nope"))
    with pytest.raises(CLINotFoundError) as info:
        client.start()
    assert "install-cli" in str(info.value)
    assert client.state.value == "error"


def test_calls_on_a_client_that_is_not_started_and_may_not_start():
    client = CopilotClient(auto_start=False)
    with pytest.raises(ClientStateError, match="start"):
        client.ping()
    assert client.stop() == []


def test_package_logger_is_silent_by_default():
    logger = logging.getLogger("copilot_sync")
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)


def test_file_logging_is_owner_only_thread_named_and_redacted(tmp_path):
    path = tmp_path / "logs" / "sdk.log"
    secret = "ghp_" + "s" * 36
    register_secret("my-connection-token-123")
    handler = copilot_sync.enable_file_logging(path, level="DEBUG")
    try:
        assert handler not in logging.getLogger().handlers
        log = logging.getLogger("copilot_sync.client")

        def emit():
            log.info("token is %s and %s", secret, "my-connection-token-123")

        worker = threading.Thread(target=emit, name="copilot-worker-77")
        worker.start()
        worker.join()
        handler.flush()
    finally:
        logging.getLogger("copilot_sync").removeHandler(handler)
        handler.close()
    text = path.read_text()
    assert "[copilot-worker-77]" in text
    assert secret not in text and "my-connection-token-123" not in text
    assert "[REDACTED]" in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_redact_hides_token_shapes():
    assert redact("use github_pat_" + "a" * 30 + " now") == "use [REDACTED] now"
    assert redact("nothing secret") == "nothing secret"
