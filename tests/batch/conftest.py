"""Helpers for the batch tests: a fake CLI, reading a results file strictly."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal

import pytest

from copilot_sync.testing import FakeCLI, Scenario


@pytest.fixture
def fake():
    with FakeCLI(Scenario()) as fake_cli:
        yield fake_cli


def read_jsonl(path) -> list[dict]:
    """Every line of ``path``, each of which must be a complete JSON object (valid JSONL)."""
    data = open(path, "rb").read()
    assert data == b"" or data.endswith(b"\n"), "the file must end with a whole line"
    return [json.loads(line) for line in data.splitlines()]


def assert_exactly_once(path, ids) -> list[dict]:
    """The file holds one record per id, no more, no fewer."""
    records = read_jsonl(path)
    seen = [r["id"] for r in records]
    assert len(seen) == len(set(seen)), "an item was recorded twice"
    assert set(seen) == set(ids)
    return records


def sends(fake) -> int:
    return sum(1 for m in fake.received if m.get("method") == "session.send")


def kill_a_pool_worker() -> int:
    """SIGKILL one live child process started by multiprocessing (a ProcessPool worker)."""
    children = [p for p in multiprocessing.active_children() if p.pid is not None]
    assert children, "no worker process to kill"
    os.kill(children[0].pid, signal.SIGKILL)
    return children[0].pid
