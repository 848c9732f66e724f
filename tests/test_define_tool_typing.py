"""``define_tool`` keeps the decorated function's signature: mypy --strict and pyright see
``Tool[(a: int, b: int), int]`` and a direct call returns the function's type."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from copilot_sync import Tool, define_tool

from .checkers import checker, run_checker

SNIPPET = textwrap.dedent(
    """\
    from typing import Any

    from copilot_sync import Tool, define_tool


    @define_tool
    def add(a: int, b: int) -> int:
        return a + b


    @define_tool(name="mul", description="multiply")
    def mul(a: int, b: int = 2) -> int:
        return a * b


    def _div(a: float, b: float) -> float:
        return a / b


    div = define_tool("div", handler=_div)
    reveal_type(add)
    reveal_type(add(1, 2))
    reveal_type(mul)
    reveal_type(mul(3))
    reveal_type(div(1.0, 2.0))
    any_tool: Tool = add
    raw: Tool[..., Any] = Tool(name="raw")
    add("one", 2)  # the only error: a str where an int goes
    """
)


@pytest.fixture
def snippet(tmp_path: Path) -> Path:
    (tmp_path / "snippet.py").write_text(SNIPPET)
    return tmp_path


def test_mypy_strict_sees_the_signature(snippet: Path) -> None:
    out = run_checker(
        [checker("mypy"), "--strict", "--no-incremental", "--cache-dir", "/dev/null", "snippet.py"],
        snippet,
    )
    revealed = [
        line.split("Revealed type is ", 1)[1]
        for line in out.splitlines()
        if "Revealed type" in line
    ]
    assert revealed == [
        '"copilot_sync._requests.tools.Tool[[a: int, b: int], int]"',
        '"int"',
        '"copilot_sync._requests.tools.Tool[[a: int, b: int =], int]"',
        '"int"',
        '"float"',
    ], out
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 1 and "snippet.py:28:" in errors[0] and '"str"' in errors[0], out


def test_pyright_sees_the_signature(snippet: Path) -> None:
    out = run_checker(
        [checker("pyright"), "--pythonpath", sys.executable, "snippet.py"],
        snippet,
    )
    revealed = [
        line.split(" is ", 1)[1] for line in out.splitlines() if "information: Type of" in line
    ]
    assert revealed == [
        '"Tool[(a: int, b: int), int]"',
        '"int"',
        '"Tool[(a: int, b: int = 2), int]"',
        '"int"',
        '"float"',
    ], out
    errors = [line for line in out.splitlines() if " - error:" in line]
    assert len(errors) == 1 and "snippet.py:28:" in errors[0], out


def test_direct_call_runs_the_function() -> None:
    @define_tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    assert isinstance(add, Tool)
    assert add(1, 2) == 3
    assert add.name == "add"
    assert add.description == "Add two numbers."
    assert add.function is not None


def test_decorator_with_options_and_handler_form_call_directly() -> None:
    @define_tool(name="mul", description="multiply")
    def mul(a: int, b: int = 2) -> int:
        return a * b

    def _div(a: float, b: float) -> float:
        return a / b

    div = define_tool("div", handler=_div)
    assert mul(3) == 6
    assert div(1.0, 4.0) == 0.25
    assert (mul.name, div.name) == ("mul", "div")
