"""copilot-sync in Jupyter: the example notebook run headlessly (nbclient), and a kernel
interrupt (jupyter_client), against the real CLI with the scripted model.

The kernel is always the venv's own Python (``sys.executable``), whatever kernelspecs the
machine has, and gets the tests' environment (private COPILOT_HOME, no GitHub token).
"""

from __future__ import annotations

import json
import os
import queue
import re
import sys
import time
from pathlib import Path

import pytest

try:  # test extras (pyproject's [test]); a missing one fails these tests, never skips them
    import nbclient
    import nbformat
    from jupyter_client import AsyncKernelManager, KernelManager
    from jupyter_client.kernelspec import KernelSpec
except ImportError as exc:  # pragma: no cover - set-up problem
    _MISSING: ImportError | None = exc
    AsyncKernelManager = KernelManager = object  # type: ignore[assignment,misc]
else:
    _MISSING = None

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "notebook.ipynb"
SRC = Path(__file__).resolve().parents[2] / "src" / "copilot_sync"
WAIT = 30.0  # seconds: the longest any single wait in these tests may take


@pytest.fixture(autouse=True)
def _jupyter_installed():
    if _MISSING is not None:
        pytest.fail(
            f"{_MISSING}: install the test extras (`bash scripts/setup.sh`, or pip install -e '.[test]')"
        )


class _VenvKernel:
    """A kernel manager whose kernel is ``sys.executable -m ipykernel_launcher``, never a
    ``python3`` kernelspec found elsewhere on the machine."""

    @property
    def kernel_spec(self) -> KernelSpec:
        if self._kernel_spec is None:
            self._kernel_spec = KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name="copilot-sync venv",
                language="python",
                interrupt_mode="signal",  # what "interrupt kernel" does in Jupyter: SIGINT
            )
        return self._kernel_spec


class VenvAsyncKernelManager(_VenvKernel, AsyncKernelManager):
    pass


class VenvKernelManager(_VenvKernel, KernelManager):
    pass


def _kernel_env(cli_env, real_cli, model=None) -> dict[str, str]:
    env = dict(cli_env, COPILOT_CLI_PATH=real_cli.path, PYTHONUNBUFFERED="1")
    for name in (
        "COPILOT_SYNC_PROVIDER_URL",
        "COPILOT_SYNC_MODEL",
        "COPILOT_SYNC_PROVIDER_API_KEY",
    ):
        env.pop(name, None)
    if model is not None:
        env["COPILOT_SYNC_PROVIDER_URL"] = model.base_url
        env["COPILOT_SYNC_MODEL"] = model.model
    return env


def _assert_process_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:  # a zombie (exited, not yet reaped by init) counts as gone
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return
        except (OSError, IndexError):
            return
        time.sleep(0.05)
    pytest.fail(f"process {pid} still running {timeout}s after the kernel shut down")


# --------------------------------------------------------------------------- the notebook

PROBE = (
    "import asyncio as _asyncio, json as _json, sys as _sys\n"
    "print(_json.dumps({'executable': _sys.executable, 'loop_running': _asyncio.get_running_loop().is_running(),"
    " 'cli_pid': client.pid}))"
)


