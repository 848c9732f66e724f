"""Fixtures shared by every test: the real CLI, a private COPILOT_HOME, a scripted model."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from copilot_sync._discovery import resolve_cli
from copilot_sync.testing import ScriptedModelServer


def pytest_configure(config):
    """A shell starts background jobs with SIGINT ignored, and then neither Ctrl-C nor
    ``_thread.interrupt_main()`` reaches Python (nor the child interpreters the tests start,
    which inherit the ignored signal). The Ctrl-C tests need it delivered: restore Python's
    handler."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def real_cli():
    """The pinned CLI installed by scripts/setup.sh (`python -m copilot_sync install-cli`)."""
    if os.environ.get("COPILOT_SYNC_SKIP_REAL_CLI") == "1":
        pytest.skip("COPILOT_SYNC_SKIP_REAL_CLI=1")
    try:
        return resolve_cli()
    except Exception as exc:  # a missing CLI is a set-up failure, never a silent skip
        pytest.fail(f"the real Copilot CLI is not installed; run `bash scripts/setup.sh`: {exc}")


@pytest.fixture(scope="session")
def copilot_home(tmp_path_factory):
    """A COPILOT_HOME of the tests' own, so no test reads or writes the user's ~/.copilot."""
    return str(tmp_path_factory.mktemp("copilot-home"))


@pytest.fixture(scope="session")
def cli_env(copilot_home, real_cli):
    env = dict(os.environ)
    env["COPILOT_HOME"] = copilot_home
    env.update(real_cli.env)
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "COPILOT_GITHUB_TOKEN"):
        env.pop(name, None)  # tests run offline against the scripted model
    return env


@pytest.fixture
def model():
    with ScriptedModelServer() as server:
        yield server


def assert_no_sdk_threads(before: set[int | None]) -> None:
    """Fail if an SDK thread started after ``before`` (a set of thread idents) is still running."""
    leaked = []
    for thread in threading.enumerate():
        if thread.ident in before or not thread.name.startswith("copilot-"):
            continue
        if thread.name.startswith(("copilot-worker", "copilot-fake", "copilot-model")):
            continue  # daemon helpers that end on their own
        thread.join(3.0)
        if thread.is_alive():
            leaked.append(thread.name)
    assert not leaked, f"SDK threads still running after the test: {leaked}"


@pytest.fixture(autouse=True)
def _no_leaked_sdk_threads(request):
    """Every client a test starts must be stopped: no SDK thread outlives its test.
    (Tests on a module-wide client are checked when that client stops.)"""
    if "client" in request.fixturenames:
        yield
        return
    before = {t.ident for t in threading.enumerate()}
    yield
    assert_no_sdk_threads(before)
