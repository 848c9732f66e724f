"""The fenced ``python`` blocks of README.md and docs/**/*.md, for the snippet tests.

A block preceded (blank lines aside) by ``<!-- snippet: skip reason="..." -->`` is not run
nor type-checked; the tests report it as skipped, with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))

_FENCE = re.compile(r"^```(\w*)\s*$")
_SKIP = re.compile(r'^<!--\s*snippet:\s*skip\s+reason="([^"]+)"\s*-->\s*$')


@dataclass(frozen=True)
class Snippet:
    source: Path
    line: int  # 1-based line of the opening fence
    code: str
    skip_reason: str | None

    @property
    def id(self) -> str:
        return f"{self.source.relative_to(ROOT)}:{self.line}"

    @property
    def module_name(self) -> str:
        stem = re.sub(r"\W", "_", str(self.source.relative_to(ROOT).with_suffix("")))
        return f"snippet_{stem}_{self.line}".lower()


def extract(path: Path) -> list[Snippet]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Snippet] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        language, start = match.group(1), i
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].rstrip() != "```":
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        if language != "python":
            continue
        reason = None
        j = start - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        if j >= 0 and (skip := _SKIP.match(lines[j].strip())):
            reason = skip.group(1)
        found.append(Snippet(path, start + 1, "\n".join(body) + "\n", reason))
    return found


def all_snippets() -> list[Snippet]:
    return [snippet for source in SOURCES for snippet in extract(source)]


#: Run before every block, in the block's own process: sessions created without a
#: ``provider`` (or with the README's placeholder endpoint) are pointed at a scripted model
#: server started here, so that blocks written for GitHub Copilot run offline unchanged.
PRELUDE = """
import os, runpy, sys

from copilot_sync import CopilotClient
from copilot_sync.testing import Reply, ScriptedModelServer


def _answer(request):
    return Reply(text="A scripted reply to: " + request.last_user_message[:80])


_server = ScriptedModelServer(responder=_answer)
_server.start()


def _offline(options):
    provider = options.get("provider")
    placeholder = provider is not None and ":8000" in str(provider.get("base_url", ""))
    if (provider is None and "providers" not in options) or placeholder:
        options["provider"] = _server.provider()
        options["model"] = _server.model
    return options


_create, _resume = CopilotClient.create_session, CopilotClient.resume_session
CopilotClient.create_session = lambda self, *a, **kw: _create(self, *a, **_offline(kw))
CopilotClient.resume_session = lambda self, *a, **kw: _resume(self, *a, **_offline(kw))

sys.argv = [sys.argv[1]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""