def _run_notebook(env: dict[str, str], tmp_path: Path):
    """Execute the example notebook, with one probe cell added after ``setup``; return
    ``({cell id: cell}, probe)``. The kernel is shut down when this returns or raises."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    ids = [cell.get("id") for cell in nb.cells]
    nb.cells.insert(ids.index("setup") + 1, nbformat.v4.new_code_cell(PROBE, id="test-probe"))
    executor = nbclient.NotebookClient(
        nb,
        kernel_manager_class=VenvAsyncKernelManager,
        timeout=WAIT,
        startup_timeout=WAIT,
        shutdown_kernel="graceful",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    executor.execute(
        env=env
    )  # nbclient owns the kernel manager: it shuts the kernel down, even on errors
    assert executor.km is None or not executor.km.has_kernel, "nbclient left the kernel running"
    cells = {cell.get("id"): cell for cell in nb.cells}
    probe = json.loads(_stdout(cells["test-probe"]))
    # The kernel ran the venv's interpreter, inside its running asyncio loop.
    assert os.path.realpath(probe["executable"]) == os.path.realpath(sys.executable)
    assert probe["loop_running"] is True
    _assert_process_gone(probe["cli_pid"])
    return cells, probe


def _stdout(cell) -> str:
    return "".join(
        o["text"]
        for o in cell.outputs
        if o.get("output_type") == "stream" and o.get("name") == "stdout"
    )


def _result(cell) -> dict:
    results = [o["data"] for o in cell.outputs if o.get("output_type") == "execute_result"]
    assert len(results) == 1, cell.outputs
    return results[0]


def _no_errors(cells) -> None:
    for cell_id, cell in cells.items():
        if cell.cell_type == "code":
            assert not [o for o in cell.outputs if o.get("output_type") == "error"], cell_id
            stderr = "".join(o["text"] for o in cell.outputs if o.get("name") == "stderr")
            assert not stderr, f"{cell_id}: {stderr}"


REPLY = "Because a cell can simply **block**:\n\n- no `await`\n- no `asyncio.run`"
HAIKU = "A cell holds its breath;\nno event loop to appease:\nthe answer arrives."
WEATHER = "Lisbon is *sunny* today, 24 degrees."
FORECAST = '{"city":"Lisbon","temperature_c":24,"sky":"sunny"}'


def test_notebook_runs_against_the_scripted_model(cli_env, real_cli, model, tmp_path):
    model.add_reply(REPLY)
    model.add_reply(HAIKU, chunks=4)
    model.add_tool_call("get_weather", {"city": "Lisbon"})
    model.add_reply(WEATHER)

    cells, probe = _run_notebook(_kernel_env(cli_env, real_cli, model), tmp_path)
    _no_errors(cells)

    client_repr = _result(cells["setup"])["text/plain"]
    assert re.fullmatch(
        rf"<CopilotClient connected stdio pid={probe['cli_pid']} cli=[\d.]+ sessions=0>",
        client_repr,
    )
    assert _stdout(cells["choose-model"]) == f"Using 'scripted-model' at {model.base_url}.\n"
    session_repr = _result(cells["session"])["text/plain"]
    assert re.fullmatch(
        r"<CopilotSession '[0-9a-f-]{36}' open model='scripted-model' provider='openai'>",
        session_repr,
    )

    # send_and_wait's SessionEvent renders as the reply's Markdown; the repr stays text/plain.
    reply = _result(cells["ask"])
    assert reply["text/markdown"] == REPLY
    assert reply["text/plain"].startswith("SessionEvent(type='assistant.message', id=")

    # The streamed deltas, printed as they came.
    assert _stdout(cells["stream"]) == HAIKU + "\n[4 deltas]\n"

    # The tool: tried locally, then called by the model; its result reached the model.
    assert _result(cells["tool-define"])["text/plain"] == repr(FORECAST)
    assert _stdout(cells["tool-use"]) == (
        f"[tool call] get_weather({{'city': 'Lisbon'}})\n[tool done] {FORECAST}\n"
    )
    assert _result(cells["tool-use"])["text/markdown"] == WEATHER
    requests = model.requests
    assert len(requests) == 4 and model.pending == 0
    assert requests[0].user_prompt.startswith("In three short bullet points")
    assert "get_weather" not in requests[1].tool_names and "get_weather" in requests[2].tool_names
    assert requests[3].tool_results[-1]["content"] == FORECAST

    assert _result(cells["cleanup"])["text/plain"] == "[]"


def test_notebook_runs_offline_without_a_provider_or_auth(cli_env, real_cli, tmp_path):
    """No COPILOT_SYNC_* variables and no GitHub auth: the notebook's own scripted stand-in."""
    cells, _ = _run_notebook(_kernel_env(cli_env, real_cli), tmp_path)
    _no_errors(cells)
    assert "running offline" in _stdout(cells["choose-model"])
    assert _result(cells["ask"])["text/markdown"].startswith("- a cell just **blocks**")
    assert _stdout(cells["stream"]).endswith("the answer arrives.\n[6 deltas]\n")
    assert "[tool done] " + FORECAST in _stdout(cells["tool-use"])
    assert _result(cells["tool-use"])["text/markdown"] == f"The forecast for Lisbon: `{FORECAST}`."
    assert _result(cells["cleanup"])["text/plain"] == "[]"


# --------------------------------------------------------------------------- kernel interrupt


class _Cell:
    """One execute request on a BlockingKernelClient, and what came back for it."""

    def __init__(self, kc, code: str) -> None:
        self.kc = kc
        self.msg_id = kc.execute(code)
        self.stdout = ""
        self.result: dict | None = None
        self.error: str | None = None
        self.traceback = ""
        self.status: str | None = None

    def wait(self, timeout: float = WAIT) -> _Cell:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"cell {self.msg_id} did not finish within {timeout}s")
            try:
                msg = self.kc.get_iopub_msg(timeout=remaining)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != self.msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content["name"] == "stdout":
                self.stdout += content["text"]
            elif kind == "execute_result":
                self.result = content["data"]
            elif kind == "error":
                self.error = content["ename"]
                self.traceback = "\n".join(content["traceback"])
            elif kind == "status" and content["execution_state"] == "idle":
                break
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no execute_reply for {self.msg_id} within {timeout}s")
            reply = self.kc.get_shell_msg(timeout=remaining)
            if reply["parent_header"].get("msg_id") == self.msg_id:
                self.status = reply["content"]["status"]
                return self

    def ok(self, timeout: float = WAIT) -> _Cell:
        self.wait(timeout)
        assert self.status == "ok", self.traceback
        return self


SETUP = """
import asyncio, json, os, sys
from copilot_sync import CopilotClient

client = CopilotClient()
session = client.create_session(
    model=os.environ["COPILOT_SYNC_MODEL"],
    provider={"type": "openai", "base_url": os.environ["COPILOT_SYNC_PROVIDER_URL"], "api_key": "x", "wire_api": "completions"},
    streaming=True,
)
aborts = []
session.on("abort", lambda event: aborts.append(event.data.reason))
print(json.dumps({"executable": sys.executable, "loop_running": asyncio.get_running_loop().is_running(), "cli_pid": client.pid}))
"""

BLOCKING = {
    "send_and_wait": "session.send_and_wait({prompt!r}, timeout=50)",
    "stream": "for event in session.stream({prompt!r}, timeout=50):\n    pass",
}


def test_kernel_interrupt_aborts_the_turn_and_the_session_stays_usable(cli_env, real_cli, model):
    """Jupyter's "interrupt kernel" (SIGINT to the kernel) while a cell waits in
    send_and_wait, then in a stream loop: KeyboardInterrupt at once, the turn is aborted,
    and the next cell on the same session gets its reply."""
    km = VenvKernelManager()
    km.shutdown_wait_time = 5.0
    kc = None
    probe = None
    try:
        km.start_kernel(env=_kernel_env(cli_env, real_cli, model))
        kc = km.blocking_client()
        kc.start_channels()
        kc.wait_for_ready(timeout=WAIT)
        probe = json.loads(_Cell(kc, SETUP).ok().stdout)
        assert os.path.realpath(probe["executable"]) == os.path.realpath(sys.executable)
        assert probe["loop_running"] is True  # the SDK works inside the kernel's running event loop

        for round_number, mode in enumerate(BLOCKING, start=1):
            model.add_reply("never delivered", delay=25)
            cell = _Cell(kc, BLOCKING[mode].format(prompt=f"slow {mode}"))
            model.wait_for_requests(2 * round_number - 1, timeout=WAIT)  # the turn is under way
            time.sleep(0.2)  # and the cell is waiting on it
            interrupted_at = time.monotonic()
            km.interrupt_kernel()
            cell.wait(timeout=15)
            elapsed = time.monotonic() - interrupted_at
            assert cell.error == "KeyboardInterrupt", (mode, cell.status, cell.traceback)
            assert elapsed < 5.0, f"{mode}: the interrupt took {elapsed:.1f}s to end the cell"

            model.add_reply(f"after the {mode} interrupt")
            after = _Cell(kc, "session.send_and_wait('again', timeout=30).data.content").ok()
            assert after.result == {"text/plain": repr(f"after the {mode} interrupt")}
            assert _Cell(kc, "aborts").ok().result == {
                "text/plain": repr(["user_initiated"] * round_number)
            }

        assert _Cell(kc, "session.disconnect(); client.stop()").ok().result == {"text/plain": "[]"}
    finally:
        if kc is not None:
            kc.stop_channels()
        if km.has_kernel:
            km.shutdown_kernel(now=False)
    assert not km.is_alive()
    _assert_process_gone(probe["cli_pid"])  # client.stop() ended it; so would the kernel's exit


def test_the_sdk_never_uses_asyncio():
    """Nothing in the package imports asyncio, so it cannot touch (or fight) a running loop."""
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if re.search(
            r"^\s*(import|from)\s+asyncio\b|__import__\(.asyncio|import_module\(.asyncio",
            path.read_text(),
            re.MULTILINE,
        )
    ]
    assert offenders == []
